//! An in-memory reference sink: the smallest correct implementation of the [`Sink`] contract.
//!
//! Tests use it to pin engine semantics, and sink authors can read it as a model. Its state is
//! shared through an `Arc`, so a test can inspect it while the engine owns the sink.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::batch::{ApplyOptions, ApplyReport, Batch, PlannedChange, RemovalAction};
use crate::model::{EntryId, EntryKind};
use crate::policy::{MatchPolicy, SyncPolicy};
use crate::sink::{
    CheckItem, MembershipMode, Sink, SinkCapabilities, SinkError, SinkErrorKind, StoredState,
};

/// One account as the memory sink stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryAccount {
    /// User or group.
    pub kind: EntryKind,
    /// Current name.
    pub name: String,
    /// Attributes as last written.
    pub attrs: BTreeMap<String, Vec<String>>,
    /// False when disabled (in the directory, or because the entry is gone).
    pub enabled: bool,
    /// True when the entry left the directory and the account was disabled for it.
    pub gone: bool,
    /// Number of times the row was written (created or changed).
    pub writes: u64,
}

/// Everything the memory sink holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    /// Accounts by entry id.
    pub accounts: BTreeMap<EntryId, MemoryAccount>,
    /// Unmanaged accounts by name (present before the sync: adoption candidates).
    pub unmanaged: BTreeSet<String>,
    /// group → members.
    pub members: BTreeMap<EntryId, BTreeSet<EntryId>>,
    /// The committed cookie and fingerprint.
    pub cookie: Option<(Vec<u8>, String)>,
    /// Committed batches.
    pub commits: u64,
    /// Make the next N applies fail as unavailable (failure injection).
    pub fail_next: u32,
}

impl MemoryState {
    /// The account with this name, if any.
    pub fn by_name(&self, name: &str) -> Option<(&EntryId, &MemoryAccount)> {
        self.accounts
            .iter()
            .find(|(_, account)| account.name == name)
    }

    /// Names of the members of the group with this name, sorted.
    pub fn member_names(&self, group: &str) -> Vec<String> {
        let Some((id, _)) = self.by_name(group) else {
            return Vec::new();
        };
        let mut names: Vec<String> = self
            .members
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|member| self.accounts.get(member).map(|a| a.name.clone()))
            .collect();
        names.sort();
        names
    }
}

/// The in-memory sink.
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    state: Arc<Mutex<MemoryState>>,
    policy: SyncPolicy,
    membership: MembershipMode,
}

impl MemorySink {
    /// A new, empty sink wanting member sets of this mode.
    pub fn new(membership: MembershipMode) -> Self {
        Self {
            membership,
            ..Self::default()
        }
    }

