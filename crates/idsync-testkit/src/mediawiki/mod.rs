//! A real MediaWiki 1.39 (Debian's `mediawiki` package) installed for a test, and a checker
//! that asks MediaWiki's own PHP code what it sees.
//!
//! [`MediaWiki::install`] runs the wiki's real installer (`maintenance/install.php`, as
//! `../shared/servers/apps.md` §1.1 describes) on SQLite, or on a kit [`MariaDb`] or
//! [`Postgres`] server (PostgreSQL: schema `mediawiki`), with an optional table prefix
//! (MariaDB: the installer's `--dbprefix`; SQLite: the installer ignores prefixes, so the kit
//! renames the tables and sets `$wgDBprefix`, which MediaWiki honours; PostgreSQL: MediaWiki
//! refuses prefixes, and so does the kit).
//! Installing takes about a second, so each (backend, prefix) is installed once per machine
//! into a golden template (see [`crate::golden`]: the SQLite files, or a `pg_dump` /
//! `mariadb-dump` of the installed database) and each wiki is a copy: new files, or a new
//! database `wiki_N` restored from the dump, with `LocalSettings.php` pointed at it.
//!
//! The wiki has the installer's users 1 `Admin` (bureaucrat, interface-admin, sysop) and 2
//! `MediaWiki default` (a system user). Its database user is [`DB_USER`]/[`DB_PASSWORD`]
//! (the application's own account, as a sink would be configured), and
//! [`MediaWiki::url`] is the sink URL.
//!
//! The checker (`tests/php/mw-check.php`, a MediaWiki maintenance script) reports users
//! through `User`, `UserGroupManager`, `BlockManager` and `UserNameUtils`: see
//! [`MediaWiki::check_user`], [`MediaWiki::check_all`], [`MediaWiki::canonical_name`].
//!
//! ```no_run
//! use idsync_testkit::mediawiki::{MediaWiki, MwBackend};
//!
//! # fn main() -> Result<(), idsync_testkit::ServerError> {
//! let wiki = MediaWiki::install(MwBackend::Sqlite, Some("mw_"))?;
//! let admin = wiki.check_user("Admin")?;
//! assert!(admin.exists && admin.groups.contains(&"sysop".to_owned()));
//! # Ok(())
//! # }
//! ```

mod check;
mod install;

use std::path::{Path, PathBuf};

use tempfile::TempDir;

pub use check::{MwBlock, MwName, MwUser};

use crate::error::ServerError;
use crate::mariadb::MariaDb;
use crate::postgres::Postgres;
use crate::sql_client::{Rows, SqlClient};

/// The wiki's database account (created by the installer on MariaDB and PostgreSQL).
pub const DB_USER: &str = "wikiuser";
/// [`DB_USER`]'s password.
pub const DB_PASSWORD: &str = "wikipass";
/// The installer's administrator account.
pub const ADMIN: &str = "Admin";
/// [`ADMIN`]'s password.
pub const ADMIN_PASSWORD: &str = "AdminPassw0rd!2024";
/// The PostgreSQL schema holding the wiki's tables.
pub const PG_SCHEMA: &str = "mediawiki";

/// Where a wiki keeps its data.
#[derive(Clone, Copy, Debug)]
pub enum MwBackend<'a> {
    /// A SQLite file in the wiki's temp dir.
    Sqlite,
    /// A new database on this MariaDB server.
    MariaDb(&'a MariaDb),
    /// A new database (schema `mediawiki`) on this PostgreSQL server.
    Postgres(&'a Postgres),
}

/// The kind of a backend, without the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MwKind {
    /// SQLite.
    Sqlite,
    /// MariaDB (MediaWiki's `mysql`).
    MariaDb,
    /// PostgreSQL.
    Postgres,
}

impl MwKind {
    /// Every kind.
    pub const ALL: [MwKind; 3] = [MwKind::Sqlite, MwKind::MariaDb, MwKind::Postgres];

