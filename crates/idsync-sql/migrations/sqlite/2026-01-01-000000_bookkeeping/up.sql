-- idsync bookkeeping (SQLite): entry id <-> application row, cookie, quarantine.
CREATE TABLE IF NOT EXISTS idsync_entries (
    scope TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    row_key INTEGER,
    state TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'gone')),
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, entry_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idsync_entries_row ON idsync_entries (scope, kind, row_key);

CREATE TABLE IF NOT EXISTS idsync_state (
    scope TEXT NOT NULL PRIMARY KEY,
    cookie BLOB,
    fingerprint TEXT,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS idsync_quarantine (
    scope TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, entry_id)
);
