//! idsync-sql: the diesel toolkit shared by idsync's SQL sinks.
//!
//! * [`database_url`]: URLs for SQLite, PostgreSQL and MySQL/MariaDB, passwords kept secret;
//! * [`connection`]: [`AnyConnection`] (a diesel `MultiConnection`), [`Database`] and
//!   [`Session`], where [`Statement`]s run;
//! * [`dialect`]: quoting, placeholders, upserts, `RETURNING`, casts and DDL type names;
//! * [`ident`]: identifiers from configuration, validated once;
//! * [`statement`]: dynamic statements whose values are always bound parameters;
//! * [`batching`]: multi-row `INSERT` and chunked `IN (…)` within each backend's bind limit;
//! * [`bookkeeping`]: the `idsync_*` tables (id mappings, cookie, quarantine), their
//!   migrations and an in-memory mapping index with transactional undo;
//! * [`introspect`]: the columns of an application table, for schema verification;
//! * [`error`]: [`SqlError`] and its mapping onto `idsync_core::SinkErrorKind`;
//! * [`transaction`]: one round trip per `BEGIN`/`COMMIT` on MySQL/MariaDB;
//! * [`apply`]: what every sink's `apply` shares: [`Abort`] (dry run or failure) and
//!   [`diff_sorted`] (the merge-diff of sorted member keys).

pub mod any_connection;
pub mod apply;
pub mod batching;
pub mod bookkeeping;
pub mod connection;
pub mod database_url;
pub mod dialect;
pub mod error;
pub mod ident;
pub mod introspect;
pub mod mapping_index;
pub mod migrations;
pub mod statement;
pub mod transaction;

pub use apply::{diff_sorted, Abort};
pub use batching::{
    in_chunk_size, in_list_statements, in_statements, rows_per_statement, MultiInsert,
};
pub use bookkeeping::{Bookkeeping, Mapping, MappingState, QuarantineRecord};
pub use connection::{AnyConnection, ConnectOptions, Database, Session};
pub use database_url::{Backend, DatabaseUrl, PasswordSource, Secret};
pub use dialect::{ColumnType, Dialect};
pub use error::SqlError;
pub use ident::{Ident, TableName};
pub use introspect::{table_columns, ColumnInfo, TypeClass};
pub use mapping_index::MappingIndex;
pub use migrations::run_migrations;
pub use statement::{ReadAs, SqlBuilder, Statement, Value};

#[cfg(test)]
mod tests;
