//! Tests of the SQL sink against real SQLite files in temporary directories.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod apply;
mod config;
mod members;

use std::collections::BTreeMap;
use std::path::Path;

use idsync_core::{
    ApplyOptions, ApplyReport, Batch, Entry, EntryId, EntryKind, GroupMembers, Sink, SyncPolicy,
};
use idsync_sql::{ConnectOptions, Database, DatabaseUrl, ReadAs, Statement, Value};
use uuid::Uuid;

use crate::{SqlSink, SqlSinkConfig};

/// The application schema used by most tests, with triggers counting every write.
pub const SCHEMA: &str = "
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(8) NOT NULL UNIQUE,
    display_name TEXT,
    email TEXT,
    uid_number INTEGER,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT
);
CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE write_log (tbl TEXT NOT NULL, op TEXT NOT NULL);
CREATE TRIGGER users_i AFTER INSERT ON users BEGIN INSERT INTO write_log VALUES ('users', 'insert'); END;
CREATE TRIGGER users_u AFTER UPDATE ON users BEGIN INSERT INTO write_log VALUES ('users', 'update'); END;
CREATE TRIGGER users_d AFTER DELETE ON users BEGIN INSERT INTO write_log VALUES ('users', 'delete'); END;
CREATE TRIGGER groups_i AFTER INSERT ON groups BEGIN INSERT INTO write_log VALUES ('groups', 'insert'); END;
CREATE TRIGGER groups_u AFTER UPDATE ON groups BEGIN INSERT INTO write_log VALUES ('groups', 'update'); END;
CREATE TRIGGER members_i AFTER INSERT ON group_members BEGIN INSERT INTO write_log VALUES ('members', 'insert'); END;
CREATE TRIGGER members_d AFTER DELETE ON group_members BEGIN INSERT INTO write_log VALUES ('members', 'delete'); END;
";

/// A test database: a temp dir with `app.db`.
pub struct TestDb {
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub fn new(schema: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Self { dir };
        if !schema.is_empty() {
            db.open().session().batch_execute(schema).unwrap();
        }
        db
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("app.db").display())
    }

    pub fn open(&self) -> Database {
        Database::connect(
            &DatabaseUrl::parse(&self.url()).unwrap(),
            &ConnectOptions::default(),
        )
        .unwrap()
    }

    pub fn exec(&self, sql: &str) {
        self.open().session().batch_execute(sql).unwrap();
    }

    /// Rows of a query, every column read as text.
    pub fn rows(&self, sql: &str, columns: usize) -> Vec<Vec<Option<String>>> {
        let shape = vec![ReadAs::Text; columns];
        self.open()
            .session()
            .load(&Statement::raw(sql), &shape)
            .unwrap()
            .into_iter()
            .map(|row| row.into_iter().map(Value::into_text).collect())
            .collect()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.open()
            .session()
            .load(&Statement::raw(sql), &[ReadAs::Int])
            .unwrap()[0][0]
            .as_int()
            .unwrap()
    }

    pub fn writes(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM write_log")
    }
}

pub fn config_json(url: &str) -> serde_json::Value {
    serde_json::json!({
        "url": url,
        "users": {
            "table": "users",
            "key": "id",
            "disable": { "column": "active", "disabled_value": "0", "enabled_value": "1" },
            "columns": {
                "username": "name",
                "display_name": "displayName",
                "email": "mail",
                "uid_number": "uidNumber"
            }
        },
        "groups": {
            "table": "groups",
            "key": "id",
            "columns": { "name": "name", "description": "description" }
        },
        "memberships": { "table": "group_members", "group": "group_id", "member": "user_id" }
    })
}

pub fn config(url: &str) -> SqlSinkConfig {
    serde_json::from_value(config_json(url)).unwrap()
}

pub fn sink_with(config: SqlSinkConfig, policy: SyncPolicy) -> SqlSink {
    let mut sink = SqlSink::new(config).unwrap();
    sink.prepare(&policy).unwrap();
    sink
}

pub fn sink(db: &TestDb) -> SqlSink {
    sink_with(config(&db.url()), SyncPolicy::default())
}

pub fn id(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(n))
}

pub fn user(n: u128, name: &str) -> Entry {
    let mut attrs = BTreeMap::new();
    attrs.insert("displayName".to_owned(), vec![format!("User {name}")]);
    attrs.insert(
        "mail".to_owned(),
        vec![
            format!("{name}@example.org"),
            "second@example.org".to_owned(),
        ],
    );
    Entry {
        id: id(n),
        kind: EntryKind::User,
        locator: format!("uid={name},ou=people,dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs,
        members: Vec::new(),
    }
}

pub fn group(n: u128, name: &str) -> Entry {
    Entry {
        id: id(n),
        kind: EntryKind::Group,
        locator: format!("cn={name},ou=groups,dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs: BTreeMap::new(),
        members: Vec::new(),
    }
}

pub fn upserts(entries: Vec<Entry>) -> Batch {
    Batch {
        upserts: entries,
        ..Batch::default()
    }
}

pub fn members(group: u128, members: &[u128]) -> GroupMembers {
    GroupMembers {
        group: id(group),
        members: members.iter().map(|n| id(*n)).collect(),
    }
}

pub fn apply(sink: &mut SqlSink, batch: &Batch) -> ApplyReport {
    sink.apply(
        batch,
        &ApplyOptions {
            dry_run: false,
            record_changes: true,
        },
    )
    .unwrap()
}

pub fn path_exists(path: &Path) -> bool {
    path.exists()
}
