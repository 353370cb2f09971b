//! The Sync Request Control value (RFC 4533 §2.2), which idsync sends with its search.
//!
//! ```text
//! syncRequestValue ::= SEQUENCE {
//!     mode ENUMERATED { refreshOnly (1), refreshAndPersist (3) },
//!     cookie     syncCookie OPTIONAL,
//!     reloadHint BOOLEAN DEFAULT FALSE
//! }
//! ```
//!
//! The control's OID is [`super::SYNC_REQUEST_OID`]; its criticality is the caller's business
//! (RFC 4533 lets the client choose; idsync should send it critical).

use super::ber::{tag, Reader, Writer};
use super::{read_cookie, read_default_bool, read_outer, DecodeError};

/// The two modes of a sync search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncRequestMode {
    /// `refreshOnly (1)`: refresh, then SearchResultDone with a syncDone control.
    RefreshOnly,
    /// `refreshAndPersist (3)`: refresh, then stay open and send changes as they happen.
    RefreshAndPersist,
}

impl SyncRequestMode {
    /// The ENUMERATED value on the wire.
    pub fn value(self) -> i64 {
        match self {
            Self::RefreshOnly => 1,
            Self::RefreshAndPersist => 3,
        }
    }

    /// The mode for an ENUMERATED value, if the RFC defines one.
    pub fn from_value(value: i64) -> Option<Self> {
        match value {
            1 => Some(Self::RefreshOnly),
            3 => Some(Self::RefreshAndPersist),
            _ => None,
        }
    }
}

/// The value of a Sync Request Control.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyncRequestValue {
    /// Refresh only, or refresh and persist.
    pub mode: SyncRequestMode,
    /// The cookie to resume from; `None` for a full refresh.
    pub cookie: Option<Vec<u8>>,
    /// Ask the server to send the whole content instead of ending with e-syncRefreshRequired
    /// when it cannot resume from the cookie (DEFAULT FALSE).
    pub reload_hint: bool,
}

impl SyncRequestValue {
    /// Encodes the control value (reloadHint left out when false).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.constructed(tag::SEQUENCE, |w| {
            w.integer(tag::ENUMERATED, self.mode.value());
            if let Some(cookie) = &self.cookie {
                w.element(tag::OCTET_STRING, cookie);
            }
            if self.reload_hint {
                w.boolean(true);
            }
        });
        w.into_bytes()
    }

    /// Decodes a control value (the server side's job, here for tests and trace replay).
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let outer = read_outer(value, tag::SEQUENCE, "syncrequestvalue")?;
        let mut r: Reader<'_> = outer.reader();
        let mode_tlv = r.read_tagged(tag::ENUMERATED, "mode")?;
        let raw = mode_tlv.integer("mode")?;
        let mode = SyncRequestMode::from_value(raw).ok_or(DecodeError::UnknownValue {
            what: "mode",
            offset: mode_tlv.offset,
            value: raw,
        })?;
        let cookie = read_cookie(&mut r)?;
        let reload_hint = read_default_bool(&mut r, "reloadhint", false)?;
        r.skip_extensions(
            &[tag::ENUMERATED, tag::OCTET_STRING, tag::BOOLEAN],
            "syncrequestvalue",
        )?;
        Ok(Self {
            mode,
            cookie,
            reload_hint,
        })
    }
}
