//! The error type of the SQL toolkit and its mapping onto [`SinkErrorKind`].

use std::path::PathBuf;

use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use idsync_core::{SinkError, SinkErrorKind};

/// Everything that can go wrong in the SQL toolkit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// A configuration value is wrong (the key is named).
    #[error("`{key}`: {problem}")]
    Config {
        /// The configuration key, e.g. `sink.users.table`.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An identifier from the configuration is not a plain SQL identifier.
    #[error("`{key}`: `{value}` is not a valid SQL identifier (letters, digits and `_`, not starting with a digit, at most 63 characters, optionally `schema.table`)")]
    InvalidIdentifier {
        /// The configuration key that holds it.
        key: String,
        /// The offending value.
        value: String,
    },
    /// The database URL could not be parsed.
    #[error("invalid database url (expected sqlite://PATH, postgres://… or mysql://…)")]
    InvalidUrl {
        /// Why the parser refused it.
        #[source]
        source: url::ParseError,
    },
    /// The URL names a database kind that is not supported.
    #[error("unsupported database url scheme `{scheme}` (expected `sqlite`, `postgres`, `postgresql`, `mysql` or `mariadb`)")]
    UnsupportedScheme {
        /// The scheme found.
        scheme: String,
    },
    /// The password file could not be read.
    #[error("cannot read the password file `{path}`")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The password environment variable is missing or not unicode.
    #[error("the password environment variable `{name}` is not set")]
    PasswordEnv {
        /// The variable's name.
        name: String,
    },
    /// A password was given for a database that takes none (SQLite), or twice.
    #[error("a password cannot be set on this url: {reason}")]
    PasswordNotApplicable {
        /// Why not.
        reason: &'static str,
    },
    /// Connecting failed. The URL is shown with its password masked.
    #[error("cannot connect to `{url}`")]
    Connect {
        /// The redacted URL.
        url: String,
        /// The driver's error.
        #[source]
        source: ConnectionError,
    },
    /// A statement failed.
    #[error("{context}")]
    Query {
        /// What was being done, e.g. "cannot load the bookkeeping state".
        context: String,
        /// The driver's error.
        #[source]
        source: DieselError,
    },
    /// A bookkeeping migration failed.
    #[error("cannot apply the bookkeeping migration `{version}`")]
    Migration {
        /// The migration's version.
        version: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A table named in the configuration does not exist.
    #[error("table `{table}` does not exist")]
    MissingTable {
        /// The table.
        table: String,
    },
    /// A column named in the configuration does not exist.
    #[error("column `{column}` does not exist in table `{table}`")]
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Several schema problems at once (every missing table and column).
    #[error("the database schema does not match the configuration: {}", .problems.join("; "))]
    Schema {
        /// One line per problem.
        problems: Vec<String>,
    },
    /// The database holds a value the toolkit cannot read back.
    #[error("unexpected value `{value}` in `{table}`.`{column}`")]
    Corrupt {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The value found.
        value: String,
    },
}

impl SqlError {
    /// A query error with its context.
    pub fn query(context: impl Into<String>, source: DieselError) -> Self {
        SqlError::Query {
            context: context.into(),
            source,
        }
    }

    /// The broad class of this failure, for the runner's retry decision.
    pub fn kind(&self) -> SinkErrorKind {
        match self {
            SqlError::Config { .. }
            | SqlError::InvalidIdentifier { .. }
            | SqlError::InvalidUrl { .. }
            | SqlError::UnsupportedScheme { .. }
            | SqlError::PasswordFile { .. }
            | SqlError::PasswordEnv { .. }
            | SqlError::PasswordNotApplicable { .. } => SinkErrorKind::Config,
            SqlError::Connect { source, .. } => match source {
                ConnectionError::InvalidConnectionUrl(_) => SinkErrorKind::Config,
                _ => SinkErrorKind::Unavailable,
            },
            SqlError::Query { source, .. } => classify_diesel(source),
            SqlError::Migration { .. } | SqlError::Corrupt { .. } => SinkErrorKind::Other,
            SqlError::MissingTable { .. }
            | SqlError::MissingColumn { .. }
            | SqlError::Schema { .. } => SinkErrorKind::Schema,
        }
    }
}

/// Errors raised by diesel's transaction handling itself (begin, commit, rollback).
impl From<DieselError> for SqlError {
    fn from(source: DieselError) -> Self {
        SqlError::query("the transaction failed", source)
    }
}

impl From<SqlError> for SinkError {
    fn from(error: SqlError) -> Self {
        SinkError::from_error(error.kind(), &error)
    }
}

/// Classifies a driver error: connection trouble is `Unavailable`, contention and constraint
/// failures are `Transaction`, missing tables or columns are `Schema`.
pub fn classify_diesel(error: &DieselError) -> SinkErrorKind {
    match error {
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::ClosedConnection => SinkErrorKind::Unavailable,
            DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::UniqueViolation
            | DatabaseErrorKind::ForeignKeyViolation
            | DatabaseErrorKind::NotNullViolation
            | DatabaseErrorKind::CheckViolation
            | DatabaseErrorKind::ReadOnlyTransaction
            | DatabaseErrorKind::RestrictViolation
            | DatabaseErrorKind::ExclusionViolation => SinkErrorKind::Transaction,
            _ => classify_message(info.message()),
        },
        DieselError::BrokenTransactionManager => SinkErrorKind::Unavailable,
        DieselError::RollbackErrorOnCommit { .. } | DieselError::RollbackTransaction => {
            SinkErrorKind::Transaction
        }
        _ => SinkErrorKind::Other,
    }
}

/// Classifies a driver message that carries no structured kind.
fn classify_message(message: &str) -> SinkErrorKind {
    let lower = message.to_ascii_lowercase();
    const UNAVAILABLE: &[&str] = &[
        "server closed the connection",
        "connection refused",
        "lost connection",
        "server has gone away",
        "terminating connection",
        "could not connect",
        "unable to open database",
        "disk i/o error",
    ];
    const TRANSACTION: &[&str] = &[
        "database is locked",
        "database table is locked",
        "busy",
        "deadlock",
        "lock wait timeout",
        "could not serialize",
        "try restarting transaction",
    ];
    const SCHEMA: &[&str] = &[
        "no such table",
        "no such column",
        "does not exist",
        "doesn't exist",
        "unknown column",
        "has no column named",
    ];
    if UNAVAILABLE.iter().any(|needle| lower.contains(needle)) {
        SinkErrorKind::Unavailable
    } else if TRANSACTION.iter().any(|needle| lower.contains(needle)) {
        SinkErrorKind::Transaction
    } else if SCHEMA.iter().any(|needle| lower.contains(needle)) {
        SinkErrorKind::Schema
    } else {
        SinkErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_messages_are_classified() {
        assert_eq!(
            classify_message("database is locked"),
            SinkErrorKind::Transaction
        );
        assert_eq!(
            classify_message("no such table: users"),
            SinkErrorKind::Schema
        );
        assert_eq!(
            classify_message("Deadlock found when trying to get lock"),
            SinkErrorKind::Transaction
        );
        assert_eq!(
            classify_message("MySQL server has gone away"),
            SinkErrorKind::Unavailable
        );
        assert_eq!(classify_message("syntax error"), SinkErrorKind::Other);
    }

    #[test]
    fn config_errors_map_to_config_kind() {
        let error = SqlError::InvalidIdentifier {
            key: "sink.users.table".into(),
            value: "users; drop".into(),
        };
        let sink: SinkError = error.into();
        assert_eq!(sink.kind, SinkErrorKind::Config);
        assert!(sink.message.contains("`sink.users.table`"));
    }
}
