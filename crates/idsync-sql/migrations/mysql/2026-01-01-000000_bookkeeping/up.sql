-- idsync bookkeeping (MySQL/MariaDB): entry id <-> application row, cookie, quarantine.
CREATE TABLE IF NOT EXISTS idsync_entries (
    scope VARCHAR(64) NOT NULL,
    entry_id VARCHAR(36) NOT NULL,
    kind VARCHAR(8) NOT NULL,
    row_key BIGINT NULL,
    state VARCHAR(8) NOT NULL DEFAULT 'live',
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, entry_id),
    KEY idsync_entries_row (scope, kind, row_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS idsync_state (
    scope VARCHAR(64) NOT NULL PRIMARY KEY,
    cookie LONGBLOB NULL,
    fingerprint TEXT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS idsync_quarantine (
    scope VARCHAR(64) NOT NULL,
    entry_id VARCHAR(36) NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, entry_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