    /// A sink sharing this sink's state (to hand to a second engine after a "restart").
    pub fn reopen(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            policy: self.policy,
            membership: self.membership,
        }
    }

    /// Locks the state for inspection or set-up.
    pub fn state(&self) -> MutexGuard<'_, MemoryState> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Sink for MemorySink {
    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            membership: self.membership,
        }
    }

    fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError> {
        self.policy = *policy;
        Ok(())
    }

    fn load_state(&mut self) -> Result<StoredState, SinkError> {
        let state = self.state();
        Ok(StoredState {
            cookie: state.cookie.clone(),
            synced: state
                .accounts
                .iter()
                .filter(|(_, account)| !account.gone)
                .map(|(id, account)| (*id, account.kind))
                .collect(),
        })
    }

    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
        let policy = self.policy;
        let mut guard = self.state();
        if guard.fail_next > 0 {
            guard.fail_next -= 1;
            return Err(SinkError::new(
                SinkErrorKind::Unavailable,
                "memory sink: injected failure",
            ));
        }
        // Work on a copy: commit = swap, rollback = drop.
        let mut next = guard.clone();
        let mut report = ApplyReport::default();
        let mut changes = Vec::new();
        let counts = &mut report.counts;
        for entry in &batch.upserts {
            match next.accounts.get_mut(&entry.id) {
                Some(account) => {
                    let mut changed = false;
                    if account.name != entry.name {
                        changes.push(PlannedChange::Rename {
                            id: entry.id,
                            from: account.name.clone(),
                            to: entry.name.clone(),
                        });
                        account.name.clone_from(&entry.name);
                        counts.renamed += 1;
                        changed = true;
                    }
                    if account.attrs != entry.attrs {
                        account.attrs.clone_from(&entry.attrs);
                        counts.updated += 1;
                        changes.push(PlannedChange::Update {
                            id: entry.id,
                            name: entry.name.clone(),
                            fields: Vec::new(),
                        });
                        changed = true;
                    }
                    let enabled = entry.enabled;
                    if account.enabled != enabled || account.gone {
                        if enabled {
                            counts.enabled += 1;
                            changes.push(PlannedChange::Enable {
                                id: entry.id,
                                name: entry.name.clone(),
                            });
                        } else {
                            counts.disabled += 1;
                            changes.push(PlannedChange::Disable {
                                id: entry.id,
                                name: entry.name.clone(),
                            });
                        }
                        account.enabled = enabled;
                        account.gone = false;
                        changed = true;
                    }
                    if changed {
                        account.writes += 1;
                    } else {
                        counts.unchanged += 1;
                    }
                }
                None => {
                    if next.unmanaged.contains(&entry.name) {
                        if policy.match_by == MatchPolicy::Id {
                            let reason = format!("the name `{}` belongs to an account idsync does not manage (match = \"id\")", entry.name);
                            changes.push(PlannedChange::Quarantine {
                                id: entry.id,
                                name: entry.name.clone(),
                                reason: reason.clone(),
                            });
                            report.quarantined.push(crate::batch::Quarantined {
                                id: entry.id,
                                name: entry.name.clone(),
                                reason,
                            });
                            counts.quarantined += 1;
                            continue;
                        }
                        next.unmanaged.remove(&entry.name);
                        counts.adopted += 1;
                        changes.push(PlannedChange::Adopt {
                            id: entry.id,
                            kind: entry.kind,
                            name: entry.name.clone(),
                        });
                    } else {
                        counts.created += 1;
                        changes.push(PlannedChange::Create {
                            id: entry.id,
                            kind: entry.kind,
                            name: entry.name.clone(),
                            fields: Vec::new(),
                        });
                    }
                    next.accounts.insert(
                        entry.id,
                        MemoryAccount {
                            kind: entry.kind,
                            name: entry.name.clone(),
                            attrs: entry.attrs.clone(),
                            enabled: entry.enabled,
                            gone: false,
                            writes: 1,
                        },
                    );
                }
            }
        }
        for removal in &batch.removals {
            for members in next.members.values_mut() {
                if members.remove(&removal.id) {
                    counts.members_removed += 1;
                }
            }
            match removal.action {
                RemovalAction::Delete => {
                    if let Some(account) = next.accounts.remove(&removal.id) {
                        next.members.remove(&removal.id);
                        counts.deleted += 1;
                        changes.push(PlannedChange::Delete {
                            id: removal.id,
                            name: account.name,
                        });
                    }
                }
                RemovalAction::Disable => {
                    if let Some(account) = next.accounts.get_mut(&removal.id) {
                        if !account.gone {
                            account.gone = true;
                            account.writes += 1;
                            if account.enabled {
                                account.enabled = false;
                                counts.disabled += 1;
                                changes.push(PlannedChange::Disable {
                                    id: removal.id,
                                    name: account.name.clone(),
                                });
                            }
                        }
                    }
                }
            }
        }
        for set in &batch.memberships {
            if !next.accounts.contains_key(&set.group) {
                continue;
            }
            let wanted: BTreeSet<EntryId> = set
                .members
                .iter()
                .filter(|member| next.accounts.contains_key(member))
                .copied()
                .collect();
            let current = next.members.entry(set.group).or_default();
            for added in wanted.difference(current) {
                counts.members_added += 1;
                changes.push(PlannedChange::AddMember {
                    group: set.group,
                    member: *added,
                });
            }
            for removed in current.difference(&wanted) {
                counts.members_removed += 1;
                changes.push(PlannedChange::RemoveMember {
                    group: set.group,
                    member: *removed,
                });
            }
            *current = wanted;
        }
        if let Some(update) = &batch.cookie {
            next.cookie = Some((update.cookie.clone(), update.fingerprint.clone()));
        }
        if options.record_changes || options.dry_run {
            report.changes = changes;
        }
        if !options.dry_run {
            next.commits += 1;
            *guard = next;
        }
        Ok(report)
    }

    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> {
        Ok(vec![CheckItem::ok("memory sink ready")])
    }

    fn close(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}
