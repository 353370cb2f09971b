//! [`AnyConnection`]: one diesel connection type over every supported backend.
//!
//! The `MultiConnection` derive generates further public items here (`MultiBackend`, its
//! raw values, bind collectors, …) without documentation of their own.
#![allow(missing_docs)]

use diesel::{MysqlConnection, PgConnection, SqliteConnection};

/// A connection to any supported backend (one variant per backend).
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// SQLite.
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    Pg(PgConnection),
    /// MySQL or MariaDB.
    Mysql(MysqlConnection),
}
