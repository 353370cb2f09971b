//! The Sync State Control value (RFC 4533 §2.3), attached to each entry the server sends.
//!
//! ```text
//! syncStateValue ::= SEQUENCE {
//!     state ENUMERATED { present (0), add (1), modify (2), delete (3) },
//!     entryUUID syncUUID,          -- OCTET STRING (SIZE(16))
//!     cookie    syncCookie OPTIONAL
//! }
//! ```

use idsync_core::EntryId;

use super::ber::{tag, Writer};
use super::{entry_id, read_cookie, read_outer, DecodeError};

/// What happened to the entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncState {
    /// `present (0)`: unchanged since the cookie (the entry carries no attributes).
    Present,
    /// `add (1)`: new in the view (OpenLDAP also sends changed entries as add in a refresh).
    Add,
    /// `modify (2)`: changed.
    Modify,
    /// `delete (3)`: gone from the view.
    Delete,
}

impl SyncState {
    /// The ENUMERATED value on the wire.
    pub fn value(self) -> i64 {
        match self {
            Self::Present => 0,
            Self::Add => 1,
            Self::Modify => 2,
            Self::Delete => 3,
        }
    }

    /// The state for an ENUMERATED value, if the RFC defines one.
    pub fn from_value(value: i64) -> Option<Self> {
        match value {
            0 => Some(Self::Present),
            1 => Some(Self::Add),
            2 => Some(Self::Modify),
            3 => Some(Self::Delete),
            _ => None,
        }
    }
}

/// The value of a Sync State Control.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyncStateValue {
    /// What happened to the entry.
    pub state: SyncState,
    /// The entry's syncUUID (its entryUUID, nsUniqueId... as 16 raw octets).
    pub entry_uuid: [u8; 16],
    /// A cookie covering this change (OpenLDAP sends none during a refresh).
    pub cookie: Option<Vec<u8>>,
}

impl SyncStateValue {
    /// The entry's identity for idsync.
    pub fn entry_id(&self) -> EntryId {
        entry_id(self.entry_uuid)
    }

    /// Encodes the control value.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.constructed(tag::SEQUENCE, |w| {
            w.integer(tag::ENUMERATED, self.state.value());
            w.element(tag::OCTET_STRING, &self.entry_uuid);
            if let Some(cookie) = &self.cookie {
                w.element(tag::OCTET_STRING, cookie);
            }
        });
        w.into_bytes()
    }

    /// Decodes a control value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let outer = read_outer(value, tag::SEQUENCE, "syncstatevalue")?;
        let mut r = outer.reader();
        let state_tlv = r.read_tagged(tag::ENUMERATED, "state")?;
        let raw = state_tlv.integer("state")?;
        let state = SyncState::from_value(raw).ok_or(DecodeError::UnknownValue {
            what: "state",
            offset: state_tlv.offset,
            value: raw,
        })?;
        let entry_uuid = r
            .read_tagged(tag::OCTET_STRING, "entryuuid")?
            .uuid("entryuuid")?;
        let cookie = read_cookie(&mut r)?;
        r.skip_extensions(&[tag::ENUMERATED, tag::OCTET_STRING], "syncstatevalue")?;
        Ok(Self {
            state,
            entry_uuid,
            cookie,
        })
    }
}
