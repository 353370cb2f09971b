DROP TABLE IF EXISTS idsync_quarantine;
DROP TABLE IF EXISTS idsync_state;
DROP TABLE IF EXISTS idsync_entries;
