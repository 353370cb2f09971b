//! [`SqlClient`]: runs SQL against a kit database (PostgreSQL via `psql`, MariaDB via the
//! `mariadb` client, both over the server's unix socket as its superuser; SQLite via
//! rusqlite). A client holds no connection and no borrow: clone it freely; it fails (does
//! not hang) once its server is gone.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::daemon;
use crate::error::ServerError;

/// How psql prints NULL in queries (a byte no text column holds).
const NULL_MARK: &str = "\u{1}NULL";
/// Field separator of psql query output.
const FIELD_SEP: char = '\u{1f}';
/// Record separator of psql query output.
const RECORD_SEP: char = '\u{1e}';

/// Query results: rows of values as text (NULL → None).
pub type Rows = Vec<Vec<Option<String>>>;

/// A way to run SQL against one kit database server (or SQLite file).
#[derive(Clone, Debug)]
pub struct SqlClient {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Psql {
        program: PathBuf,
        socket_dir: PathBuf,
        port: u16,
        user: String,
    },
    Mariadb {
        program: PathBuf,
        socket: PathBuf,
    },
    Sqlite {
        path: PathBuf,
    },
}

impl SqlClient {
    /// `psql` at `program`, connecting as `user` over the socket in `socket_dir` for `port`.
    pub(crate) fn psql(program: &Path, socket_dir: &Path, port: u16, user: &str) -> Self {
        Self {
            kind: Kind::Psql {
                program: program.to_path_buf(),
                socket_dir: socket_dir.to_path_buf(),
                port,
                user: user.to_owned(),
            },
        }
    }

    /// The `mariadb` client at `program`, connecting as `root` over `socket`.
    pub(crate) fn mariadb(program: &Path, socket: &Path) -> Self {
        Self {
            kind: Kind::Mariadb {
                program: program.to_path_buf(),
                socket: socket.to_path_buf(),
            },
        }
    }

    /// The SQLite database file at `path` (the `database` arguments are ignored).
    pub fn sqlite(path: &Path) -> Self {
        Self {
            kind: Kind::Sqlite {
                path: path.to_path_buf(),
            },
        }
    }

    /// A command-line client for `database` (`None`: the server's default), or None for SQLite.
    pub fn command(&self, database: Option<&str>) -> Option<Command> {
        match &self.kind {
            Kind::Psql {
                program,
                socket_dir,
                port,
                user,
            } => {
                let mut command = daemon::clean_command(program, socket_dir);
                command
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
                    .arg(socket_dir)
                    .arg("-p")
                    .arg(port.to_string())
                    .args(["-U", user, "-d", database.unwrap_or("postgres")]);
                Some(command)
            }
            Kind::Mariadb { program, socket } => {
                let dir = socket.parent().unwrap_or(Path::new("/"));
                let mut command = daemon::clean_command(program, dir);
                command
                    .arg("--no-defaults")
                    .arg(format!("--socket={}", socket.display()))
                    .args(["--user=root", "--default-character-set=utf8mb4"]);
                if let Some(database) = database {
                    command.arg(format!("--database={database}"));
                }
                Some(command)
            }
            Kind::Sqlite { .. } => None,
        }
    }

    /// Runs SQL (one or more statements) in `database`; stops at the first error.
    pub fn execute(&self, database: Option<&str>, sql: &str) -> Result<(), ServerError> {
        if let Kind::Sqlite { path } = &self.kind {
            let connection = open_sqlite(path)?;
            return connection
                .execute_batch(sql)
                .map_err(|error| sqlite_error(path, &error));
        }
        let shown = format!("{} (database {})", self.name(), database.unwrap_or("-"));
        match self.command(database) {
            Some(mut command) => {
                if matches!(self.kind, Kind::Psql { .. }) {
                    command.args(["-f", "-"]);
                }
                daemon::run_tool(command, Some(sql), &shown).map(drop)
            }
            None => Ok(()),
        }
    }

