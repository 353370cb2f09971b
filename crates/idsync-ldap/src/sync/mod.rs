//! RFC 4533 (LDAP Content Synchronization): the sync request, state and done controls and the
//! syncInfo intermediate response, decoded and encoded without panics.
//!
//! One job per module: [`request`] (the control idsync sends), [`state`] (the control on each
//! entry), [`done`] (the control on SearchResultDone), [`info`] (the intermediate response),
//! [`DecodeError`] for everything that can be wrong with their bytes, and a small BER
//! reader/writer underneath.
//!
//! # How the decoders read
//!
//! * **By tag, never by position.** Every OPTIONAL and DEFAULT component may be absent; a
//!   DEFAULT component sent explicitly with its default value is accepted too (BER allows it).
//! * **Extensions.** RFC 4511 §4 asks LDAP peers to ignore SEQUENCE components they do not
//!   recognise, so after the known components of a SEQUENCE any further well-formed elements are
//!   skipped, unless one carries the tag of a known component (repeated or out of order: an
//!   error). An unknown syncInfo alternative, an unknown ENUMERATED value, anything inside the
//!   `SET OF syncUUID` other than 16-octet OCTET STRINGs, and octets after the outer element are
//!   errors: their meaning cannot be guessed and guessing could lose deletions.
//! * **BER as servers send it:** long-form lengths (also non-minimal), any non-zero BOOLEAN octet
//!   as TRUE, non-minimal INTEGERs. Not accepted: indefinite lengths and constructed OCTET
//!   STRINGs (both forbidden by RFC 4511 §5.1), multi-octet tags.
//! * **No allocation from a claimed length:** a length larger than what is left of the input is
//!   an error before anything is copied.
//!
//! The encoders write minimal definite lengths, TRUE as `0xFF`, and leave DEFAULT components
//! out when they have their default value (as OpenLDAP does).

mod ber;
pub mod done;
mod error;
pub mod info;
pub mod request;
pub mod state;

#[cfg(test)]
mod tests;

use idsync_core::EntryId;

pub use done::SyncDoneValue;
pub use error::DecodeError;
pub use info::SyncInfoValue;
pub use request::{SyncRequestMode, SyncRequestValue};
pub use state::{SyncState, SyncStateValue};

/// OID of the Sync Request Control (RFC 4533 §2.2), sent by the client with the search.
pub const SYNC_REQUEST_OID: &str = "1.3.6.1.4.1.4203.1.9.1.1";
/// OID of the Sync State Control (RFC 4533 §2.3), attached to each entry (or reference).
pub const SYNC_STATE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.2";
/// OID of the Sync Done Control (RFC 4533 §2.4), attached to SearchResultDone.
pub const SYNC_DONE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.3";
/// OID (responseName) of the Sync Info Message (RFC 4533 §2.5), an IntermediateResponse.
pub const SYNC_INFO_OID: &str = "1.3.6.1.4.1.4203.1.9.1.4";
/// The `e-syncRefreshRequired` result code (RFC 4533 §2.6): the server cannot resume from the
/// cookie; start over with a full refresh (without cookie).
pub const SYNC_REFRESH_REQUIRED: u32 = 4096;

/// A syncUUID (RFC 4533 §2.1: the 16 octets of the entry's UUID, network order) as idsync's
/// permanent entry identity.
pub fn entry_id(sync_uuid: [u8; 16]) -> EntryId {
    EntryId::from_bytes(sync_uuid)
}

/// Reads an OPTIONAL `syncCookie OCTET STRING` at the current position.
fn read_cookie(reader: &mut ber::Reader<'_>) -> Result<Option<Vec<u8>>, DecodeError> {
    Ok(reader
        .read_optional(ber::tag::OCTET_STRING, "cookie")?
        .map(|t| t.content.to_vec()))
}

/// Reads an optional BOOLEAN with a DEFAULT value at the current position.
fn read_default_bool(
    reader: &mut ber::Reader<'_>,
    what: &'static str,
    default: bool,
) -> Result<bool, DecodeError> {
    match reader.read_optional(ber::tag::BOOLEAN, what)? {
        Some(t) => t.boolean(what),
        None => Ok(default),
    }
}

/// Reads the one outer element of a value and checks nothing follows it.
fn read_outer<'a>(
    input: &'a [u8],
    expected: u8,
    what: &'static str,
) -> Result<ber::Tlv<'a>, DecodeError> {
    let mut reader = ber::Reader::new(input);
    let outer = reader.read_tagged(expected, what)?;
    reader.finish(what)?;
    Ok(outer)
}
