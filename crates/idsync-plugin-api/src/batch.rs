//! What the runner hands a sink: batches and apply options.

use abi_stable::{
    std_types::{ROption, RString, RVec},
    StableAbi,
};
use idsync_core::{ApplyOptions, Batch, CookieUpdate, GroupMembers, Removal, RemovalAction};

use crate::{FfiEntry, FfiEntryId, FfiEntryKind};

/// Disable or delete. Frozen: a new action needs a new minor ABI version.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfiRemovalAction {
    /// [`RemovalAction::Disable`].
    Disable,
    /// [`RemovalAction::Delete`].
    Delete,
}

impl From<RemovalAction> for FfiRemovalAction {
    fn from(action: RemovalAction) -> Self {
        match action {
            RemovalAction::Disable => Self::Disable,
            RemovalAction::Delete => Self::Delete,
        }
    }
}

impl From<FfiRemovalAction> for RemovalAction {
    fn from(action: FfiRemovalAction) -> Self {
        match action {
            FfiRemovalAction::Disable => RemovalAction::Disable,
            FfiRemovalAction::Delete => RemovalAction::Delete,
        }
    }
}

/// An entry that left the directory view, mirroring [`Removal`].
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FfiRemoval {
    /// The entry that is gone.
    pub id: FfiEntryId,
    /// Its kind, when known.
    pub kind: ROption<FfiEntryKind>,
    /// Disable or delete.
    pub action: FfiRemovalAction,
}

impl From<&Removal> for FfiRemoval {
    fn from(removal: &Removal) -> Self {
        Self {
            id: removal.id.into(),
            kind: removal.kind.map(FfiEntryKind::from).into(),
            action: removal.action.into(),
        }
    }
}

impl From<&FfiRemoval> for Removal {
    fn from(removal: &FfiRemoval) -> Self {
        Self {
            id: removal.id.into(),
            kind: removal.kind.map(Into::into).into_option(),
            action: removal.action.into(),
        }
    }
}

/// The complete member set of one group, mirroring [`GroupMembers`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct FfiGroupMembers {
    /// The group.
    pub group: FfiEntryId,
    /// Its members, sorted and without duplicates.
    pub members: RVec<FfiEntryId>,
}

impl From<&GroupMembers> for FfiGroupMembers {
    fn from(set: &GroupMembers) -> Self {
        Self {
            group: set.group.into(),
            members: set.members.iter().map(FfiEntryId::from).collect(),
        }
    }
}

impl From<&FfiGroupMembers> for GroupMembers {
    fn from(set: &FfiGroupMembers) -> Self {
        Self {
            group: set.group.into(),
            members: set.members.iter().map(Into::into).collect(),
        }
    }
}

/// A cookie and the fingerprint of the view it is valid for (mirrors [`CookieUpdate`], and
/// the cookie of [`idsync_core::StoredState`]).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct FfiCookie {
    /// Opaque protocol cookie.
    pub cookie: RVec<u8>,
    /// Fingerprint of the source view.
    pub fingerprint: RString,
}

impl From<&CookieUpdate> for FfiCookie {
    fn from(update: &CookieUpdate) -> Self {
        Self {
            cookie: update.cookie.as_slice().into(),
            fingerprint: update.fingerprint.as_str().into(),
        }
    }
}

impl From<&FfiCookie> for CookieUpdate {
    fn from(cookie: &FfiCookie) -> Self {
        Self {
            cookie: cookie.cookie.to_vec(),
            fingerprint: cookie.fingerprint.as_str().to_owned(),
        }
    }
}

impl From<(Vec<u8>, String)> for FfiCookie {
    fn from((cookie, fingerprint): (Vec<u8>, String)) -> Self {
        Self {
            cookie: cookie.into(),
            fingerprint: fingerprint.into(),
        }
    }
}

impl From<FfiCookie> for (Vec<u8>, String) {
    fn from(cookie: FfiCookie) -> Self {
        (cookie.cookie.into_vec(), cookie.fingerprint.into_string())
    }
}

/// One unit of work to apply atomically, mirroring [`Batch`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct FfiBatch {
    /// Entries to create or update.
    pub upserts: RVec<FfiEntry>,
    /// Entries to disable or delete.
    pub removals: RVec<FfiRemoval>,
    /// Groups whose member sets must now equal these.
    pub memberships: RVec<FfiGroupMembers>,
    /// The cookie covering this batch, if it advances.
    pub cookie: ROption<FfiCookie>,
}

impl From<&Batch> for FfiBatch {
    fn from(batch: &Batch) -> Self {
        Self {
            upserts: batch.upserts.iter().map(FfiEntry::from).collect(),
            removals: batch.removals.iter().map(FfiRemoval::from).collect(),
            memberships: batch
                .memberships
                .iter()
                .map(FfiGroupMembers::from)
                .collect(),
            cookie: batch.cookie.as_ref().map(FfiCookie::from).into(),
        }
    }
}

impl From<&FfiBatch> for Batch {
    fn from(batch: &FfiBatch) -> Self {
        Self {
            upserts: batch.upserts.iter().map(Into::into).collect(),
            removals: batch.removals.iter().map(Into::into).collect(),
            memberships: batch.memberships.iter().map(Into::into).collect(),
            cookie: batch.cookie.as_ref().map(Into::into).into_option(),
        }
    }
}

/// How a batch is applied, mirroring [`ApplyOptions`].
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FfiApplyOptions {
    /// Plan only, then roll back.
    pub dry_run: bool,
    /// Fill the report's `changes`.
    pub record_changes: bool,
}

impl From<ApplyOptions> for FfiApplyOptions {
    fn from(options: ApplyOptions) -> Self {
        Self {
            dry_run: options.dry_run,
            record_changes: options.record_changes,
        }
    }
}

impl From<FfiApplyOptions> for ApplyOptions {
    fn from(options: FfiApplyOptions) -> Self {
        Self {
            dry_run: options.dry_run,
            record_changes: options.record_changes,
        }
    }
}