    /// MediaWiki's `--dbtype`: `sqlite`, `mysql` or `postgres`.
    pub fn dbtype(self) -> &'static str {
        match self {
            MwKind::Sqlite => "sqlite",
            MwKind::MariaDb => "mysql",
            MwKind::Postgres => "postgres",
        }
    }
}

impl MwBackend<'_> {
    /// The kind of this backend.
    pub fn kind(&self) -> MwKind {
        match self {
            MwBackend::Sqlite => MwKind::Sqlite,
            MwBackend::MariaDb(_) => MwKind::MariaDb,
            MwBackend::Postgres(_) => MwKind::Postgres,
        }
    }
}

/// A server a wiki owns (see [`MediaWiki::install_with_own_server`]).
#[derive(Debug)]
enum OwnedServer {
    MariaDb(MariaDb),
    Postgres(Postgres),
}

/// An installed wiki in a temp dir (removed on drop; on a server, its database stays until
/// the server goes).
#[derive(Debug)]
pub struct MediaWiki {
    kind: MwKind,
    url: String,
    prefix: String,
    database: String,
    local_settings: PathBuf,
    sql: SqlClient,
    /// Declared before `server`: the files go first, then the server.
    dir: TempDir,
    server: Option<OwnedServer>,
}

impl MediaWiki {
    /// `Ok` when PHP, MediaWiki 1.39 and the PHP database drivers are installed, otherwise
    /// what is missing.
    pub fn available() -> Result<(), String> {
        install::available()
    }

    /// Installs a new wiki on `backend`, its tables named with `prefix` (none by default; a
    /// prefix on PostgreSQL is an error, as MediaWiki does not support it there).
    pub fn install(backend: MwBackend<'_>, prefix: Option<&str>) -> Result<Self, ServerError> {
        install::install(backend, prefix.unwrap_or(""))
    }

    /// Starts a private server of `kind` (none for SQLite) that the wiki owns, and installs
    /// the wiki on it: for tests that want one value holding both.
    pub fn install_with_own_server(
        kind: MwKind,
        prefix: Option<&str>,
    ) -> Result<Self, ServerError> {
        match kind {
            MwKind::Sqlite => Self::install(MwBackend::Sqlite, prefix),
            MwKind::MariaDb => {
                let server = MariaDb::start()?;
                let mut wiki = Self::install(MwBackend::MariaDb(&server), prefix)?;
                wiki.server = Some(OwnedServer::MariaDb(server));
                Ok(wiki)
            }
            MwKind::Postgres => {
                let server = Postgres::start()?;
                let mut wiki = Self::install(MwBackend::Postgres(&server), prefix)?;
                wiki.server = Some(OwnedServer::Postgres(server));
                Ok(wiki)
            }
        }
    }

    /// The MariaDB server the wiki owns ([`MediaWiki::install_with_own_server`]).
    pub fn own_mariadb(&self) -> Option<&MariaDb> {
        match &self.server {
            Some(OwnedServer::MariaDb(server)) => Some(server),
            _ => None,
        }
    }

    /// The PostgreSQL server the wiki owns ([`MediaWiki::install_with_own_server`]).
    pub fn own_postgres(&self) -> Option<&Postgres> {
        match &self.server {
            Some(OwnedServer::Postgres(server)) => Some(server),
            _ => None,
        }
    }

    /// The sink URL: `sqlite:///DIR/data/wiki.sqlite`,
    /// `mysql://wikiuser:wikipass@127.0.0.1:PORT/wiki_N` or
    /// `postgres://wikiuser:wikipass@127.0.0.1:PORT/wiki_N` (tables in schema [`PG_SCHEMA`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend kind.
    pub fn kind(&self) -> MwKind {
        self.kind
    }

