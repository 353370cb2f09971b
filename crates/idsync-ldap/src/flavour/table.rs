//! The attributes a flavour reads, each given a slot, and an entry's attributes looked up
//! into those slots in one pass without allocating per attribute.

use crate::raw::{RawAttribute, RawEntry};

/// Longest attribute name looked up without allocating.
const INLINE: usize = 64;

/// Sorted, de-duplicated lower-case attribute names; a name's slot is its index.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttrTable {
    names: Vec<String>,
}

impl AttrTable {
    /// Builds the table from names in any case, duplicates allowed.
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = names.into_iter().map(str::to_ascii_lowercase).collect();
        names.sort_unstable();
        names.dedup();
        Self { names }
    }

    /// How many slots.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The slot of `name`, compared ASCII case-insensitively.
    pub(crate) fn slot(&self, name: &str) -> Option<usize> {
        let mut buffer = [0u8; INLINE];
        match buffer.get_mut(..name.len()) {
            Some(lower) => {
                for (dst, src) in lower.iter_mut().zip(name.bytes()) {
                    *dst = src.to_ascii_lowercase();
                }
                let lower: &[u8] = lower;
                self.names
                    .binary_search_by(|probe| probe.as_bytes().cmp(lower))
                    .ok()
            }
            None => self
                .names
                .iter()
                .position(|probe| probe.eq_ignore_ascii_case(name)),
        }
    }

    /// The entry's attributes by slot (the first occurrence wins, as in
    /// [`RawEntry::values`]).
    pub(crate) fn collect<'e>(&self, entry: &'e RawEntry) -> Vec<Option<&'e RawAttribute>> {
        let mut found = vec![None; self.names.len()];
        for attribute in &entry.attributes {
            if let Some(cell) = self.slot(&attribute.name).and_then(|s| found.get_mut(s)) {
                if cell.is_none() {
                    *cell = Some(attribute);
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_ignore_case_and_duplicates() {
        let table = AttrTable::new(["uid", "CN", "cn", "nsAccountLock"]);
        assert_eq!(table.len(), 3);
        assert_eq!(table.slot("UID"), table.slot("uid"));
        assert!(table.slot("nsaccountlock").is_some());
        assert_eq!(table.slot("mail"), None);
        let long = "a".repeat(100);
        let table = AttrTable::new([long.as_str()]);
        assert_eq!(table.slot(&long.to_uppercase()), Some(0));
    }

    #[test]
    fn collect_keeps_the_first_occurrence() {
        let table = AttrTable::new(["uid"]);
        let entry = RawEntry {
            dn: "uid=a,dc=x".to_owned(),
            attributes: vec![
                RawAttribute {
                    name: "UID".to_owned(),
                    values: vec![b"a".to_vec()],
                },
                RawAttribute {
                    name: "uid".to_owned(),
                    values: vec![b"b".to_vec()],
                },
                RawAttribute {
                    name: "mail".to_owned(),
                    values: vec![b"m".to_vec()],
                },
            ],
            controls: Vec::new(),
        };
        let found = table.collect(&entry);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found.first().copied().flatten().map(|a| a.values.clone()),
            Some(vec![b"a".to_vec()])
        );
    }
}
