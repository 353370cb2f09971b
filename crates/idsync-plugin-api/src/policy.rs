//! Sink capabilities and the sync policy a sink prepares for.

use abi_stable::StableAbi;
use idsync_core::{MatchPolicy, MembershipMode, OnDelete, SinkCapabilities, SyncPolicy};

/// Flat or direct member sets. Frozen: a new mode needs a new minor ABI version.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfiMembershipMode {
    /// [`MembershipMode::Effective`].
    Effective,
    /// [`MembershipMode::Direct`].
    Direct,
}

impl From<MembershipMode> for FfiMembershipMode {
    fn from(mode: MembershipMode) -> Self {
        match mode {
            MembershipMode::Effective => Self::Effective,
            MembershipMode::Direct => Self::Direct,
        }
    }
}

impl From<FfiMembershipMode> for MembershipMode {
    fn from(mode: FfiMembershipMode) -> Self {
        match mode {
            FfiMembershipMode::Effective => MembershipMode::Effective,
            FfiMembershipMode::Direct => MembershipMode::Direct,
        }
    }
}

/// Static facts about a sink, mirroring [`SinkCapabilities`].
///
/// A plain struct, so frozen: new capabilities come as a new, defaulted [`crate::FfiSink`]
/// method.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FfiSinkCapabilities {
    /// Flat or direct member sets.
    pub membership: FfiMembershipMode,
}

impl From<&SinkCapabilities> for FfiSinkCapabilities {
    fn from(capabilities: &SinkCapabilities) -> Self {
        Self {
            membership: capabilities.membership.into(),
        }
    }
}

impl From<SinkCapabilities> for FfiSinkCapabilities {
    fn from(capabilities: SinkCapabilities) -> Self {
        Self::from(&capabilities)
    }
}

impl From<FfiSinkCapabilities> for SinkCapabilities {
    fn from(capabilities: FfiSinkCapabilities) -> Self {
        Self {
            membership: capabilities.membership.into(),
        }
    }
}

/// Disable or delete accounts whose entries are gone. Frozen.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfiOnDelete {
    /// [`OnDelete::Disable`].
    Disable,
    /// [`OnDelete::Delete`].
    Delete,
}

impl From<OnDelete> for FfiOnDelete {
    fn from(value: OnDelete) -> Self {
        match value {
            OnDelete::Disable => Self::Disable,
            OnDelete::Delete => Self::Delete,
        }
    }
}

impl From<FfiOnDelete> for OnDelete {
    fn from(value: FfiOnDelete) -> Self {
        match value {
            FfiOnDelete::Disable => OnDelete::Disable,
            FfiOnDelete::Delete => OnDelete::Delete,
        }
    }
}

/// Adopt accounts by name or match by id only. Frozen.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfiMatchPolicy {
    /// [`MatchPolicy::Name`].
    Name,
    /// [`MatchPolicy::Id`].
    Id,
}

impl From<MatchPolicy> for FfiMatchPolicy {
    fn from(value: MatchPolicy) -> Self {
        match value {
            MatchPolicy::Name => Self::Name,
            MatchPolicy::Id => Self::Id,
        }
    }
}

impl From<FfiMatchPolicy> for MatchPolicy {
    fn from(value: FfiMatchPolicy) -> Self {
        match value {
            FfiMatchPolicy::Name => MatchPolicy::Name,
            FfiMatchPolicy::Id => MatchPolicy::Id,
        }
    }
}

/// The policies a sink prepares for, mirroring [`SyncPolicy`]. Frozen (a plain struct).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FfiSyncPolicy {
    /// Disable or delete.
    pub on_delete: FfiOnDelete,
    /// Adopt by name or match by id.
    pub match_by: FfiMatchPolicy,
}

impl From<&SyncPolicy> for FfiSyncPolicy {
    fn from(policy: &SyncPolicy) -> Self {
        Self {
            on_delete: policy.on_delete.into(),
            match_by: policy.match_by.into(),
        }
    }
}

impl From<SyncPolicy> for FfiSyncPolicy {
    fn from(policy: SyncPolicy) -> Self {
        Self::from(&policy)
    }
}

impl From<FfiSyncPolicy> for SyncPolicy {
    fn from(policy: FfiSyncPolicy) -> Self {
        Self {
            on_delete: policy.on_delete.into(),
            match_by: policy.match_by.into(),
        }
    }
}
