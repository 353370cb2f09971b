//! Errors of the SQL sink and their conversion into [`SinkError`].

use idsync_core::{SinkError, SinkErrorKind};
use idsync_sql::SqlError;

use crate::config::ConfigErrors;

/// Everything that can go wrong in the SQL sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlSinkError {
    /// The configuration is invalid (every problem listed).
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// The database or the toolkit failed.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// A method was called before `prepare` or after `close`.
    #[error("the sql sink is not {0}")]
    State(&'static str),
}

impl SqlSinkError {
    /// The broad class of this failure.
    pub fn kind(&self) -> SinkErrorKind {
        match self {
            SqlSinkError::Config(_) => SinkErrorKind::Config,
            SqlSinkError::Sql(error) => error.kind(),
            SqlSinkError::State(_) => SinkErrorKind::Other,
        }
    }
}

impl From<SqlSinkError> for SinkError {
    fn from(error: SqlSinkError) -> Self {
        SinkError::from_error(error.kind(), &error)
    }
}
