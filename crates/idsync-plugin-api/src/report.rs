//! What a sink reports after applying a batch.

use abi_stable::{
    nonexhaustive_enum::NonExhaustive,
    std_types::{ROption, RString, RVec, Tuple2, Tuple3},
    StableAbi,
};
use idsync_core::{ApplyReport, ChangeCounts, PlannedChange, Quarantined};

use crate::{FfiEntryId, FfiEntryKind};

/// Counters of what a sink did, mirroring [`ChangeCounts`]. Frozen (a plain struct).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FfiChangeCounts {
    /// Accounts created.
    pub created: u64,
    /// Accounts adopted by name.
    pub adopted: u64,
    /// Accounts whose fields changed.
    pub updated: u64,
    /// Accounts renamed.
    pub renamed: u64,
    /// Accounts disabled.
    pub disabled: u64,
    /// Accounts enabled again.
    pub enabled: u64,
    /// Accounts deleted.
    pub deleted: u64,
    /// Upserts that changed nothing.
    pub unchanged: u64,
    /// Membership rows added.
    pub members_added: u64,
    /// Membership rows removed.
    pub members_removed: u64,
    /// Entries refused and quarantined.
    pub quarantined: u64,
}

impl From<ChangeCounts> for FfiChangeCounts {
    fn from(counts: ChangeCounts) -> Self {
        Self {
            created: counts.created,
            adopted: counts.adopted,
            updated: counts.updated,
            renamed: counts.renamed,
            disabled: counts.disabled,
            enabled: counts.enabled,
            deleted: counts.deleted,
            unchanged: counts.unchanged,
            members_added: counts.members_added,
            members_removed: counts.members_removed,
            quarantined: counts.quarantined,
        }
    }
}

impl From<FfiChangeCounts> for ChangeCounts {
    fn from(counts: FfiChangeCounts) -> Self {
        Self {
            created: counts.created,
            adopted: counts.adopted,
            updated: counts.updated,
            renamed: counts.renamed,
            disabled: counts.disabled,
            enabled: counts.enabled,
            deleted: counts.deleted,
            unchanged: counts.unchanged,
            members_added: counts.members_added,
            members_removed: counts.members_removed,
            quarantined: counts.quarantined,
        }
    }
}

/// An entry the sink refused, mirroring [`Quarantined`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct FfiQuarantined {
    /// Entry id.
    pub id: FfiEntryId,
    /// Name as the directory gave it.
    pub name: RString,
    /// Why the sink refused it.
    pub reason: RString,
}

impl From<Quarantined> for FfiQuarantined {
    fn from(item: Quarantined) -> Self {
        Self {
            id: item.id.into(),
            name: item.name.into(),
            reason: item.reason.into(),
        }
    }
}

impl From<FfiQuarantined> for Quarantined {
    fn from(item: FfiQuarantined) -> Self {
        Self {
            id: item.id.into(),
            name: item.name.into_string(),
            reason: item.reason.into_string(),
        }
    }
}

/// One planned or applied change, mirroring [`PlannedChange`].
///
/// Extensible: it crosses the boundary as [`FfiPlannedChange_NE`] (abi_stable's
/// `NonExhaustive`), so variants may be appended within a minor version as long as they fit
/// the storage (`[usize; 16]`). A runner that meets a variant it does not know drops that
/// change from the report (the counters still count it); see
/// [`FfiApplyReport::unknown_changes`].
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
#[sabi(kind(WithNonExhaustive(size = [usize; 16], traits(Debug, Clone, PartialEq))))]
#[non_exhaustive]
pub enum FfiPlannedChange {
    /// A new account: id, kind, name, fields written.
    Create {
        /// Entry id.
        id: FfiEntryId,
        /// User or group.
        kind: FfiEntryKind,
        /// Name.
        name: RString,
        /// Field → value written.
        fields: RVec<Tuple2<RString, RString>>,
    },
    /// An existing account adopted by name.
    Adopt {
        /// Entry id.
        id: FfiEntryId,
        /// User or group.
        kind: FfiEntryKind,
        /// Name.
        name: RString,
    },
    /// Changed fields of an account.
    Update {
        /// Entry id.
        id: FfiEntryId,
        /// Name.
        name: RString,
        /// (field, old value, new value).
        fields: RVec<Tuple3<RString, ROption<RString>, ROption<RString>>>,
    },
    /// A new name for the same account.
    Rename {
        /// Entry id.
        id: FfiEntryId,
        /// Old name.
        from: RString,
        /// New name.
        to: RString,
    },
    /// Account disabled.
    Disable {
        /// Entry id.
        id: FfiEntryId,
        /// Name.
        name: RString,
    },
    /// Account enabled again.
    Enable {
        /// Entry id.
        id: FfiEntryId,
        /// Name.
        name: RString,
    },
    /// Account deleted.
    Delete {
        /// Entry id.
        id: FfiEntryId,
        /// Name.
        name: RString,
    },
    /// A member added to a group.
    AddMember {
        /// Group id.
        group: FfiEntryId,
        /// Member id.
        member: FfiEntryId,
    },
    /// A member removed from a group.
    RemoveMember {
        /// Group id.
        group: FfiEntryId,
        /// Member id.
        member: FfiEntryId,
    },
    /// An entry the sink refused.
    Quarantine {
        /// Entry id.
        id: FfiEntryId,
        /// Name.
        name: RString,
        /// Why.
        reason: RString,
    },
}

