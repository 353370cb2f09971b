//! A real MediaWiki 1.39 (Debian's `mediawiki` package) installed by its own installer into
//! a temp dir, and questions answered by MediaWiki's own PHP code (`tests/php/check.php`).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use idsync_core::{Entry, EntryId, EntryKind, GroupMembers};
use serde_json::Value as Json;
use tempfile::TempDir;
use uuid::Uuid;

/// Where Debian installs MediaWiki.
pub const MW_DIR: &str = "/usr/share/mediawiki";

/// True when MediaWiki and PHP are installed; otherwise the test is skipped, or fails when
/// `IDSYNC_REQUIRE_SERVERS=1`.
pub fn available() -> bool {
    let ok = Path::new(MW_DIR).join("maintenance/install.php").exists()
        && Command::new("php")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("IDSYNC_REQUIRE_SERVERS").as_deref() == Ok("1") {
        panic!("MediaWiki (/usr/share/mediawiki) or php is missing and IDSYNC_REQUIRE_SERVERS=1");
    }
    if !ok {
        eprintln!("skipped: MediaWiki or php is not installed");
    }
    ok
}

/// A wiki on SQLite in a temp dir.
pub struct SqliteWiki {
    pub dir: TempDir,
    pub prefix: String,
}

impl SqliteWiki {
    /// Runs `php maintenance/install.php` (SQLite) with this table prefix.
    pub fn install(prefix: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        let output = Command::new("php")
            .current_dir(MW_DIR)
            .args(["maintenance/install.php", "--dbtype", "sqlite", "--dbpath"])
            .arg(dir.path().join("data"))
            .args(["--dbname", "wiki", "--dbprefix", prefix, "--confpath"])
            .arg(dir.path())
            .args([
                "--server",
                "http://localhost",
                "--scriptpath",
                "/w",
                "--pass",
                "AdminPassw0rd!2024",
                "--skins=",
                "TestWiki",
                "Admin",
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "install.php failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Self {
            dir,
            prefix: prefix.to_owned(),
        }
    }

    /// The SQLite database file.
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data/wiki.sqlite")
    }

    /// `sqlite:///…`.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.db().display())
    }

    /// `LocalSettings.php`.
    pub fn settings(&self) -> PathBuf {
        self.dir.path().join("LocalSettings.php")
    }

    /// Runs SQL on the wiki database (for test set-up).
    pub fn sql(&self, sql: &str) {
        let conn = rusqlite_like::open(&self.db());
        conn(sql);
    }

    /// What MediaWiki's own code says about these user names.
    pub fn users(&self, names: &[&str]) -> BTreeMap<String, Option<Json>> {
        let json = check(&self.settings(), "users", names);
        let map = json.as_object().cloned().unwrap_or_default();
        map.into_iter()
            .map(|(name, value)| (name, (!value.is_null()).then_some(value)))
            .collect()
    }

    /// One user, as MediaWiki loads it by name (`None`: no such user).
    pub fn user(&self, name: &str) -> Option<Json> {
        self.users(&[name]).remove(name).flatten()
    }

    /// `UserNameUtils::getCanonical( $name, 'creatable' )` for each name.
    pub fn canonical(&self, names: &[&str]) -> Vec<Option<String>> {
        let json = check(&self.settings(), "canon", names);
        json.as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_str().map(str::to_owned))
            .collect()
    }
}

/// Runs `tests/php/check.php` through MediaWiki's maintenance framework.
pub fn check(settings: &Path, mode: &str, names: &[&str]) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/php/check.php");
    let output = Command::new("php")
        .env("MW_INSTALL_PATH", MW_DIR)
        .arg(script)
        .arg("--conf")
        .arg(settings)
        .arg(mode)
        .arg(serde_json::to_string(names).unwrap())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "check.php failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

/// Tiny SQL access for set-up, through the sqlite3 command-line-free path: diesel via the
/// plugin's own toolkit.
mod rusqlite_like {
    use std::path::Path;

    use idsync_sql::{ConnectOptions, Database, DatabaseUrl};

    pub fn open(path: &Path) -> impl Fn(&str) {
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        move |sql: &str| {
            let mut db = Database::connect(&url, &ConnectOptions::default()).unwrap();
            db.session().batch_execute(sql).unwrap();
        }
    }
}

/// A deterministic entry id.
pub fn id(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(
        0x3d00_0000_0000_4000_8000_0000_0000_0000 | n,
    ))
}

/// A user entry.
pub fn user(n: u128, name: &str) -> Entry {
    Entry {
        id: id(n),
        kind: EntryKind::User,
        locator: format!("uid={name},ou=people,dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs: BTreeMap::from([
            ("displayName".to_owned(), vec![format!("{name} Person")]),
            ("mail".to_owned(), vec![format!("{name}@example.org")]),
        ]),
        members: Vec::new(),
    }
}

/// A group entry.
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

/// A complete member set.
pub fn members(group: u128, users: &[u128]) -> GroupMembers {
    let mut members: Vec<EntryId> = users.iter().map(|n| id(*n)).collect();
    members.sort();
    GroupMembers {
        group: id(group),
        members,
    }
}
