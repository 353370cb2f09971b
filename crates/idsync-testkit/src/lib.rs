//! idsync-testkit: what the integration tests share.
//!
//! * [`paths`]: the workspace, the built `idsync` binary and plugin libraries;
//! * [`runner`]: an `idsync` child process that is killed when dropped;
//! * [`sqlite`]: reading a SQLite database the way a test checks it;
//! * [`servers`]: whether a missing server is a skip (locally) or a failure (CI).
//!
//! Later issues add real directory and database servers here (slapd, 389-ds, PostgreSQL, …),
//! each started in a temp dir on a free loopback port and stopped on drop.

pub mod paths;
pub mod runner;
pub mod servers;
pub mod sqlite;

pub use paths::{idsync_bin, plugin_dir, workspace_root};
pub use runner::{RunOutput, RunnerProcess};
pub use sqlite::Sqlite;
