//! [`Flavour::map`]: one raw entry → a user, a group, or out of view.

use std::time::SystemTime;

use idsync_core::{normalize_dn, Entry, EntryId, EntryKind, MemberRef};

use crate::raw::{RawAttribute, RawEntry};

use super::disabled::epoch_day;
use super::dn::{rdn_value, within};
use super::error::MapError;
use super::filter::Truth;
use super::{Flavour, Mapped};

/// An entry's attributes by slot of the flavour's attribute table.
type Found<'e> = [Option<&'e RawAttribute>];

impl Flavour {
    /// Maps one entry the server sent (with the id from its syncUUID), as of now.
    ///
    /// * [`Mapped::OutOfView`] when the entry is not a user or group of this view: it matches
    ///   neither kind's filter within that kind's base and scope (checked on the DN,
    ///   case-insensitively), or it is an excluded FreeIPA internal group.
    /// * Otherwise the [`Entry`]: `locator` is the DN as sent, `name` the value of the name
    ///   attribute (of several values, the one in the RDN), `enabled` from the disabled rules
    ///   (groups are always enabled), `attrs` under canonical names, `members` (groups only) as
    ///   the directory states them: member DNs unchanged (the engine normalises them; the
    ///   `#'…'B` UID suffix of `uniqueMember` values is dropped), `memberUid` values as names.
    ///
    /// Errors (each naming the DN): a value of an attribute the mapping reads is not UTF-8,
    /// the name attribute is missing, a `shadowExpire` value is not a number, the entry is in
    /// both views, or it matches neither filter as idsync evaluates them (see
    /// [`MapError::Unclassified`]). Entries sent without attributes (delete and present
    /// states) must not be mapped.
    pub fn map(&self, id: EntryId, entry: &RawEntry) -> Result<Mapped, MapError> {
        self.map_at(id, entry, SystemTime::now())
    }

    /// [`Flavour::map`] as of `now` (for `shadowExpire`): deterministic, for tests and replays.
    pub fn map_at(
        &self,
        id: EntryId,
        entry: &RawEntry,
        now: SystemTime,
    ) -> Result<Mapped, MapError> {
        let found = self.table.collect(entry);
        let dn = normalize_dn(&entry.dn);
        let Some(kind) = self.classify(entry, &dn, &found)? else {
            return Ok(Mapped::OutOfView);
        };
        if kind == EntryKind::Group && self.internal_groups.binary_search(&dn).is_ok() {
            return Ok(Mapped::OutOfView);
        }
        let name = self.name(kind, entry, &found)?;
        let enabled = match kind {
            EntryKind::User => !self.disabled(entry, &found, epoch_day(now))?,
            EntryKind::Group => true,
        };
        let mut attrs = std::collections::BTreeMap::new();
        for (canonical, slot) in &self.slots.canonical {
            if let Some(attribute) = get(&found, *slot) {
                if !attribute.values.is_empty() {
                    attrs.insert((*canonical).to_owned(), strings(entry, attribute)?);
                }
            }
        }
        let members = match kind {
            EntryKind::User => Vec::new(),
            EntryKind::Group => self.members(entry, &found)?,
        };
        Ok(Mapped::Entry(Entry {
            id,
            kind,
            locator: entry.dn.clone(),
            name,
            enabled,
            attrs,
            members,
        }))
    }

    /// The id of an entry read by a search without the sync control (the index warm-up,
    /// re-reads), from the id attribute (which must have been requested: it is operational).
    /// The same id the entry's syncUUID gives.
    pub fn id_of(&self, entry: &RawEntry) -> Result<EntryId, MapError> {
        let attribute = self.map.id.name();
        let value = entry
            .values(attribute)
            .first()
            .ok_or_else(|| MapError::MissingId {
                dn: entry.dn.clone(),
                attribute: attribute.to_owned(),
            })?;
        self.map.id.parse(value).ok_or_else(|| MapError::BadId {
            dn: entry.dn.clone(),
            attribute: attribute.to_owned(),
            value: String::from_utf8_lossy(value).into_owned(),
            expected: self.map.id.expected(),
        })
    }

