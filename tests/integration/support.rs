//! Helpers shared by the integration tests: a workspace in a temp dir with a directory file,
//! a config and a SQLite database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use idsync_testkit::runner::{self, RunOutput};
use idsync_testkit::Sqlite;
use tempfile::TempDir;

/// Generous upper bound for anything the runner should do "within moments".
pub const SETTLE: Duration = Duration::from_secs(15);

/// A temp dir holding `directory.yaml`, `idsync.toml` and `app.db`.
pub struct Workspace {
    pub dir: TempDir,
}

impl Workspace {
    pub fn new(directory_yaml: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("idsync-e2e-")
            .tempdir()
            .unwrap();
        let workspace = Self { dir };
        workspace.write_directory(directory_yaml);
        workspace.write_config("");
        workspace
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("idsync.toml")
    }

    pub fn db(&self) -> Sqlite {
        Sqlite::new(self.path().join("app.db"))
    }

    /// Replaces the directory file atomically (like an editor that writes a temp file and
    /// renames it).
    pub fn write_directory(&self, yaml: &str) {
        let tmp = self.path().join(".directory.yaml.tmp");
        std::fs::write(&tmp, yaml).unwrap();
        std::fs::rename(&tmp, self.path().join("directory.yaml")).unwrap();
    }

    /// Writes the standard config; `extra` is appended (e.g. a `[sync]` section).
    pub fn write_config(&self, extra: &str) {
        std::fs::write(self.config_path(), format!("{}{extra}", standard_config())).unwrap();
    }

    pub fn write_raw_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> RunOutput {
        runner::run(args, self.path())
    }

    pub fn sync_once(&self) -> RunOutput {
        let out = self.run(&["sync", "--once", "--config", "idsync.toml"]);
        assert_eq!(out.code, Some(0), "sync --once failed:\n{}", out.stderr);
        out
    }

    /// (username, display_name, email, active) of every user, sorted by name.
    pub fn users(&self) -> Vec<(String, String, String, String)> {
        self.db()
            .query("select username, display_name, email, active from users order by username")
            .into_iter()
            .map(|row| {
                let text = |i: usize| row[i].clone().unwrap_or_else(|| "NULL".into());
                (text(0), text(1), text(2), text(3))
            })
            .collect()
    }

    /// Member names of a group, sorted.
    pub fn members(&self, group: &str) -> Vec<String> {
        self.db().column(&format!(
            "select u.username from group_members m join users u on u.id = m.user_id \
             join groups g on g.id = m.group_id where g.name = '{group}' order by u.username"
        ))
    }

    pub fn try_members(&self, group: &str) -> Option<Vec<String>> {
        self.db()
            .try_query(&format!(
                "select u.username from group_members m join users u on u.id = m.user_id \
                 join groups g on g.id = m.group_id where g.name = '{group}' order by u.username"
            ))
            .ok()
            .map(|rows| {
                rows.into_iter()
                    .map(|r| r[0].clone().unwrap_or_default())
                    .collect()
            })
    }
}

pub fn standard_config() -> &'static str {
    r#"[source]
type = "dummy"
path = "directory.yaml"

[sink]
plugin = "sql"
url = "sqlite://app.db"
create_tables = true

[sink.users]
table = "users"
key = "id"
disable = { column = "active", disabled_value = "0", enabled_value = "1" }

[sink.users.columns]
username = "name"
display_name = "displayName"
email = "mail"

[sink.groups]
table = "groups"
key = "id"

[sink.groups.columns]
name = "name"
description = "description"

[sink.memberships]
table = "group_members"
group = "group_id"
member = "user_id"
mode = "effective"
"#
}

/// The directory most tests start from.
pub const BASE: &str = r#"
users:
  - name: alice
    id: 00000000-0000-4000-8000-000000000001
    attributes: { displayName: Alice, mail: alice@example.org }
  - name: bob
    id: 00000000-0000-4000-8000-000000000002
    attributes: { displayName: Bob, mail: bob@example.org }
  - name: carol
    id: 00000000-0000-4000-8000-000000000003
    attributes: { displayName: Carol, mail: carol@example.org }
groups:
  - name: staff
    id: 00000000-0000-4000-8000-000000000010
    description: Staff
    members: [alice, bob]
"#;

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
