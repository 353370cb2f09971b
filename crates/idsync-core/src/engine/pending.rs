//! Changes gathered since the last batch, coalesced per id.

use foldhash::HashMap;

use crate::batch::Removal;
use crate::model::{Entry, EntryId};

/// Upserts and removals waiting for the next batch. The last word on an id wins: a change
/// after a removal re-creates, a removal after a change removes.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    upserts: Vec<Option<Entry>>,
    upsert_at: HashMap<EntryId, usize>,
    removals: Vec<Removal>,
    removal_at: HashMap<EntryId, usize>,
    live: usize,
}

impl Pending {
    pub(crate) fn upsert(&mut self, entry: Entry) {
        let id = entry.id;
        self.cancel_removal(&id);
        match self.upsert_at.get(&id) {
            Some(&slot) => {
                if let Some(existing) = self.upserts.get_mut(slot) {
                    *existing = Some(entry);
                }
            }
            None => {
                self.upsert_at.insert(id, self.upserts.len());
                self.upserts.push(Some(entry));
                self.live += 1;
            }
        }
    }

    pub(crate) fn remove(&mut self, removal: Removal) {
        let id = removal.id;
        if let Some(slot) = self.upsert_at.remove(&id) {
            if let Some(existing) = self.upserts.get_mut(slot) {
                *existing = None;
                self.live -= 1;
            }
        }
        if let Some(&slot) = self.removal_at.get(&id) {
            if let Some(existing) = self.removals.get_mut(slot) {
                *existing = removal;
            }
        } else {
            self.removal_at.insert(id, self.removals.len());
            self.removals.push(removal);
            self.live += 1;
        }
    }

    fn cancel_removal(&mut self, id: &EntryId) {
        if let Some(slot) = self.removal_at.remove(id) {
            if slot < self.removals.len() {
                self.removals.remove(slot);
                self.live -= 1;
                for position in self.removal_at.values_mut() {
                    if *position > slot {
                        *position -= 1;
                    }
                }
            }
        }
    }

    pub(crate) fn is_upserted(&self, id: &EntryId) -> bool {
        self.upsert_at.contains_key(id)
    }

    pub(crate) fn removal_count(&self) -> usize {
        self.removals.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Takes everything, upserts in arrival order.
    pub(crate) fn take(&mut self) -> (Vec<Entry>, Vec<Removal>) {
        let upserts = std::mem::take(&mut self.upserts)
            .into_iter()
            .flatten()
            .collect();
        let removals = std::mem::take(&mut self.removals);
        self.upsert_at.clear();
        self.removal_at.clear();
        self.live = 0;
        (upserts, removals)
    }
}
