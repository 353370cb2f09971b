//! What a sink remembers (stored state) and what it reports to `idsync check`.

use abi_stable::{
    std_types::{ROption, RString, RVec},
    StableAbi,
};
use idsync_core::{CheckItem, CheckStatus, EntryId, EntryKind, StoredState};

use crate::{FfiCookie, FfiEntryId, FfiEntryKind};

/// One live synced entry.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FfiSyncedEntry {
    /// Entry id.
    pub id: FfiEntryId,
    /// User or group.
    pub kind: FfiEntryKind,
}

impl From<&(EntryId, EntryKind)> for FfiSyncedEntry {
    fn from((id, kind): &(EntryId, EntryKind)) -> Self {
        Self {
            id: id.into(),
            kind: (*kind).into(),
        }
    }
}

impl From<&FfiSyncedEntry> for (EntryId, EntryKind) {
    fn from(entry: &FfiSyncedEntry) -> Self {
        (entry.id.into(), entry.kind.into())
    }
}

/// What the sink recorded in earlier runs, mirroring [`StoredState`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct FfiStoredState {
    /// The last committed cookie and its fingerprint.
    pub cookie: ROption<FfiCookie>,
    /// Every live (not removed) synced entry.
    pub synced: RVec<FfiSyncedEntry>,
}

impl From<StoredState> for FfiStoredState {
    fn from(state: StoredState) -> Self {
        Self {
            cookie: state.cookie.map(FfiCookie::from).into(),
            synced: state.synced.iter().map(FfiSyncedEntry::from).collect(),
        }
    }
}

impl From<FfiStoredState> for StoredState {
    fn from(state: FfiStoredState) -> Self {
        Self {
            cookie: state.cookie.into_option().map(Into::into),
            synced: state.synced.iter().map(Into::into).collect(),
        }
    }
}

/// Outcome of one check. Frozen.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfiCheckStatus {
    /// [`CheckStatus::Ok`].
    Ok,
    /// [`CheckStatus::Warning`].
    Warning,
    /// [`CheckStatus::Failed`].
    Failed,
}

impl From<CheckStatus> for FfiCheckStatus {
    fn from(status: CheckStatus) -> Self {
        match status {
            CheckStatus::Ok => Self::Ok,
            CheckStatus::Warning => Self::Warning,
            CheckStatus::Failed => Self::Failed,
        }
    }
}

impl From<FfiCheckStatus> for CheckStatus {
    fn from(status: FfiCheckStatus) -> Self {
        match status {
            FfiCheckStatus::Ok => CheckStatus::Ok,
            FfiCheckStatus::Warning => CheckStatus::Warning,
            FfiCheckStatus::Failed => CheckStatus::Failed,
        }
    }
}

/// One line of a check report, mirroring [`CheckItem`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct FfiCheckItem {
    /// Outcome.
    pub status: FfiCheckStatus,
    /// What was checked and found.
    pub message: RString,
}

impl From<CheckItem> for FfiCheckItem {
    fn from(item: CheckItem) -> Self {
        Self {
            status: item.status.into(),
            message: item.message.into(),
        }
    }
}

impl From<FfiCheckItem> for CheckItem {
    fn from(item: FfiCheckItem) -> Self {
        Self {
            status: item.status.into(),
            message: item.message.into_string(),
        }
    }
}
