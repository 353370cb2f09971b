//! Reading SQLite databases in tests.

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// A SQLite database file that tests inspect (opened anew for each query, read-only, so a
/// running idsync is not disturbed).
#[derive(Clone, Debug)]
pub struct Sqlite {
    path: PathBuf,
}

impl Sqlite {
    /// The database at `path` (it may not exist yet).
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
        }
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a query; every value as text (NULL → None). Errors (e.g. a table not created yet)
    /// come back as `Err` so that callers can poll.
    pub fn try_query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, rusqlite::Error> {
        let connection = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut statement = connection.prepare(sql)?;
        let columns = statement.column_count();
        let rows = statement.query_map([], |row| {
            (0..columns)
                .map(|index| {
                    Ok(match row.get_ref(index)? {
                        ValueRef::Null => None,
                        ValueRef::Integer(value) => Some(value.to_string()),
                        ValueRef::Real(value) => Some(value.to_string()),
                        ValueRef::Text(value) | ValueRef::Blob(value) => {
                            Some(String::from_utf8_lossy(value).into_owned())
                        }
                    })
                })
                .collect::<Result<Vec<_>, rusqlite::Error>>()
        })?;
        rows.collect()
    }

    /// Runs a query and panics on error.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.try_query(sql)
            .unwrap_or_else(|error| panic!("query `{sql}` on {}: {error}", self.path.display()))
    }

    /// The first column of every row, NULL as "NULL".
    pub fn column(&self, sql: &str) -> Vec<String> {
        self.query(sql)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .next()
                    .flatten()
                    .unwrap_or_else(|| "NULL".to_owned())
            })
            .collect()
    }

    /// A single value.
    pub fn scalar(&self, sql: &str) -> Option<String> {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
    }

    /// Runs statements that change the database (test set-up: triggers, unmanaged rows).
    pub fn execute(&self, sql: &str) {
        let connection = Connection::open(&self.path)
            .unwrap_or_else(|error| panic!("open {}: {error}", self.path.display()));
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .unwrap_or_else(|error| panic!("busy_timeout: {error}"));
        connection
            .execute_batch(sql)
            .unwrap_or_else(|error| panic!("`{sql}`: {error}"));
    }
}
