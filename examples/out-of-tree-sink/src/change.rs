//! One change: what a line of the output says, and what the runner's report says.

use std::collections::BTreeMap;

use idsync_plugin::{ChangeCounts, EntryId, EntryKind, PlannedChange};
use serde::Serialize;

/// An attribute's values before and after an update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FieldChange {
    /// Values before (empty when the attribute was absent).
    pub old: Vec<String>,
    /// Values after (empty when the attribute is gone).
    pub new: Vec<String>,
}

/// One change, serialised as the body of a line (`"change": "created"`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub(crate) enum Change {
    /// A new entry.
    Created {
        id: EntryId,
        kind: EntryKind,
        name: String,
        enabled: bool,
        attrs: BTreeMap<String, Vec<String>>,
    },
    /// Changed attributes.
    Updated {
        id: EntryId,
        kind: EntryKind,
        name: String,
        fields: BTreeMap<String, FieldChange>,
    },
    /// A new name.
    Renamed {
        id: EntryId,
        kind: EntryKind,
        from: String,
        to: String,
    },
    /// Enabled again.
    Enabled {
        id: EntryId,
        kind: EntryKind,
        name: String,
    },
    /// Disabled (in the directory, or because it left it).
    Disabled {
        id: EntryId,
        kind: EntryKind,
        name: String,
    },
    /// Deleted.
    Deleted {
        id: EntryId,
        kind: EntryKind,
        name: String,
    },
    /// A member added to a group.
    MemberAdded {
        group: EntryId,
        group_name: String,
        member: EntryId,
        member_name: String,
    },
    /// A member removed from a group.
    MemberRemoved {
        group: EntryId,
        group_name: String,
        member: EntryId,
        member_name: String,
    },
}

/// One output line: the batch's timestamp and number, then the change.
#[derive(Serialize)]
pub(crate) struct Line<'a> {
    /// When the batch was applied (RFC 3339, UTC).
    pub ts: &'a str,
    /// The batch number (it repeats only when a batch is replayed after a crash).
    pub batch: u64,
    /// The change itself.
    #[serde(flatten)]
    pub change: &'a Change,
}

impl Change {
    /// Adds this change to the counters.
    pub(crate) fn count(&self, counts: &mut ChangeCounts) {
        match self {
            Change::Created { .. } => counts.created += 1,
            Change::Updated { .. } => counts.updated += 1,
            Change::Renamed { .. } => counts.renamed += 1,
            Change::Enabled { .. } => counts.enabled += 1,
            Change::Disabled { .. } => counts.disabled += 1,
            Change::Deleted { .. } => counts.deleted += 1,
            Change::MemberAdded { .. } => counts.members_added += 1,
            Change::MemberRemoved { .. } => counts.members_removed += 1,
        }
    }

    /// The change as the runner reports it (multiple values joined with `, `).
    pub(crate) fn planned(&self) -> PlannedChange {
        match self {
            Change::Created {
                id,
                kind,
                name,
                attrs,
                ..
            } => PlannedChange::Create {
                id: *id,
                kind: *kind,
                name: name.clone(),
                fields: attrs
                    .iter()
                    .map(|(attr, values)| (attr.clone(), values.join(", ")))
                    .collect(),
            },
            Change::Updated {
                id, name, fields, ..
            } => PlannedChange::Update {
                id: *id,
                name: name.clone(),
                fields: fields
                    .iter()
                    .map(|(attr, change)| (attr.clone(), joined(&change.old), joined(&change.new)))
                    .collect(),
            },
            Change::Renamed { id, from, to, .. } => PlannedChange::Rename {
                id: *id,
                from: from.clone(),
                to: to.clone(),
            },
            Change::Enabled { id, name, .. } => PlannedChange::Enable {
                id: *id,
                name: name.clone(),
            },
            Change::Disabled { id, name, .. } => PlannedChange::Disable {
                id: *id,
                name: name.clone(),
            },
            Change::Deleted { id, name, .. } => PlannedChange::Delete {
                id: *id,
                name: name.clone(),
            },
            Change::MemberAdded { group, member, .. } => PlannedChange::AddMember {
                group: *group,
                member: *member,
            },
            Change::MemberRemoved { group, member, .. } => PlannedChange::RemoveMember {
                group: *group,
                member: *member,
            },
        }
    }
}

fn joined(values: &[String]) -> Option<String> {
    if values.is_empty() {
        None
    } else {
        Some(values.join(", "))
    }
}