    /// The table prefix (`$wgDBprefix`; empty for none).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The schema holding the tables: `Some("mediawiki")` on PostgreSQL, None elsewhere.
    pub fn schema(&self) -> Option<&str> {
        (self.kind == MwKind::Postgres).then_some(PG_SCHEMA)
    }

    /// The database name (`wiki_N` on a server; `wiki` for SQLite).
    pub fn database(&self) -> &str {
        &self.database
    }

    /// A table's name as SQL for this wiki: prefixed, schema-qualified on PostgreSQL, quoted
    /// (`"mediawiki"."mw_user"`, `` `mw_user` ``, `"mw_user"`).
    pub fn table(&self, name: &str) -> String {
        let table = format!("{}{name}", self.prefix);
        match self.kind {
            MwKind::Postgres => format!("\"{PG_SCHEMA}\".\"{table}\""),
            MwKind::MariaDb => format!("`{table}`"),
            MwKind::Sqlite => format!("\"{table}\""),
        }
    }

    /// The wiki's `LocalSettings.php`.
    pub fn local_settings(&self) -> &Path {
        &self.local_settings
    }

    /// The wiki's temp dir (`LocalSettings.php`; `data/` with the SQLite files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite database file, for SQLite wikis.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (self.kind == MwKind::Sqlite).then(|| self.dir.path().join("data").join("wiki.sqlite"))
    }

    /// Runs SQL in the wiki's database as the server's superuser (use [`MediaWiki::table`]
    /// for table names).
    pub fn execute(&self, sql: &str) -> Result<(), ServerError> {
        self.sql.execute(Some(&self.database), sql)
    }

    /// Runs one query in the wiki's database; every value as text (NULL → None).
    pub fn query(&self, sql: &str) -> Result<Rows, ServerError> {
        self.sql.query(Some(&self.database), sql)
    }

    /// Runs a MediaWiki maintenance script (`/usr/share/mediawiki/maintenance/NAME.php`) on
    /// this wiki with `args`; returns its stdout.
    pub fn maintenance(&self, script: &str, args: &[&str]) -> Result<String, ServerError> {
        check::maintenance(self, script, args)
    }

    /// What MediaWiki knows about the user `name` (looked up with `User::newFromName`, so
    /// MediaWiki canonicalises it); `exists` is false for an unknown or invalid name.
    pub fn check_user(&self, name: &str) -> Result<MwUser, ServerError> {
        first(self.check_users(&[name])?, "users")
    }

    /// [`MediaWiki::check_user`] for many names in one PHP process.
    pub fn check_users(&self, names: &[&str]) -> Result<Vec<MwUser>, ServerError> {
        check::run(self, "users", &names)
    }

    /// What MediaWiki knows about the user with this id (`User::newFromId`).
    pub fn check_user_id(&self, id: u64) -> Result<MwUser, ServerError> {
        first(check::run(self, "ids", &[id])?, "ids")
    }

    /// Every user of the `user` table, by id, as MediaWiki loads them (one PHP process).
    pub fn check_all(&self) -> Result<Vec<MwUser>, ServerError> {
        check::run(self, "all", &())
    }

    /// MediaWiki's canonical form of a user name (`UserNameUtils::getCanonical`, rigor
    /// `valid`), or None when MediaWiki rejects the name.
    pub fn canonical_name(&self, raw: &str) -> Result<Option<String>, ServerError> {
        Ok(first(self.check_names(&[raw])?, "names")?.canonical)
    }

    /// `UserNameUtils`' verdicts on many names in one PHP process.
    pub fn check_names(&self, raw: &[&str]) -> Result<Vec<MwName>, ServerError> {
        check::run(self, "names", &raw)
    }
}

/// The single element of a one-element answer.
fn first<T>(items: Vec<T>, command: &str) -> Result<T, ServerError> {
    items.into_iter().next().ok_or_else(|| ServerError::Output {
        command: format!("mw-check.php {command}"),
        reason: "an empty answer".to_owned(),
    })
}
