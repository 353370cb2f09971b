//! Entries and ids.

use abi_stable::{
    std_types::{RString, RVec, Tuple2},
    StableAbi,
};
use idsync_core::{Entry, EntryId, EntryKind};

/// An entry id: the 16 bytes of [`EntryId`].
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FfiEntryId(pub [u8; 16]);

impl From<EntryId> for FfiEntryId {
    fn from(id: EntryId) -> Self {
        Self(*id.as_bytes())
    }
}

impl From<&EntryId> for FfiEntryId {
    fn from(id: &EntryId) -> Self {
        Self(*id.as_bytes())
    }
}

impl From<FfiEntryId> for EntryId {
    fn from(id: FfiEntryId) -> Self {
        EntryId::from_bytes(id.0)
    }
}

impl From<&FfiEntryId> for EntryId {
    fn from(id: &FfiEntryId) -> Self {
        EntryId::from_bytes(id.0)
    }
}

/// User or group. Frozen: a new kind needs a new minor ABI version.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FfiEntryKind {
    /// [`EntryKind::User`].
    User,
    /// [`EntryKind::Group`].
    Group,
}

impl From<EntryKind> for FfiEntryKind {
    fn from(kind: EntryKind) -> Self {
        match kind {
            EntryKind::User => Self::User,
            EntryKind::Group => Self::Group,
        }
    }
}

impl From<FfiEntryKind> for EntryKind {
    fn from(kind: FfiEntryKind) -> Self {
        match kind {
            FfiEntryKind::User => EntryKind::User,
            FfiEntryKind::Group => EntryKind::Group,
        }
    }
}

/// An entry to create or update, mirroring [`Entry`].
///
/// It has no `members`: batches never carry them in entries (member sets travel in
/// [`crate::FfiGroupMembers`]), so converting from an [`Entry`] drops them and converting back
/// yields an empty list.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct FfiEntry {
    /// Permanent identity.
    pub id: FfiEntryId,
    /// User or group.
    pub kind: FfiEntryKind,
    /// The DN (or pseudo-DN).
    pub locator: RString,
    /// The entry's name.
    pub name: RString,
    /// False when disabled or locked in the directory.
    pub enabled: bool,
    /// Canonical attribute name → values, sorted by name.
    pub attrs: RVec<Tuple2<RString, RVec<RString>>>,
}

impl From<&Entry> for FfiEntry {
    fn from(entry: &Entry) -> Self {
        Self {
            id: entry.id.into(),
            kind: entry.kind.into(),
            locator: entry.locator.as_str().into(),
            name: entry.name.as_str().into(),
            enabled: entry.enabled,
            attrs: entry
                .attrs
                .iter()
                .map(|(name, values)| {
                    Tuple2(
                        name.as_str().into(),
                        values.iter().map(|value| value.as_str().into()).collect(),
                    )
                })
                .collect(),
        }
    }
}

impl From<&FfiEntry> for Entry {
    fn from(entry: &FfiEntry) -> Self {
        Self {
            id: entry.id.into(),
            kind: entry.kind.into(),
            locator: entry.locator.as_str().to_owned(),
            name: entry.name.as_str().to_owned(),
            enabled: entry.enabled,
            attrs: entry
                .attrs
                .iter()
                .map(|Tuple2(name, values)| {
                    (
                        name.as_str().to_owned(),
                        values
                            .iter()
                            .map(|value| value.as_str().to_owned())
                            .collect(),
                    )
                })
                .collect(),
            members: Vec::new(),
        }
    }
}
