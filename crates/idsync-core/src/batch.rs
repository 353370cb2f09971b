//! What the engine hands a sink, and what the sink reports back.

use serde::{Deserialize, Serialize};

use crate::model::{Entry, EntryId, EntryKind};

/// Disable or delete, decided by the engine from [`crate::OnDelete`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemovalAction {
    /// Keep the account, disabled.
    Disable,
    /// Delete the account.
    Delete,
}

/// An entry that left the directory view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// The entry that is gone.
    pub id: EntryId,
    /// Its kind, when the engine knows it (from this run or the sink's records).
    pub kind: Option<EntryKind>,
    /// What to do with the application account.
    pub action: RemovalAction,
}

/// The complete member set of one group (effective or direct, per [`crate::MembershipMode`]).
///
/// Always the whole set: the sink diffs it against what it stored, never rewrites it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembers {
    /// The group.
    pub group: EntryId,
    /// Its members, sorted and without duplicates.
    pub members: Vec<EntryId>,
}

/// A new cookie to store in the same transaction as the batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieUpdate {
    /// Opaque protocol cookie.
    pub cookie: Vec<u8>,
    /// Fingerprint of the source view the cookie is valid for.
    pub fingerprint: String,
}

/// One unit of work a sink applies atomically: all of it or none of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Entries to create or update (members are left empty: see `memberships`).
    pub upserts: Vec<Entry>,
    /// Entries to disable or delete.
    pub removals: Vec<Removal>,
    /// Groups whose member sets must now equal these.
    pub memberships: Vec<GroupMembers>,
    /// The cookie that covers this batch and everything before it, if it advances.
    pub cookie: Option<CookieUpdate>,
}

impl Batch {
    /// True when the batch carries nothing at all.
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty()
            && self.removals.is_empty()
            && self.memberships.is_empty()
            && self.cookie.is_none()
    }
}

/// How a batch is applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOptions {
    /// Plan only: compute every change, then roll back.
    pub dry_run: bool,
    /// Fill [`ApplyReport::changes`] with one line per change (always on in a dry run).
    pub record_changes: bool,
}

/// Counters of what a sink did (or would do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    /// Accounts created.
    pub created: u64,
    /// Accounts adopted by name (match = "name").
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

impl ChangeCounts {
    /// Adds another set of counters to this one.
    pub fn add(&mut self, other: &ChangeCounts) {
        self.created += other.created;
        self.adopted += other.adopted;
        self.updated += other.updated;
        self.renamed += other.renamed;
        self.disabled += other.disabled;
        self.enabled += other.enabled;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
        self.members_added += other.members_added;
        self.members_removed += other.members_removed;
        self.quarantined += other.quarantined;
    }

    /// True when nothing was written.
    pub fn is_noop(&self) -> bool {
        let written = ChangeCounts {
            unchanged: self.unchanged,
            ..ChangeCounts::default()
        };
        *self == written
    }
}

/// One planned or applied change, for dry runs and audit output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PlannedChange {
    /// A new account.
    Create {
        /// Entry id.
        id: EntryId,
        /// User or group.
        kind: EntryKind,
        /// Name.
        name: String,
        /// Field → value written.
        fields: Vec<(String, String)>,
    },
    /// An existing account adopted by name.
    Adopt {
        /// Entry id.
        id: EntryId,
        /// User or group.
        kind: EntryKind,
        /// Name.
        name: String,
    },
    /// Changed fields of an account.
    Update {
        /// Entry id.
        id: EntryId,
        /// Name.
        name: String,
        /// (field, old value, new value).
        fields: Vec<(String, Option<String>, Option<String>)>,
    },
    /// A new name for the same account.
    Rename {
        /// Entry id.
        id: EntryId,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Account disabled.
    Disable {
        /// Entry id.
        id: EntryId,
        /// Name.
        name: String,
    },
    /// Account enabled again.
    Enable {
        /// Entry id.
        id: EntryId,
        /// Name.
        name: String,
    },
    /// Account deleted.
    Delete {
        /// Entry id.
        id: EntryId,
        /// Name.
        name: String,
    },
    /// A member added to a group.
    AddMember {
        /// Group id.
        group: EntryId,
        /// Member id.
        member: EntryId,
    },
    /// A member removed from a group.
    RemoveMember {
        /// Group id.
        group: EntryId,
        /// Member id.
        member: EntryId,
    },
    /// An entry the sink refused.
    Quarantine {
        /// Entry id.
        id: EntryId,
        /// Name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// An entry the sink refused, with the reason (stored in its quarantine table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// Entry id.
    pub id: EntryId,
    /// Name as the directory gave it.
    pub name: String,
    /// Why the sink refused it.
    pub reason: String,
}

/// What a sink did with one batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Counters.
    pub counts: ChangeCounts,
    /// Entries refused in this batch.
    pub quarantined: Vec<Quarantined>,
    /// One line per change, when [`ApplyOptions::record_changes`] or a dry run asked for it.
    pub changes: Vec<PlannedChange>,
}
