//! The `Source` trait: where entries come from (a directory server or a file).

use std::fmt;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::event::Event;
use crate::sink::CheckItem;

/// Identifies the view a cookie is valid for: (server, bind identity, base, scope, filter,
/// attributes) for LDAP, the file path for the dummy source. A stored cookie with another
/// fingerprint is not used.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceFingerprint(pub String);

impl fmt::Display for SourceFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a source run starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStart {
    /// Resume from this cookie (None: full refresh).
    pub cookie: Option<Vec<u8>>,
    /// Keep following changes after the refresh (`false` for `--once`).
    pub follow: bool,
    /// The engine's member index already holds every entry in view at `cookie` (the runner
    /// loaded an index snapshot): a source that would warm the index before resuming from
    /// the cookie skips that.
    pub index_warm: bool,
}

/// The channel a source sends its events into. Bounded: a slow sink slows the source.
pub type EventSender = mpsc::Sender<Event>;

/// A source failure.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source configuration is wrong (exit 2).
    #[error("source configuration: {0}")]
    Config(String),
    /// The server could not be reached or the connection broke; the runner retries.
    #[error("source unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The server sent something that cannot be parsed.
    #[error("malformed data from the source: {0}")]
    Malformed(String),
    /// The server lacks something this source needs (a control, a plugin, a right).
    #[error("the server cannot serve this source: {0}")]
    Unsupported(String),
    /// The engine stopped listening (shutdown): not an error for the source.
    #[error("the engine stopped receiving events")]
    Closed,
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl SourceError {
    /// True when the runner should retry with backoff.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SourceError::Unavailable { .. })
    }

    /// An `Unavailable` error with its cause.
    pub fn unavailable(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SourceError::Unavailable {
            message: message.into(),
            cause: Some(Box::new(cause)),
        }
    }
}

impl<T> From<mpsc::error::SendError<T>> for SourceError {
    fn from(_: mpsc::error::SendError<T>) -> Self {
        SourceError::Closed
    }
}

/// A directory: connects, runs its change-tracking protocol and emits [`Event`]s in order.
///
/// A run without `follow` performs one refresh and returns after sending `RefreshDone` (and a
/// `Cookie`, if it has one). With `follow`, it keeps sending changes until the channel closes
/// (return `Ok`) or the connection fails (return `Unavailable`; the runner restarts it from the
/// last committed cookie after a backoff).
#[async_trait]
pub trait Source: Send {
    /// Identifies the view, stored with the cookie.
    fn fingerprint(&self) -> SourceFingerprint;

    /// Connects and verifies what the source needs, for `idsync check`.
    async fn check(&mut self) -> Result<Vec<CheckItem>, SourceError>;

    /// Runs the protocol, sending events until done (see the trait docs).
    async fn run(&mut self, start: SourceStart, events: EventSender) -> Result<(), SourceError>;
}
