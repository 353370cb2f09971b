//! Connections chosen from the URL, and statement execution on them.

use std::time::Duration;

use diesel::backend::Backend as DieselBackend;
use diesel::connection::{LoadConnection, SimpleConnection};
use diesel::deserialize::FromSql;
use diesel::expression::QueryMetadata;
use diesel::query_builder::QueryFragment;
use diesel::row::Row;
use diesel::sql_types::{BigInt, Binary, Nullable, Text, Untyped};
use diesel::{Connection, MysqlConnection, PgConnection, QueryResult, SqliteConnection};
use tracing::debug;

pub use crate::any_connection::AnyConnection;
use crate::database_url::{Backend, DatabaseUrl};
use crate::dialect::Dialect;
use crate::error::SqlError;
use crate::statement::{ReadAs, Statement, Value};
use crate::transaction::MysqlBegin;

/// Tuning for new connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// How long SQLite waits for a lock held by another process before giving up.
    pub busy_timeout: Duration,
    /// SQLite page cache size in KiB (large syncs touch big indexes).
    pub sqlite_cache_kib: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(30),
            sqlite_cache_kib: 64 * 1024,
        }
    }
}

/// Oldest SQLite release with `INSERT … RETURNING`.
const SQLITE_RETURNING: (u32, u32) = (3, 35);

/// An open database: the connection, its dialect and its (redacted-on-display) URL.
pub struct Database {
    conn: AnyConnection,
    dialect: Dialect,
    url: DatabaseUrl,
    mysql_begin: MysqlBegin,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.url)
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Connects to `url`. SQLite databases get WAL, a busy timeout, foreign keys and
    /// `synchronous=NORMAL`, and a WAL checkpoint every 16384 pages (64 MiB at 4 KiB pages)
    /// rather than SQLite's 1000: batches of random-keyed index inserts dirty many pages, and
    /// checkpointing (with its fsync) after nearly every batch triples the cost of a big sync.
    pub fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Self, SqlError> {
        let connect_error = |source| SqlError::Connect {
            url: url.redacted(),
            source,
        };
        let (conn, dialect) = match url.backend() {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(url.expose()).map_err(connect_error)?;
                let pragmas = format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -{}; PRAGMA temp_store = MEMORY; \
                     PRAGMA wal_autocheckpoint = 16384;",
                    options.busy_timeout.as_millis(),
                    options.sqlite_cache_kib
                );
                conn.batch_execute(&pragmas).map_err(|source| {
                    SqlError::query("cannot configure the sqlite connection", source)
                })?;
                let mut version = String::new();
                load_on(
                    &mut conn,
                    &Statement::raw("SELECT sqlite_version()"),
                    &[ReadAs::Text],
                    &mut |row| {
                        if let Some(Value::Text(Some(text))) = row.pop() {
                            version = text;
                        }
                    },
                )
                .map_err(|source| SqlError::query("cannot read the sqlite version", source))?;
                let returning = parse_version(&version) >= SQLITE_RETURNING;
                debug!(%version, returning, "sqlite connection ready");
                let conn = AnyConnection::Sqlite(conn);
                (
                    conn,
                    Dialect::new(Backend::Sqlite).with_returning(returning),
                )
            }
            Backend::Postgres => (
                AnyConnection::Pg(PgConnection::establish(url.expose()).map_err(connect_error)?),
                Dialect::new(Backend::Postgres),
            ),
            Backend::Mysql => (
                AnyConnection::Mysql(
                    MysqlConnection::establish(url.expose()).map_err(connect_error)?,
                ),
                Dialect::new(Backend::Mysql),
            ),
        };
        debug!(url = %url, "connected");
        Ok(Self {
            conn,
            dialect,
            url: url.clone(),
            mysql_begin: MysqlBegin::default(),
        })
    }

    /// The dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL this database was opened with (displays redacted).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The underlying connection, for backend-specific work.
    pub fn connection(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// A session outside any explicit transaction (each statement commits on its own).
    pub fn session(&mut self) -> Session<'_> {
        Session {
            conn: &mut self.conn,
            dialect: self.dialect,
        }
    }

    /// Runs `work` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    /// On MySQL/MariaDB `BEGIN` and `COMMIT` cost one round trip each (see
    /// [`crate::transaction`]).
    pub fn transaction<T, E>(
        &mut self,
        work: impl FnOnce(&mut Session<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        let dialect = self.dialect;
        crate::transaction::run(&mut self.conn, &mut self.mysql_begin, |conn| {
            let mut session = Session { conn, dialect };
            work(&mut session)
        })
    }
}

