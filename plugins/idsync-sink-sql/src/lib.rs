//! idsync-sink-sql: the generic SQL sink (`plugin = "sql"`).
//!
//! Writes users, groups and memberships into any SQL schema (SQLite, PostgreSQL,
//! MySQL/MariaDB) described by the configuration, in one transaction per batch with the
//! cookie. Usable in-process ([`SqlSink`] implements [`idsync_core::Sink`]) and as a dynamic
//! plugin (`libidsync_sink_sql.so`).
//!
//! * [`config`]: the `[sink]` table and its pure validation;
//! * [`schema`]: configured tables resolved against the database, verified, or created;
//! * [`values`]: entry values fitted to column types, and compared;
//! * `upsert`, `removal`, `members`: the three parts of a batch;
//! * [`sink`]: [`SqlSink`] and the transaction around each batch.

pub mod config;
mod context;
pub mod error;
mod members;
mod plugin;
mod removal;
pub mod schema;
pub mod sink;
mod upsert;
pub mod values;

pub use config::{
    ConfigErrors, ConfigProblem, DisableConfig, DisableFlag, MembershipConfig, SqlSinkConfig,
    TableConfig,
};
pub use error::SqlSinkError;
pub use sink::SqlSink;

#[cfg(test)]
mod tests;

/// mimalloc for the plugin library: a large sync allocates many small values, and glibc's
/// allocator took a fifth of the time. The library's own allocator is safe across the plugin
/// boundary: only abi_stable types cross it, and they carry their deallocator with them.
/// (Not in this crate's unit tests, which share a binary with the test harness.)
#[cfg(not(test))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
