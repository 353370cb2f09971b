//! idsync-testkit: what the integration tests share.
//!
//! * [`paths`]: the workspace, the built `idsync` binary and plugin libraries;
//! * [`runner`]: an `idsync` child process that is killed when dropped;
//! * [`sqlite`]: reading a SQLite database the way a test checks it;
//! * [`servers`]: whether a missing server is a skip (locally) or a failure (CI);
//! * [`slapd`]: a real, private OpenLDAP slapd in a temp dir, and a synthetic directory (LDIF);
//! * [`ds389`]: a real, private 389 Directory Server (FreeIPA's) cloned from a cached golden;
//! * [`tls`]: a throw-away test PKI (CA, server and client certificates, an untrusted CA);
//! * [`postgres`], [`mariadb`]: real, private database servers in temp dirs on free ports
//!   (golden data directories copied per instance), [`sql_client`] to run SQL on them;
//! * [`mediawiki`]: a real MediaWiki 1.39 installed on SQLite, MariaDB or PostgreSQL, and a
//!   checker that asks MediaWiki's own code what it sees;
//! * [`error`]: [`ServerError`], what starting or using a server can fail with.
//!
//! Every server is private: started in a temp dir on a free loopback port, stopped and reaped
//! on drop; the system's own instances are never touched. Server (and runner) processes also
//! die with the test process when it is killed and no drop runs (a parent-death signal; the
//! next start removes the instance directories such a process left behind).

pub mod compliance;
mod daemon;
pub mod ds389;
pub mod error;
mod golden;
mod lifeline;
pub mod mariadb;
pub mod mediawiki;
pub mod paths;
pub mod postgres;
pub mod runner;
pub mod servers;
pub mod sink_bench;
pub mod slapd;
pub mod sql_client;
pub mod sqlite;
mod stale;
pub mod tls;

pub use ds389::Ds389;
pub use error::ServerError;
pub use mariadb::MariaDb;
pub use paths::{idsync_bin, plugin_dir, workspace_root};
pub use postgres::Postgres;
pub use runner::{RunOutput, RunnerProcess};
pub use slapd::Slapd;
pub use sqlite::Sqlite;
