-- idsync bookkeeping (PostgreSQL): entry id <-> application row, cookie, quarantine.
CREATE TABLE IF NOT EXISTS idsync_entries (
    scope VARCHAR(64) NOT NULL,
    entry_id VARCHAR(36) NOT NULL,
    kind VARCHAR(8) NOT NULL CHECK (kind IN ('user', 'group')),
    row_key BIGINT,
    state VARCHAR(8) NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'gone')),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, entry_id)
);
CREATE INDEX IF NOT EXISTS idsync_entries_row ON idsync_entries (scope, kind, row_key);

CREATE TABLE IF NOT EXISTS idsync_state (
    scope VARCHAR(64) NOT NULL PRIMARY KEY,
    cookie BYTEA,
    fingerprint TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS idsync_quarantine (
    scope VARCHAR(64) NOT NULL,
    entry_id VARCHAR(36) NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, entry_id)
);