/// Parses `major.minor[.patch]` into `(major, minor)`; garbage gives `(0, 0)`.
fn parse_version(version: &str) -> (u32, u32) {
    let mut parts = version
        .trim()
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// A borrowed connection with its dialect: where statements run (inside or outside a
/// transaction).
pub struct Session<'a> {
    conn: &'a mut AnyConnection,
    dialect: Dialect,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

macro_rules! dispatch {
    ($conn:expr, $inner:ident => $body:expr) => {
        match $conn {
            AnyConnection::Sqlite($inner) => $body,
            AnyConnection::Pg($inner) => $body,
            AnyConnection::Mysql($inner) => $body,
        }
    };
}

impl<'a> Session<'a> {
    /// Wraps a connection (e.g. one inside a caller's own diesel transaction).
    pub fn new(conn: &'a mut AnyConnection, dialect: Dialect) -> Self {
        Self { conn, dialect }
    }

    /// The dialect of this session's database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The underlying connection.
    pub fn connection(&mut self) -> &mut AnyConnection {
        self.conn
    }

    /// Runs a statement and returns the number of rows it affected.
    pub fn execute(&mut self, statement: &Statement) -> QueryResult<usize> {
        dispatch!(self.conn, inner => inner.execute_returning_count(statement))
    }

    /// Runs several statements given as plain SQL (DDL), without parameters.
    pub fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        dispatch!(self.conn, inner => inner.batch_execute(sql))
    }

    /// Runs a query and calls `each` with every row, read as `shape` says. The row vector is
    /// the callee's to drain.
    pub fn for_each_row(
        &mut self,
        statement: &Statement,
        shape: &[ReadAs],
        mut each: impl FnMut(&mut Vec<Value>),
    ) -> QueryResult<()> {
        dispatch!(self.conn, inner => load_on(inner, statement, shape, &mut each))
    }

    /// Runs a query and returns every row, read as `shape` says.
    pub fn load(
        &mut self,
        statement: &Statement,
        shape: &[ReadAs],
    ) -> QueryResult<Vec<Vec<Value>>> {
        let mut rows = Vec::new();
        self.for_each_row(statement, shape, |row| rows.push(std::mem::take(row)))?;
        Ok(rows)
    }
}

fn load_on<C>(
    conn: &mut C,
    statement: &Statement,
    shape: &[ReadAs],
    each: &mut dyn FnMut(&mut Vec<Value>),
) -> QueryResult<()>
where
    C: LoadConnection,
    C::Backend: QueryMetadata<Untyped>,
    Statement: QueryFragment<C::Backend>,
    Option<String>: FromSql<Nullable<Text>, C::Backend>,
    Option<i64>: FromSql<Nullable<BigInt>, C::Backend>,
    Option<Vec<u8>>: FromSql<Nullable<Binary>, C::Backend>,
    C::Backend: DieselBackend,
{
    let cursor = conn.load(statement)?;
    let mut values = Vec::with_capacity(shape.len());
    for row in cursor {
        let row = row?;
        values.clear();
        for (index, read) in shape.iter().enumerate() {
            let value = match read {
                ReadAs::Text => Value::Text(
                    row.get_value::<Nullable<Text>, Option<String>, _>(index)
                        .map_err(diesel::result::Error::DeserializationError)?,
                ),
                ReadAs::Int => Value::Int(
                    row.get_value::<Nullable<BigInt>, Option<i64>, _>(index)
                        .map_err(diesel::result::Error::DeserializationError)?,
                ),
                ReadAs::Blob => Value::Blob(
                    row.get_value::<Nullable<Binary>, Option<Vec<u8>>, _>(index)
                        .map_err(diesel::result::Error::DeserializationError)?,
                ),
            };
            values.push(value);
        }
        each(&mut values);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::statement::SqlBuilder;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("3.46.1"), (3, 46));
        assert!(parse_version("3.35.0") >= SQLITE_RETURNING);
        assert!(parse_version("3.34.9") < SQLITE_RETURNING);
        assert_eq!(parse_version("x"), (0, 0));
    }

    #[test]
    fn sqlite_files_are_opened_in_wal_mode_with_bound_values() {
        let dir = tempfile::tempdir().unwrap();
        let url =
            DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        let mut db = Database::connect(&url, &ConnectOptions::default()).unwrap();
        assert!(db.dialect().supports_returning());
        let mut session = db.session();
        let mode = session
            .load(&Statement::raw("PRAGMA journal_mode"), &[ReadAs::Text])
            .unwrap();
        assert_eq!(mode[0][0], Value::text("wal"));
        let fk = session
            .load(&Statement::raw("PRAGMA foreign_keys"), &[ReadAs::Int])
            .unwrap();
        assert_eq!(fk[0][0], Value::int(1));
        session
            .batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
            .unwrap();
        let mut insert = SqlBuilder::new(session.dialect());
        insert
            .sql("INSERT INTO t (name, data) VALUES ")
            .param_list([Value::text("a'b"), Value::Blob(Some(vec![0, 1, 2]))]);
        assert_eq!(session.execute(&insert.build()).unwrap(), 1);
        let rows = session
            .load(
                &Statement::raw("SELECT id, name, data FROM t"),
                &[ReadAs::Int, ReadAs::Text, ReadAs::Blob],
            )
            .unwrap();
        assert_eq!(
            rows,
            vec![vec![
                Value::int(1),
                Value::text("a'b"),
                Value::Blob(Some(vec![0, 1, 2]))
            ]]
        );
    }
}