    /// User, group, or neither (`None`: out of view).
    fn classify(
        &self,
        entry: &RawEntry,
        dn: &str,
        found: &Found<'_>,
    ) -> Result<Option<EntryKind>, MapError> {
        let user_filter = self.users.filter.eval(found);
        let group_filter = self.groups.filter.eval(found);
        let user =
            user_filter != Truth::False && within(dn, &self.users.base_norm, self.users.scope);
        let group =
            group_filter != Truth::False && within(dn, &self.groups.base_norm, self.groups.scope);
        match (user, group) {
            (true, false) => Ok(Some(EntryKind::User)),
            (false, true) => Ok(Some(EntryKind::Group)),
            (true, true) => match (user_filter, group_filter) {
                (Truth::True, Truth::Unknown) => Ok(Some(EntryKind::User)),
                (Truth::Unknown, Truth::True) => Ok(Some(EntryKind::Group)),
                _ => Err(MapError::Ambiguous {
                    dn: entry.dn.clone(),
                }),
            },
            (false, false) if user_filter == Truth::False && group_filter == Truth::False => {
                let object_classes = get(found, self.slots.object_class)
                    .map(|a| {
                        a.values
                            .iter()
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|| "none".to_owned());
                Err(MapError::Unclassified {
                    dn: entry.dn.clone(),
                    object_classes,
                })
            }
            (false, false) => Ok(None),
        }
    }

    /// The entry's name: the name attribute's value; of several, the one in the RDN.
    fn name(
        &self,
        kind: EntryKind,
        entry: &RawEntry,
        found: &Found<'_>,
    ) -> Result<String, MapError> {
        let (slot, attribute) = match kind {
            EntryKind::User => (self.slots.user_name, &self.map.user_name),
            EntryKind::Group => (self.slots.group_name, &self.map.group_name),
        };
        let values = get(found, slot).map(|a| a.values.as_slice()).unwrap_or(&[]);
        let chosen = match values {
            [] => None,
            [only] => Some(only),
            several => rdn_value(&entry.dn, attribute)
                .and_then(|rdn| {
                    let rdn = rdn.to_lowercase();
                    several.iter().find(|value| {
                        std::str::from_utf8(value).is_ok_and(|text| text.to_lowercase() == rdn)
                    })
                })
                .or(several.first()),
        };
        let chosen = chosen.ok_or_else(|| MapError::MissingName {
            dn: entry.dn.clone(),
            kind,
            attribute: attribute.clone(),
        })?;
        let name = utf8(entry, attribute, chosen)?;
        if name.trim().is_empty() {
            return Err(MapError::MissingName {
                dn: entry.dn.clone(),
                kind,
                attribute: attribute.clone(),
            });
        }
        Ok(name)
    }

    /// Whether any of the disabled rules disables the user on day `today`.
    fn disabled(&self, entry: &RawEntry, found: &Found<'_>, today: i64) -> Result<bool, MapError> {
        for (slot, rule) in &self.slots.enabled {
            let Some(attribute) = get(found, *slot) else {
                continue;
            };
            match rule.disables(&attribute.values, today) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(value) => {
                    return Err(MapError::BadValue {
                        dn: entry.dn.clone(),
                        attribute: attribute.name.clone(),
                        value: String::from_utf8_lossy(value).into_owned(),
                        expected: "a day number (days since 1970-01-01)",
                    })
                }
            }
        }
        Ok(false)
    }

    /// A group's member references: DNs from the member attributes, names from `memberUid`.
    fn members(&self, entry: &RawEntry, found: &Found<'_>) -> Result<Vec<MemberRef>, MapError> {
        let dn_attributes = self
            .slots
            .member
            .iter()
            .filter_map(|(slot, strip)| get(found, *slot).map(|a| (a, *strip)));
        let name_attributes = self
            .slots
            .member_uid
            .iter()
            .filter_map(|slot| get(found, *slot));
        let count = dn_attributes
            .clone()
            .map(|(a, _)| a.values.len())
            .sum::<usize>()
            + name_attributes
                .clone()
                .map(|a| a.values.len())
                .sum::<usize>();
        let mut members = Vec::with_capacity(count);
        for (attribute, strip) in dn_attributes {
            for value in &attribute.values {
                let mut dn = utf8(entry, &attribute.name, value)?;
                if strip {
                    strip_uid_suffix(&mut dn);
                }
                if !dn.trim().is_empty() {
                    members.push(MemberRef::Dn(dn));
                }
            }
        }
        for attribute in name_attributes {
            for value in &attribute.values {
                let name = utf8(entry, &attribute.name, value)?;
                if !name.trim().is_empty() {
                    members.push(MemberRef::Name(name));
                }
            }
        }
        Ok(members)
    }
}

/// The attribute in `slot`, if the entry has it.
fn get<'e>(found: &Found<'e>, slot: usize) -> Option<&'e RawAttribute> {
    found.get(slot).copied().flatten()
}

/// One value as a string, or the error naming DN and attribute.
fn utf8(entry: &RawEntry, attribute: &str, value: &[u8]) -> Result<String, MapError> {
    match std::str::from_utf8(value) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => Err(MapError::NotUtf8 {
            dn: entry.dn.clone(),
            attribute: attribute.to_owned(),
        }),
    }
}

/// Every value of an attribute as strings.
fn strings(entry: &RawEntry, attribute: &RawAttribute) -> Result<Vec<String>, MapError> {
    attribute
        .values
        .iter()
        .map(|value| utf8(entry, &attribute.name, value))
        .collect()
}

/// Drops the optional UID of a `uniqueMember` value (RFC 4517 NameAndOptionalUID:
/// `<dn>#'0101'B`), so that it compares equal to the member's DN.
pub(crate) fn strip_uid_suffix(value: &mut String) {
    let Some(hash) = value.rfind("#'") else {
        return;
    };
    let Some(bits) = value
        .get(hash + 2..)
        .and_then(|tail| tail.strip_suffix("'B"))
    else {
        return;
    };
    if !bits.bytes().all(|b| b == b'0' || b == b'1') {
        return;
    }
    let escapes = value
        .get(..hash)
        .unwrap_or_default()
        .bytes()
        .rev()
        .take_while(|&b| b == b'\\')
        .count();
    if escapes % 2 == 0 {
        value.truncate(hash);
    }
}
