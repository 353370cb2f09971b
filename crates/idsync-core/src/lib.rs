//! idsync-core: the protocol-independent heart of idsync.
//!
//! * [`model`]: entries (users and groups), ids and member references;
//! * [`event`]: what a [`Source`] tells the engine;
//! * [`batch`]: what the engine hands a [`Sink`] to apply atomically;
//! * [`source`] and [`sink`]: the two traits every connector implements;
//! * [`engine`]: batching, refresh/persist phases, member resolution, policies, the cookie.
//!
//! This crate does no I/O of its own and depends on neither ldap3, diesel nor abi_stable.

pub mod batch;
pub mod engine;
pub mod event;
pub mod memory;
pub mod model;
pub mod policy;
pub mod sink;
pub mod source;

pub use batch::{
    ApplyOptions, ApplyReport, Batch, ChangeCounts, CookieUpdate, GroupMembers, PlannedChange,
    Quarantined, Removal, RemovalAction,
};
pub use engine::{
    index_snapshot_file_name, Engine, EngineConfig, EngineError, EngineStats, Phase, SnapshotError,
    INDEX_SNAPSHOT_VERSION,
};
pub use event::Event;
pub use model::{normalize_dn, Entry, EntryId, EntryKind, MemberRef};
pub use policy::{MassDeleteGuard, MatchPolicy, OnDelete, SyncPolicy};
pub use sink::{
    CheckItem, CheckStatus, MembershipMode, Sink, SinkCapabilities, SinkError, SinkErrorKind,
    StoredState,
};
pub use source::{EventSender, Source, SourceError, SourceFingerprint, SourceStart};