    /// Runs one query in `database`; every value as text (NULL → None; on MariaDB the text
    /// `NULL` reads as None too, as the client prints both alike).
    pub fn query(&self, database: Option<&str>, sql: &str) -> Result<Rows, ServerError> {
        let shown = format!(
            "{} (database {}) -c …",
            self.name(),
            database.unwrap_or("-")
        );
        match &self.kind {
            Kind::Sqlite { path } => query_sqlite(path, sql),
            Kind::Psql { .. } => {
                let Some(mut command) = self.command(database) else {
                    return Ok(Vec::new());
                };
                command
                    .args(["-A", "-t"])
                    .arg("-F")
                    .arg(FIELD_SEP.to_string())
                    .arg("-R")
                    .arg(RECORD_SEP.to_string())
                    .arg("-P")
                    .arg(format!("null={NULL_MARK}"))
                    .arg("-c")
                    .arg(sql);
                let output = daemon::run_tool(command, None, &shown)?;
                let text = String::from_utf8_lossy(&output.stdout);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                if text.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(text
                    .split(RECORD_SEP)
                    .map(|row| {
                        row.split(FIELD_SEP)
                            .map(|value| (value != NULL_MARK).then(|| value.to_owned()))
                            .collect()
                    })
                    .collect())
            }
            Kind::Mariadb { .. } => {
                let Some(mut command) = self.command(database) else {
                    return Ok(Vec::new());
                };
                command
                    .args(["--batch", "--skip-column-names", "-e"])
                    .arg(sql);
                let output = daemon::run_tool(command, None, &shown)?;
                Ok(String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(|row| {
                        row.split('\t')
                            .map(|value| (value != "NULL").then(|| unescape(value)))
                            .collect()
                    })
                    .collect())
            }
        }
    }

    /// The client's name in errors.
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Psql { .. } => "psql",
            Kind::Mariadb { .. } => "mariadb",
            Kind::Sqlite { .. } => "sqlite",
        }
    }
}

/// Opens a SQLite database read-write with a busy timeout.
fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, ServerError> {
    let connection =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|error| sqlite_error(path, &error))?;
    connection
        .busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|error| sqlite_error(path, &error))?;
    Ok(connection)
}

/// Runs a query on a SQLite database; every value as text.
fn query_sqlite(path: &Path, sql: &str) -> Result<Rows, ServerError> {
    use rusqlite::types::ValueRef;
    let connection = open_sqlite(path)?;
    let mut statement = connection
        .prepare(sql)
        .map_err(|error| sqlite_error(path, &error))?;
    let columns = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            (0..columns)
                .map(|index| {
                    Ok(match row.get_ref(index)? {
                        ValueRef::Null => None,
                        ValueRef::Integer(value) => Some(value.to_string()),
                        ValueRef::Real(value) => Some(value.to_string()),
                        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                            Some(String::from_utf8_lossy(bytes).into_owned())
                        }
                    })
                })
                .collect::<Result<Vec<_>, rusqlite::Error>>()
        })
        .map_err(|error| sqlite_error(path, &error))?;
    rows.collect::<Result<Rows, _>>()
        .map_err(|error| sqlite_error(path, &error))
}

/// A SQLite failure as a [`ServerError::Tool`].
fn sqlite_error(path: &Path, error: &rusqlite::Error) -> ServerError {
    ServerError::Tool {
        command: format!("sqlite {}", path.display()),
        status: "error".to_owned(),
        stderr: error.to_string(),
    }
}

/// Undoes the MariaDB client's batch-mode escapes (`\t`, `\n`, `\\`, `\0`).
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_escapes_are_undone() {
        assert_eq!(unescape(r"a\tb\nc\\d"), "a\tb\nc\\d");
        assert_eq!(unescape("plain"), "plain");
    }

    #[test]
    fn sqlite_clients_execute_and_query() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let path = dir.path().join("t.db");
        drop(rusqlite::Connection::open(&path));
        let client = SqlClient::sqlite(&path);
        let done = client.execute(
            None,
            "CREATE TABLE t (x, y); INSERT INTO t VALUES (1, NULL)",
        );
        assert!(done.is_ok(), "{done:?}");
        let rows = client.query(None, "SELECT x, y FROM t").ok();
        assert_eq!(rows, Some(vec![vec![Some("1".to_owned()), None]]));
    }
}
