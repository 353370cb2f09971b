//! Comparing a batch with what the sink knows: the changes, and the new state.

use std::collections::{BTreeMap, BTreeSet};

use idsync_plugin::{Batch, Entry, EntryId, EntryKind, Removal, RemovalAction};

use crate::change::{Change, FieldChange};
use crate::state::{encode_hex, Known, State, StoredCookie};

/// What applying a batch means: the changes, and the state entries it rewrites.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Every change, in order.
    pub changes: Vec<Change>,
    /// Upserts that changed nothing.
    pub unchanged: u64,
    /// New values of the touched entries (`None`: deleted).
    pub staged: BTreeMap<EntryId, Option<Known>>,
    /// The new cookie, if the batch carries one.
    pub cookie: Option<StoredCookie>,
}

impl Plan {
    /// True when committing the plan changes the state file.
    pub(crate) fn touches_state(&self) -> bool {
        !self.staged.is_empty() || self.cookie.is_some()
    }

    /// Applies the plan to the state (after its lines were written).
    pub(crate) fn commit(self, state: &mut State) {
        for (id, known) in self.staged {
            match known {
                Some(known) => {
                    state.entries.insert(id, known);
                }
                None => {
                    state.entries.remove(&id);
                }
            }
        }
        if self.cookie.is_some() {
            state.cookie = self.cookie;
        }
    }
}

/// Plans `batch` against the known entries: upserts, then removals, then member sets.
pub(crate) fn plan(entries: &BTreeMap<EntryId, Known>, batch: &Batch) -> Plan {
    let mut work = Staged {
        base: entries,
        changed: BTreeMap::new(),
    };
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for entry in &batch.upserts {
        let before = changes.len();
        upsert(&mut work, entry, &mut changes);
        if changes.len() == before {
            unchanged += 1;
        }
    }
    for removal in &batch.removals {
        remove(&mut work, removal, &mut changes);
    }
    for set in &batch.memberships {
        set_members(&mut work, set.group, &set.members, &mut changes);
    }
    Plan {
        changes,
        unchanged,
        staged: work.changed,
        cookie: batch.cookie.as_ref().map(|update| StoredCookie {
            hex: encode_hex(&update.cookie),
            fingerprint: update.fingerprint.clone(),
        }),
    }
}

fn upsert(work: &mut Staged<'_>, entry: &Entry, changes: &mut Vec<Change>) {
    let Some(known) = work.get_mut(entry.id) else {
        changes.push(Change::Created {
            id: entry.id,
            kind: entry.kind,
            name: entry.name.clone(),
            enabled: entry.enabled,
            attrs: entry.attrs.clone(),
        });
        work.insert(
            entry.id,
            Known {
                kind: entry.kind,
                name: entry.name.clone(),
                enabled: entry.enabled,
                removed: false,
                attrs: entry.attrs.clone(),
                members: BTreeSet::new(),
            },
        );
        return;
    };
    known.kind = entry.kind;
    if known.name != entry.name {
        changes.push(Change::Renamed {
            id: entry.id,
            kind: entry.kind,
            from: known.name.clone(),
            to: entry.name.clone(),
        });
        known.name.clone_from(&entry.name);
    }
    let fields = attribute_changes(&known.attrs, &entry.attrs);
    if !fields.is_empty() {
        changes.push(Change::Updated {
            id: entry.id,
            kind: entry.kind,
            name: entry.name.clone(),
            fields,
        });
        known.attrs.clone_from(&entry.attrs);
    }
    if known.enabled != entry.enabled {
        let (id, kind, name) = (entry.id, entry.kind, entry.name.clone());
        changes.push(if entry.enabled {
            Change::Enabled { id, kind, name }
        } else {
            Change::Disabled { id, kind, name }
        });
        known.enabled = entry.enabled;
    }
    // Back in the directory: live again (visible above only if its flags changed).
    known.removed = false;
}

/// Attributes whose values differ, with old and new values.
fn attribute_changes(
    old: &BTreeMap<String, Vec<String>>,
    new: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, FieldChange> {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let before = old.get(name).cloned().unwrap_or_default();
            let after = new.get(name).cloned().unwrap_or_default();
            (before != after).then(|| {
                (
                    name.clone(),
                    FieldChange {
                        old: before,
                        new: after,
                    },
                )
            })
        })
        .collect()
}

