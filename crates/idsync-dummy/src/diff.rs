//! What changed between two versions of a directory file, by id.

use std::collections::{HashMap, HashSet};

use idsync_core::{Entry, EntryId};

/// The entries of the last good version of the file, by id.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    entries: Vec<Entry>,
    by_id: HashMap<EntryId, usize>,
}

/// The events one edit produces.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Delta {
    /// Ids gone from the file, in their old file order.
    pub(crate) deleted: Vec<EntryId>,
    /// New entries and entries that differ in any way (name, locator, enabled, attributes,
    /// members), in their new file order.
    pub(crate) changed: Vec<Entry>,
}

impl Delta {
    /// True when the edit changed no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.deleted.is_empty() && self.changed.is_empty()
    }
}

impl Snapshot {
    /// Remembers a version of the file (ids are unique: the parser checked).
    pub(crate) fn new(entries: Vec<Entry>) -> Self {
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(position, entry)| (entry.id, position))
            .collect();
        Self { entries, by_id }
    }

    fn get(&self, id: &EntryId) -> Option<&Entry> {
        self.by_id
            .get(id)
            .and_then(|position| self.entries.get(*position))
    }

    /// Compares the next version against this one.
    pub(crate) fn diff(&self, next: &[Entry]) -> Delta {
        let next_ids: HashSet<EntryId> = next.iter().map(|entry| entry.id).collect();
        let deleted = self
            .entries
            .iter()
            .filter(|entry| !next_ids.contains(&entry.id))
            .map(|entry| entry.id)
            .collect();
        let changed = next
            .iter()
            .filter(|entry| self.get(&entry.id) != Some(*entry))
            .cloned()
            .collect();
        Delta { deleted, changed }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use idsync_core::{EntryKind, MemberRef};

    use super::*;
    use crate::ids::derived_id;

    fn user(name: &str, mail: &str) -> Entry {
        let mut attrs = BTreeMap::new();
        attrs.insert("mail".to_owned(), vec![mail.to_owned()]);
        Entry {
            id: derived_id(EntryKind::User, name),
            kind: EntryKind::User,
            locator: format!("uid={name},ou=users,dc=dummy"),
            name: name.to_owned(),
            enabled: true,
            attrs,
            members: Vec::new(),
        }
    }

    #[test]
    fn diff_reports_new_modified_and_deleted_entries() {
        let alice = user("alice", "a@x");
        let bob = user("bob", "b@x");
        let carol = user("carol", "c@x");
        let snapshot = Snapshot::new(vec![alice.clone(), bob.clone()]);
        let mut bob2 = bob.clone();
        bob2.enabled = false;
        let delta = snapshot.diff(&[bob2.clone(), carol.clone()]);
        assert_eq!(
            delta,
            Delta {
                deleted: vec![alice.id],
                changed: vec![bob2, carol],
            }
        );
        assert!(snapshot.diff(&[alice, bob]).is_empty());
    }

    #[test]
    fn member_changes_are_changes() {
        let mut group = user("staff", "s@x");
        group.kind = EntryKind::Group;
        let snapshot = Snapshot::new(vec![group.clone()]);
        group.members.push(MemberRef::Name("nobody".to_owned()));
        assert_eq!(
            snapshot.diff(std::slice::from_ref(&group)).changed,
            vec![group]
        );
    }
}
