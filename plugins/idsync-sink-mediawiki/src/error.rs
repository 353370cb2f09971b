//! Errors of the MediaWiki sink and their conversion into [`SinkError`].

use idsync_core::{SinkError, SinkErrorKind};
use idsync_sql::SqlError;

use crate::config::ConfigErrors;
use crate::schema::Unsupported;

/// Everything that can go wrong in the MediaWiki sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaWikiError {
    /// The configuration is invalid (every problem listed).
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// The database holds no MediaWiki schema this sink supports.
    #[error(transparent)]
    Unsupported(#[from] Unsupported),
    /// The database or the toolkit failed.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// A method was called before `prepare` or after `close`.
    #[error("the mediawiki sink is not {0}")]
    State(&'static str),
}

impl MediaWikiError {
    /// The broad class of this failure.
    pub fn kind(&self) -> SinkErrorKind {
        match self {
            MediaWikiError::Config(_) => SinkErrorKind::Config,
            MediaWikiError::Unsupported(_) => SinkErrorKind::Schema,
            MediaWikiError::Sql(error) => error.kind(),
            MediaWikiError::State(_) => SinkErrorKind::Other,
        }
    }
}

impl From<MediaWikiError> for SinkError {
    fn from(error: MediaWikiError) -> Self {
        SinkError::from_error(error.kind(), &error)
    }
}
