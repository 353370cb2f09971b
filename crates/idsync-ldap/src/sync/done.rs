//! The Sync Done Control value (RFC 4533 §2.4), attached to SearchResultDone.
//!
//! ```text
//! syncDoneValue ::= SEQUENCE {
//!     cookie          syncCookie OPTIONAL,
//!     refreshDeletes  BOOLEAN DEFAULT FALSE
//! }
//! ```
//!
//! An absent or empty control value means every component has its default.

use super::ber::{tag, Writer};
use super::{read_cookie, read_default_bool, read_outer, DecodeError};

/// The value of a Sync Done Control.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SyncDoneValue {
    /// The cookie covering the refresh; `None` when the server sent none (keep the old one:
    /// OpenLDAP sends none when nothing changed).
    pub cookie: Option<Vec<u8>>,
    /// TRUE: the refresh used the delete phase (entries not sent are unchanged, deletions were
    /// sent); FALSE: the present phase (entries neither sent nor listed present are gone).
    pub refresh_deletes: bool,
}

impl SyncDoneValue {
    /// Encodes the control value (refreshDeletes left out when false).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.constructed(tag::SEQUENCE, |w| {
            if let Some(cookie) = &self.cookie {
                w.element(tag::OCTET_STRING, cookie);
            }
            if self.refresh_deletes {
                w.boolean(true);
            }
        });
        w.into_bytes()
    }

    /// Decodes a control value; an empty value means all defaults.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        if value.is_empty() {
            return Ok(Self::default());
        }
        let outer = read_outer(value, tag::SEQUENCE, "syncdonevalue")?;
        let mut r = outer.reader();
        let cookie = read_cookie(&mut r)?;
        let refresh_deletes = read_default_bool(&mut r, "refreshdeletes", false)?;
        r.skip_extensions(&[tag::OCTET_STRING, tag::BOOLEAN], "syncdonevalue")?;
        Ok(Self {
            cookie,
            refresh_deletes,
        })
    }

    /// Decodes the value of a control that may have none (`controlValue` is OPTIONAL in LDAP);
    /// `None` means all defaults.
    pub fn decode_optional(value: Option<&[u8]>) -> Result<Self, DecodeError> {
        value.map_or_else(|| Ok(Self::default()), Self::decode)
    }
}
