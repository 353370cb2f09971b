//! The `Sink` trait: where entries end up (an application's database).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::batch::{ApplyOptions, ApplyReport, Batch};
use crate::model::{EntryId, EntryKind};
use crate::policy::SyncPolicy;

/// What kind of member sets a sink wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipMode {
    /// Flat groups: every user reachable through nested groups (cycles terminate).
    #[default]
    Effective,
    /// Direct members only, users and groups alike.
    Direct,
}

/// Static facts about a sink, read once after it is built.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkCapabilities {
    /// Flat or direct member sets.
    pub membership: MembershipMode,
}

/// What the sink has recorded from earlier runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredState {
    /// The last committed cookie and the fingerprint of the view it belongs to.
    pub cookie: Option<(Vec<u8>, String)>,
    /// Every entry the sink holds as live (not removed), with its kind.
    pub synced: Vec<(EntryId, EntryKind)>,
}

/// Outcome of one check made by `idsync check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// All good.
    Ok,
    /// Works, but deserves attention.
    Warning,
    /// Will not work.
    Failed,
}

/// One line of a check report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// Outcome.
    pub status: CheckStatus,
    /// What was checked and what was found.
    pub message: String,
}

impl CheckItem {
    /// A passed check.
    pub fn ok(message: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Ok,
            message: message.into(),
        }
    }

    /// A warning.
    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Warning,
            message: message.into(),
        }
    }

    /// A failed check.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Failed,
            message: message.into(),
        }
    }
}

/// Broad classes of sink failure; the runner decides from them whether to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkErrorKind {
    /// Bad sink configuration: fix the config (exit 2).
    Config,
    /// The application schema is missing, or of a version the sink does not support.
    Schema,
    /// The database could not be reached or the connection broke: retry later.
    Unavailable,
    /// The database refused the transaction (constraint, deadlock, …): retry may help.
    Transaction,
    /// The sink panicked (a plugin bug); nothing was committed.
    Panicked,
    /// Anything else.
    Other,
}

impl SinkErrorKind {
    /// True when retrying the same batch later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            SinkErrorKind::Unavailable | SinkErrorKind::Transaction
        )
    }
}

/// A sink failure: a kind and a one-line message (with its causes already joined in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    /// The class of failure.
    pub kind: SinkErrorKind,
    /// A readable message, causes included.
    pub message: String,
}

impl SinkError {
    /// A sink error of this kind with this message.
    pub fn new(kind: SinkErrorKind, message: impl fmt::Display) -> Self {
        Self {
            kind,
            message: message.to_string(),
        }
    }

    /// A sink error built from an error and its whole `source()` chain.
    pub fn from_error(kind: SinkErrorKind, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut message = error.to_string();
        let mut cause = error.source();
        while let Some(inner) = cause {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            cause = inner.source();
        }
        Self { kind, message }
    }
}

/// An application's user database. Synchronous: the runner calls it on a blocking thread.
///
/// Contract (see the plugin author's guide):
/// * `prepare` runs once before anything else: migrations, schema checks;
/// * `apply` is atomic: everything in the batch, the cookie included, commits in one
///   transaction, or nothing does; with `dry_run` it always rolls back;
/// * an error leaves the database as it was before the call.
pub trait Sink: Send {
    /// Static facts about this sink.
    fn capabilities(&self) -> SinkCapabilities;

    /// Connects, creates the bookkeeping tables, verifies the application schema.
    fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError>;

    /// Reads the stored cookie and the set of live synced entries.
    fn load_state(&mut self) -> Result<StoredState, SinkError>;

    /// Applies one batch atomically.
    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError>;

    /// Verifies connectivity and schema without changing anything, for `idsync check`.
    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError>;

    /// Releases connections. Further calls are errors.
    fn close(&mut self) -> Result<(), SinkError>;
}
