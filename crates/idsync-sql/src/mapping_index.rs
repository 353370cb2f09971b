//! An in-memory copy of a scope's id mappings, with an undo journal so that it follows the
//! database through commits and rollbacks.
//!
//! Invariant: one running sink owns a scope. The index is loaded from `idsync_entries` when
//! the sink prepares, every change made inside a transaction is journaled, and the journal is
//! either dropped (commit) or replayed backwards (rollback, dry run).

use foldhash::HashMap;

use idsync_core::{EntryId, EntryKind};

use crate::bookkeeping::{Mapping, MappingState};

/// Entry id → mapping, and (kind, row key) → entry id.
#[derive(Clone, Debug, Default)]
pub struct MappingIndex {
    by_id: HashMap<EntryId, Mapping>,
    by_row: HashMap<(EntryKind, i64), EntryId>,
    journal: Vec<(EntryId, Option<Mapping>)>,
}

impl MappingIndex {
    /// An index holding these mappings (nothing journaled).
    pub fn from_mappings(mappings: impl IntoIterator<Item = Mapping>) -> Self {
        let mut index = Self::default();
        for mapping in mappings {
            index.put(mapping);
        }
        index.journal.clear();
        index
    }

    /// Number of mappings.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The mapping of an entry.
    pub fn get(&self, id: &EntryId) -> Option<&Mapping> {
        self.by_id.get(id)
    }

    /// The entry mapped to an application row.
    pub fn owner(&self, kind: EntryKind, row_key: i64) -> Option<EntryId> {
        self.by_row.get(&(kind, row_key)).copied()
    }

    /// The row key of a live entry of this kind.
    pub fn live_key(&self, id: &EntryId, kind: EntryKind) -> Option<i64> {
        self.by_id
            .get(id)
            .filter(|mapping| mapping.kind == kind && mapping.state == MappingState::Live)
            .and_then(|mapping| mapping.row_key)
    }

    /// Every live mapping.
    pub fn live(&self) -> impl Iterator<Item = &Mapping> {
        self.by_id
            .values()
            .filter(|mapping| mapping.state == MappingState::Live)
    }

    /// The ids and kinds of every live mapping, sorted (what a sink's `load_state` reports).
    pub fn live_ids(&self) -> Vec<(EntryId, EntryKind)> {
        let mut ids: Vec<(EntryId, EntryKind)> = self
            .live()
            .map(|mapping| (mapping.id, mapping.kind))
            .collect();
        ids.sort();
        ids
    }

    /// Sets a mapping (journaled); returns the previous one.
    pub fn set(&mut self, mapping: Mapping) -> Option<Mapping> {
        self.put(mapping)
    }

    /// Removes a mapping (journaled); returns it.
    pub fn remove(&mut self, id: &EntryId) -> Option<Mapping> {
        let previous = self.by_id.remove(id)?;
        if let Some(key) = previous.row_key {
            if self.by_row.get(&(previous.kind, key)) == Some(id) {
                self.by_row.remove(&(previous.kind, key));
            }
        }
        self.journal.push((*id, Some(previous.clone())));
        Some(previous)
    }

    /// Forgets the journal: the database committed.
    pub fn commit(&mut self) {
        self.journal.clear();
    }

    /// Undoes every journaled change: the database rolled back.
    pub fn rollback(&mut self) {
        while let Some((id, previous)) = self.journal.pop() {
            if let Some(current) = self.by_id.remove(&id) {
                if let Some(key) = current.row_key {
                    if self.by_row.get(&(current.kind, key)) == Some(&id) {
                        self.by_row.remove(&(current.kind, key));
                    }
                }
            }
            if let Some(previous) = previous {
                if let Some(key) = previous.row_key {
                    self.by_row.insert((previous.kind, key), id);
                }
                self.by_id.insert(id, previous);
            }
        }
    }

    fn put(&mut self, mapping: Mapping) -> Option<Mapping> {
        let id = mapping.id;
        if let Some(key) = mapping.row_key {
            self.by_row.insert((mapping.kind, key), id);
        }
        let previous = self.by_id.insert(id, mapping);
        if let Some(old) = &previous {
            if let Some(key) = old.row_key {
                let still_ours = self
                    .by_id
                    .get(&id)
                    .is_some_and(|now| now.row_key == Some(key) && now.kind == old.kind);
                if !still_ours && self.by_row.get(&(old.kind, key)) == Some(&id) {
                    self.by_row.remove(&(old.kind, key));
                }
            }
        }
        self.journal.push((id, previous.clone()));
        previous
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use uuid::Uuid;

    fn id(n: u128) -> EntryId {
        EntryId(Uuid::from_u128(n))
    }

    fn live(n: u128, key: i64) -> Mapping {
        Mapping {
            id: id(n),
            kind: EntryKind::User,
            row_key: Some(key),
            state: MappingState::Live,
        }
    }

    #[test]
    fn rollback_restores_the_committed_state() {
        let mut index = MappingIndex::from_mappings([live(1, 10)]);
        index.set(live(2, 20));
        index.set(Mapping {
            row_key: Some(11),
            ..live(1, 10)
        });
        index.remove(&id(1));
        assert_eq!(index.owner(EntryKind::User, 20), Some(id(2)));
        assert!(index.get(&id(1)).is_none());
        index.rollback();
        assert_eq!(index.get(&id(1)), Some(&live(1, 10)));
        assert_eq!(index.owner(EntryKind::User, 10), Some(id(1)));
        assert_eq!(index.owner(EntryKind::User, 11), None);
        assert!(index.get(&id(2)).is_none());
        assert_eq!(index.owner(EntryKind::User, 20), None);
    }

    #[test]
    fn commit_keeps_changes() {
        let mut index = MappingIndex::default();
        index.set(live(1, 10));
        index.commit();
        index.rollback();
        assert_eq!(index.live_key(&id(1), EntryKind::User), Some(10));
        assert_eq!(index.live_key(&id(1), EntryKind::Group), None);
        assert_eq!(index.len(), 1);
    }
}