fn ropt(value: Option<String>) -> ROption<RString> {
    value.map(RString::from).into()
}

fn opt(value: ROption<RString>) -> Option<String> {
    value.into_option().map(RString::into_string)
}

impl From<PlannedChange> for FfiPlannedChange {
    fn from(change: PlannedChange) -> Self {
        match change {
            PlannedChange::Create {
                id,
                kind,
                name,
                fields,
            } => Self::Create {
                id: id.into(),
                kind: kind.into(),
                name: name.into(),
                fields: fields
                    .into_iter()
                    .map(|(field, value)| Tuple2(field.into(), value.into()))
                    .collect(),
            },
            PlannedChange::Adopt { id, kind, name } => Self::Adopt {
                id: id.into(),
                kind: kind.into(),
                name: name.into(),
            },
            PlannedChange::Update { id, name, fields } => Self::Update {
                id: id.into(),
                name: name.into(),
                fields: fields
                    .into_iter()
                    .map(|(field, old, new)| Tuple3(field.into(), ropt(old), ropt(new)))
                    .collect(),
            },
            PlannedChange::Rename { id, from, to } => Self::Rename {
                id: id.into(),
                from: from.into(),
                to: to.into(),
            },
            PlannedChange::Disable { id, name } => Self::Disable {
                id: id.into(),
                name: name.into(),
            },
            PlannedChange::Enable { id, name } => Self::Enable {
                id: id.into(),
                name: name.into(),
            },
            PlannedChange::Delete { id, name } => Self::Delete {
                id: id.into(),
                name: name.into(),
            },
            PlannedChange::AddMember { group, member } => Self::AddMember {
                group: group.into(),
                member: member.into(),
            },
            PlannedChange::RemoveMember { group, member } => Self::RemoveMember {
                group: group.into(),
                member: member.into(),
            },
            PlannedChange::Quarantine { id, name, reason } => Self::Quarantine {
                id: id.into(),
                name: name.into(),
                reason: reason.into(),
            },
        }
    }
}

impl From<FfiPlannedChange> for PlannedChange {
    fn from(change: FfiPlannedChange) -> Self {
        match change {
            FfiPlannedChange::Create {
                id,
                kind,
                name,
                fields,
            } => Self::Create {
                id: id.into(),
                kind: kind.into(),
                name: name.into_string(),
                fields: fields
                    .into_iter()
                    .map(|Tuple2(field, value)| (field.into_string(), value.into_string()))
                    .collect(),
            },
            FfiPlannedChange::Adopt { id, kind, name } => Self::Adopt {
                id: id.into(),
                kind: kind.into(),
                name: name.into_string(),
            },
            FfiPlannedChange::Update { id, name, fields } => Self::Update {
                id: id.into(),
                name: name.into_string(),
                fields: fields
                    .into_iter()
                    .map(|Tuple3(field, old, new)| (field.into_string(), opt(old), opt(new)))
                    .collect(),
            },
            FfiPlannedChange::Rename { id, from, to } => Self::Rename {
                id: id.into(),
                from: from.into_string(),
                to: to.into_string(),
            },
            FfiPlannedChange::Disable { id, name } => Self::Disable {
                id: id.into(),
                name: name.into_string(),
            },
            FfiPlannedChange::Enable { id, name } => Self::Enable {
                id: id.into(),
                name: name.into_string(),
            },
            FfiPlannedChange::Delete { id, name } => Self::Delete {
                id: id.into(),
                name: name.into_string(),
            },
            FfiPlannedChange::AddMember { group, member } => Self::AddMember {
                group: group.into(),
                member: member.into(),
            },
            FfiPlannedChange::RemoveMember { group, member } => Self::RemoveMember {
                group: group.into(),
                member: member.into(),
            },
            FfiPlannedChange::Quarantine { id, name, reason } => Self::Quarantine {
                id: id.into(),
                name: name.into_string(),
                reason: reason.into_string(),
            },
        }
    }
}

/// What a sink did with one batch, mirroring [`ApplyReport`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq)]
pub struct FfiApplyReport {
    /// Counters.
    pub counts: FfiChangeCounts,
    /// Entries refused in this batch.
    pub quarantined: RVec<FfiQuarantined>,
    /// One line per change, when asked for.
    pub changes: RVec<FfiPlannedChange_NE>,
}

impl FfiApplyReport {
    /// How many changes are of a variant this build does not know (from a newer plugin);
    /// converting into an [`ApplyReport`] drops them.
    pub fn unknown_changes(&self) -> usize {
        self.changes
            .iter()
            .filter(|change| !change.is_valid_discriminant())
            .count()
    }
}

impl From<ApplyReport> for FfiApplyReport {
    fn from(report: ApplyReport) -> Self {
        Self {
            counts: report.counts.into(),
            quarantined: report.quarantined.into_iter().map(Into::into).collect(),
            changes: report
                .changes
                .into_iter()
                .map(|change| NonExhaustive::new(FfiPlannedChange::from(change)))
                .collect(),
        }
    }
}

impl From<FfiApplyReport> for ApplyReport {
    fn from(report: FfiApplyReport) -> Self {
        Self {
            counts: report.counts.into(),
            quarantined: report.quarantined.into_iter().map(Into::into).collect(),
            changes: report
                .changes
                .into_iter()
                .filter_map(|change| change.into_enum().ok())
                .map(PlannedChange::from)
                .collect(),
        }
    }
}
