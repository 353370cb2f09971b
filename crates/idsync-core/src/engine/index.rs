//! The member-resolution index: which entries exist, how groups reference their members, and
//! which groups must be recomputed.
//!
//! References are resolved to ids as soon as their target is known; a reference to an entry not
//! seen yet waits in `unresolved` and is fixed up when the entry arrives, whatever the order.
//!
//! A member can change under a group that does not: it leaves the view (deleted, or moved out
//! of the base) and may come back with the same id, or a user is renamed while a `memberUid`
//! group still names the old name. Both are handled without keeping every reference string:
//! a departed member waits in its groups under its id ([`RefKey::Departed`]) and rejoins them
//! when the same entry returns; a renamed user leaves the groups that name their members only
//! by name, which then wait for the old name.

use std::collections::BTreeSet;

use foldhash::{HashMap, HashSet, HashSetExt};
use serde::{Deserialize, Serialize};

use crate::model::{normalize_dn, Entry, EntryId, EntryKind, MemberRef};

/// A reference key in its normalised form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum RefKey {
    Dn(String),
    Name(String),
    Id(EntryId),
    /// A member that left the view while its group did not change: it rejoins the group when
    /// the same entry (same id) comes back. Not counted as an unresolved reference.
    Departed(EntryId),
}

impl RefKey {
    fn of(reference: &MemberRef) -> Self {
        match reference {
            MemberRef::Dn(dn) => RefKey::Dn(normalize_dn(dn)),
            MemberRef::Name(name) => RefKey::Name(name.to_lowercase()),
            MemberRef::Id(id) => RefKey::Id(*id),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct GroupLinks {
    /// Resolved direct members, sorted.
    direct: Vec<EntryId>,
    /// References whose target is not known yet.
    unresolved: Vec<RefKey>,
    /// Every reference of the group is a name (`memberUid`): a renamed member no longer
    /// matches it.
    names_only: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Node {
    kind: EntryKind,
    dn: String,
    name: String,
}

/// Entries, their names and locators, and the group graph. Serialisable whole for the index
/// snapshot (see [`super::snapshot`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct MemberIndex {
    nodes: HashMap<EntryId, Node>,
    by_dn: HashMap<String, EntryId>,
    users_by_name: HashMap<String, EntryId>,
    groups_by_name: HashMap<String, EntryId>,
    groups: HashMap<EntryId, GroupLinks>,
    /// group → groups that list it directly (only groups: user memberships are found by
    /// scanning the groups' sorted member lists, which is cheaper than a million links).
    parents: HashMap<EntryId, Vec<EntryId>>,
    /// unresolved reference → groups waiting for it.
    waiting: HashMap<RefKey, Vec<EntryId>>,
    /// Groups whose member sets must be recomputed and sent.
    dirty: HashSet<EntryId>,
}

impl MemberIndex {
    /// Records an entry (new or changed). Groups get their references re-resolved. Groups
    /// waiting for this entry are fixed up. Returns true when the entry was not known before.
    pub(crate) fn upsert(&mut self, entry: &Entry, mark_dirty: bool) -> bool {
        let id = entry.id;
        let dn = normalize_dn(&entry.locator);
        let name = entry.name.to_lowercase();
        let previous = self.nodes.insert(
            id,
            Node {
                kind: entry.kind,
                dn: dn.clone(),
                name: entry.name.clone(),
            },
        );
        let is_new = previous.is_none();
        if let Some(old) = &previous {
            self.unlink_keys(id, old);
            let old_name = old.name.to_lowercase();
            if old.kind == EntryKind::User && entry.kind == EntryKind::User && old_name != name {
                self.leave_name_only_groups(id, old_name);
            }
        }
        self.link_keys(id, entry.kind, &dn, &name);

        if entry.kind == EntryKind::Group {
            let keys: Vec<RefKey> = entry.members.iter().map(RefKey::of).collect();
            self.set_group_refs(id, keys);
            if mark_dirty {
                self.dirty.insert(id);
            }
        } else if previous
            .as_ref()
            .is_some_and(|old| old.kind == EntryKind::Group)
        {
            // A group became a user (same id): drop its links.
            self.set_group_refs(id, Vec::new());
            self.groups.remove(&id);
        }

        // Fix up groups that were waiting for this entry under any of its keys.
        let mut keys = vec![RefKey::Id(id), RefKey::Departed(id), RefKey::Dn(dn)];
        keys.push(RefKey::Name(name));
        for key in keys {
            if let Some(waiters) = self.waiting.remove(&key) {
                for group in waiters {
                    self.resolve_waiting(group, &key, id);
                }
            }
        }
        is_new
    }

    /// Forgets entries; returns the kind each had (None: unknown). Groups that listed them
    /// lose them and become dirty.
    pub(crate) fn remove_many(&mut self, ids: &[EntryId]) -> Vec<Option<EntryKind>> {
        let mut kinds = Vec::with_capacity(ids.len());
        let mut users = Vec::new();
        for id in ids {
            let Some(node) = self.nodes.remove(id) else {
                kinds.push(None);
                continue;
            };
            self.unlink_keys(*id, &node);
            match node.kind {
                EntryKind::Group => {
                    self.set_group_refs(*id, Vec::new());
                    self.groups.remove(id);
                    self.dirty.remove(id);
                    for parent in self.parents.remove(id).unwrap_or_default() {
                        if let Some(links) = self.groups.get_mut(&parent) {
                            if let Ok(pos) = links.direct.binary_search(id) {
                                links.direct.remove(pos);
                                links.unresolved.push(RefKey::Departed(*id));
                                self.waiting
                                    .entry(RefKey::Departed(*id))
                                    .or_default()
                                    .push(parent);
                            }
                            self.dirty.insert(parent);
                        }
                    }
                }
                EntryKind::User => users.push(*id),
            }
            kinds.push(Some(node.kind));
        }
        self.drop_user_members(&users);
        kinds
    }

    /// Removes users from every group's member list (one pass over all groups); each group
    /// keeps waiting for them under [`RefKey::Departed`].
    fn drop_user_members(&mut self, users: &[EntryId]) {
        if users.is_empty() {
            return;
        }
        // A few users: binary search per group; many: one set lookup per membership.
        let many: Option<HashSet<EntryId>> =
            (users.len() > 16).then(|| users.iter().copied().collect());
        let mut removed = Vec::new();
        for (group, links) in &mut self.groups {
            removed.clear();
            match &many {
                Some(set) => links.direct.retain(|member| {
                    let gone = set.contains(member);
                    if gone {
                        removed.push(*member);
                    }
                    !gone
                }),
                None => {
                    for user in users {
                        if let Ok(pos) = links.direct.binary_search(user) {
                            links.direct.remove(pos);
                            removed.push(*user);
                        }
                    }
                }
            }
            if removed.is_empty() {
                continue;
            }
            for user in &removed {
                links.unresolved.push(RefKey::Departed(*user));
                self.waiting
                    .entry(RefKey::Departed(*user))
                    .or_default()
                    .push(*group);
            }
            self.dirty.insert(*group);
        }
    }

    /// A user was renamed: the groups that name their members only by name (`memberUid`) and
    /// hold the user no longer match it; they wait for the old name instead.
    fn leave_name_only_groups(&mut self, user: EntryId, old_name: String) {
        let key = RefKey::Name(old_name);
        for (group, links) in &mut self.groups {
            if !links.names_only {
                continue;
            }
            if let Ok(pos) = links.direct.binary_search(&user) {
                links.direct.remove(pos);
                links.unresolved.push(key.clone());
                self.waiting.entry(key.clone()).or_default().push(*group);
                self.dirty.insert(*group);
            }
        }
    }

    /// Marks dirty every group that holds one of `members` directly (one pass over all
    /// groups): they resolved these members before the sink held them (index warm-up).
    pub(crate) fn mark_groups_holding(&mut self, members: &HashSet<EntryId>) {
        if members.is_empty() {
            return;
        }
        for (group, links) in &self.groups {
            if links.direct.iter().any(|member| members.contains(member)) {
                self.dirty.insert(*group);
            }
        }
    }

    /// Marks dirty every group that names its members only by name and waits for a name: a
    /// user renamed before the index warm-up saw the new name only, so such a group may still
    /// hold the user in the sink under the old name.
    pub(crate) fn mark_name_only_groups_waiting(&mut self) {
        for (group, links) in &self.groups {
            if links.names_only
                && links
                    .unresolved
                    .iter()
                    .any(|key| matches!(key, RefKey::Name(_)))
            {
                self.dirty.insert(*group);
            }
        }
    }

    /// The kind of a known entry.
    pub(crate) fn kind(&self, id: &EntryId) -> Option<EntryKind> {
        self.nodes.get(id).map(|node| node.kind)
    }

    /// The name of a known entry.
    pub(crate) fn name(&self, id: &EntryId) -> Option<&str> {
        self.nodes.get(id).map(|node| node.name.as_str())
    }

    /// Every known id.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &EntryId> {
        self.nodes.keys()
    }

    /// Every known id with its name as the directory spells it.
    pub(crate) fn names(&self) -> impl Iterator<Item = (&EntryId, &str)> {
        self.nodes.iter().map(|(id, node)| (id, node.name.as_str()))
    }

    /// Number of known entries.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Number of groups waiting to be recomputed.
    pub(crate) fn dirty_len(&self) -> usize {
        self.dirty.len()
    }

    /// Takes the dirty groups; with `with_ancestors`, every group that contains one of them,
    /// transitively (cycles terminate), is added.
    pub(crate) fn take_dirty(&mut self, with_ancestors: bool) -> Vec<EntryId> {
        let mut out: BTreeSet<EntryId> = self.dirty.drain().collect();
        if with_ancestors {
            let mut stack: Vec<EntryId> = out.iter().copied().collect();
            while let Some(group) = stack.pop() {
                for parent in self.parents.get(&group).into_iter().flatten() {
                    if out.insert(*parent) {
                        stack.push(*parent);
                    }
                }
            }
        }
        out.into_iter()
            .filter(|group| self.groups.contains_key(group))
            .collect()
    }

    /// Direct members of a group (users and groups), sorted.
    pub(crate) fn direct_members(&self, group: &EntryId) -> Vec<EntryId> {
        self.groups
            .get(group)
            .map(|links| links.direct.clone())
            .unwrap_or_default()
    }

    /// Every user reachable from a group through nested groups, sorted. Cycles terminate.
    pub(crate) fn effective_members(&self, group: &EntryId) -> Vec<EntryId> {
        let Some(links) = self.groups.get(group) else {
            return Vec::new();
        };
        // Most groups hold users only: their direct list is already the answer.
        if links
            .direct
            .iter()
            .all(|member| self.kind(member) == Some(EntryKind::User))
        {
            return links.direct.clone();
        }
        let mut users = Vec::new();
        let mut seen = HashSet::new();
        seen.insert(*group);
        let mut stack = vec![*group];
        while let Some(current) = stack.pop() {
            let Some(links) = self.groups.get(&current) else {
                continue;
            };
            for member in &links.direct {
                match self.kind(member) {
                    Some(EntryKind::User) => users.push(*member),
                    Some(EntryKind::Group) if seen.insert(*member) => stack.push(*member),
                    Some(EntryKind::Group) | None => {}
                }
            }
        }
        users.sort_unstable();
        users.dedup();
        users
    }

    /// Number of references that are still unresolved (departed members not counted).
    pub(crate) fn unresolved_count(&self) -> usize {
        self.groups
            .values()
            .flat_map(|links| &links.unresolved)
            .filter(|key| !matches!(key, RefKey::Departed(_)))
            .count()
    }

    fn link_keys(&mut self, id: EntryId, kind: EntryKind, dn: &str, name: &str) {
        if !dn.is_empty() {
            self.by_dn.insert(dn.to_owned(), id);
        }
        let by_name = match kind {
            EntryKind::User => &mut self.users_by_name,
            EntryKind::Group => &mut self.groups_by_name,
        };
        by_name.insert(name.to_owned(), id);
    }

    fn unlink_keys(&mut self, id: EntryId, node: &Node) {
        if self.by_dn.get(&node.dn) == Some(&id) {
            self.by_dn.remove(&node.dn);
        }
        let by_name = match node.kind {
            EntryKind::User => &mut self.users_by_name,
            EntryKind::Group => &mut self.groups_by_name,
        };
        let key = node.name.to_lowercase();
        if by_name.get(&key) == Some(&id) {
            by_name.remove(&key);
        }
    }

    fn lookup(&self, key: &RefKey) -> Option<EntryId> {
        match key {
            RefKey::Dn(dn) => self.by_dn.get(dn).copied(),
            // memberUid names users; a name that is no user may still be a group (dummy files).
            RefKey::Name(name) => self
                .users_by_name
                .get(name)
                .or_else(|| self.groups_by_name.get(name))
                .copied(),
            RefKey::Id(id) | RefKey::Departed(id) => self.nodes.contains_key(id).then_some(*id),
        }
    }

    /// Replaces a group's references: resolves what it can, diffs the parent links.
    fn set_group_refs(&mut self, group: EntryId, keys: Vec<RefKey>) {
        let names_only = !keys.is_empty() && keys.iter().all(|key| matches!(key, RefKey::Name(_)));
        let mut direct = Vec::with_capacity(keys.len());
        let mut unresolved = Vec::new();
        for key in keys {
            match self.lookup(&key) {
                Some(member) => direct.push(member),
                None => unresolved.push(key),
            }
        }
        direct.sort_unstable();
        direct.dedup();

        let old = self.groups.remove(&group).unwrap_or_default();
        for key in &old.unresolved {
            if let Some(waiters) = self.waiting.get_mut(key) {
                waiters.retain(|waiter| *waiter != group);
                if waiters.is_empty() {
                    self.waiting.remove(key);
                }
            }
        }
        for key in &unresolved {
            self.waiting.entry(key.clone()).or_default().push(group);
        }
        self.relink_parents(group, &old.direct, &direct);
        self.groups.insert(
            group,
            GroupLinks {
                direct,
                unresolved,
                names_only,
            },
        );
    }

    fn relink_parents(&mut self, group: EntryId, old: &[EntryId], new: &[EntryId]) {
        let (mut i, mut j) = (0, 0);
        loop {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    self.unlink_parent(*a, group);
                    i += 1;
                }
                (Some(a), None) => {
                    self.unlink_parent(*a, group);
                    i += 1;
                }
                (_, Some(b)) => {
                    if self.kind(b) == Some(EntryKind::Group) {
                        self.parents.entry(*b).or_default().push(group);
                    }
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }

    fn unlink_parent(&mut self, member: EntryId, group: EntryId) {
        if let Some(list) = self.parents.get_mut(&member) {
            list.retain(|parent| *parent != group);
            if list.is_empty() {
                self.parents.remove(&member);
            }
        }
    }

    fn resolve_waiting(&mut self, group: EntryId, key: &RefKey, member: EntryId) {
        let Some(links) = self.groups.get_mut(&group) else {
            return;
        };
        let before = links.unresolved.len();
        links.unresolved.retain(|waiting| waiting != key);
        if links.unresolved.len() == before {
            return;
        }
        if let Err(pos) = links.direct.binary_search(&member) {
            links.direct.insert(pos, member);
            if self
                .nodes
                .get(&member)
                .is_some_and(|node| node.kind == EntryKind::Group)
            {
                self.parents.entry(member).or_default().push(group);
            }
        }
        self.dirty.insert(group);
    }
}