fn remove(work: &mut Staged<'_>, removal: &Removal, changes: &mut Vec<Change>) {
    let Some(known) = work.get(removal.id) else {
        return;
    };
    if known.removed && removal.action == RemovalAction::Disable {
        return;
    }
    let (kind, name) = (known.kind, known.name.clone());
    // An entry that left the directory leaves every group too.
    for group in work.groups_containing(removal.id) {
        if let Some(group_entry) = work.get_mut(group) {
            group_entry.members.remove(&removal.id);
            changes.push(Change::MemberRemoved {
                group,
                group_name: group_entry.name.clone(),
                member: removal.id,
                member_name: name.clone(),
            });
        }
    }
    match removal.action {
        RemovalAction::Delete => {
            work.remove(removal.id);
            changes.push(Change::Deleted {
                id: removal.id,
                kind,
                name,
            });
        }
        RemovalAction::Disable => {
            if let Some(known) = work.get_mut(removal.id) {
                known.removed = true;
                if known.enabled {
                    known.enabled = false;
                    changes.push(Change::Disabled {
                        id: removal.id,
                        kind,
                        name,
                    });
                }
            }
        }
    }
}

fn set_members(
    work: &mut Staged<'_>,
    group: EntryId,
    members: &[EntryId],
    changes: &mut Vec<Change>,
) {
    let Some(known) = work.get(group) else {
        return;
    };
    if known.removed {
        return;
    }
    // Only live entries the sink knows can be members.
    let wanted: BTreeSet<EntryId> = members
        .iter()
        .copied()
        .filter(|member| *member != group && work.get(*member).is_some_and(|m| !m.removed))
        .collect();
    let group_name = known.name.clone();
    let added: Vec<EntryId> = wanted.difference(&known.members).copied().collect();
    let removed: Vec<EntryId> = known.members.difference(&wanted).copied().collect();
    if added.is_empty() && removed.is_empty() {
        return;
    }
    let name_of = |id: EntryId| work.get(id).map(|m| m.name.clone()).unwrap_or_default();
    for member in &added {
        changes.push(Change::MemberAdded {
            group,
            group_name: group_name.clone(),
            member: *member,
            member_name: name_of(*member),
        });
    }
    for member in &removed {
        changes.push(Change::MemberRemoved {
            group,
            group_name: group_name.clone(),
            member: *member,
            member_name: name_of(*member),
        });
    }
    if let Some(known) = work.get_mut(group) {
        known.members = wanted;
    }
}

/// The known entries with this batch's edits laid over them (copy on first write).
struct Staged<'a> {
    base: &'a BTreeMap<EntryId, Known>,
    changed: BTreeMap<EntryId, Option<Known>>,
}

impl Staged<'_> {
    fn get(&self, id: EntryId) -> Option<&Known> {
        match self.changed.get(&id) {
            Some(staged) => staged.as_ref(),
            None => self.base.get(&id),
        }
    }

    fn get_mut(&mut self, id: EntryId) -> Option<&mut Known> {
        if !self.changed.contains_key(&id) {
            let copy = self.base.get(&id)?.clone();
            self.changed.insert(id, Some(copy));
        }
        self.changed.get_mut(&id)?.as_mut()
    }

    fn insert(&mut self, id: EntryId, known: Known) {
        self.changed.insert(id, Some(known));
    }

    fn remove(&mut self, id: EntryId) {
        self.changed.insert(id, None);
    }

    /// Groups (live or not) that list `member`.
    fn groups_containing(&self, member: EntryId) -> Vec<EntryId> {
        let staged = self
            .changed
            .iter()
            .filter_map(|(id, known)| known.as_ref().map(|known| (id, known)));
        let unchanged = self
            .base
            .iter()
            .filter(|(id, _)| !self.changed.contains_key(id));
        staged
            .chain(unchanged)
            .filter(|(_, known)| known.kind == EntryKind::Group && known.members.contains(&member))
            .map(|(id, _)| *id)
            .collect()
    }
}
