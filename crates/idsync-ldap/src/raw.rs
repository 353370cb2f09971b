//! The protocol messages of one sync search, as the server sent them.
//!
//! [`RawMessage`] is the unit shared by the live session (which builds it from ldap3's
//! search items), the trace writer (which records it as idiotrace LDIF) and the replay source
//! (which reads it back). Everything after it — the RFC 4533 protocol machine and the flavour
//! mapping — is the same code for a live server and a replayed trace.

/// LDAP protocol op numbers of the messages a search can produce (RFC 4511 §4.2 tags).
pub mod op {
    /// SearchResultEntry.
    pub const SEARCH_RESULT_ENTRY: u64 = 4;
    /// SearchResultDone.
    pub const SEARCH_RESULT_DONE: u64 = 5;
    /// SearchResultReference.
    pub const SEARCH_RESULT_REFERENCE: u64 = 19;
    /// IntermediateResponse.
    pub const INTERMEDIATE_RESPONSE: u64 = 25;
}

/// One control as it came over the wire: the value is still BER, decoded later by tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawControl {
    /// The control's OID.
    pub oid: String,
    /// The criticality flag.
    pub critical: bool,
    /// The raw control value, when present.
    pub value: Option<Vec<u8>>,
}

/// One attribute of an entry: its description as the server spelled it and its raw values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAttribute {
    /// Attribute description (`uid`, `member`, `nsAccountLock`, …), case as sent.
    pub name: String,
    /// The values as bytes (binary values, e.g. `objectGUID`, are not UTF-8).
    pub values: Vec<Vec<u8>>,
}

/// A search result entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntry {
    /// The entry's DN.
    pub dn: String,
    /// Its attributes, in the order sent.
    pub attributes: Vec<RawAttribute>,
    /// Per-entry controls (the syncState control for RFC 4533).
    pub controls: Vec<RawControl>,
}

impl RawEntry {
    /// The values of an attribute, compared case-insensitively; empty when absent.
    pub fn values(&self, name: &str) -> &[Vec<u8>] {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
            .map(|attribute| attribute.values.as_slice())
            .unwrap_or(&[])
    }
}

/// An intermediate response (RFC 4511 §4.13): for RFC 4533, a syncInfo message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawIntermediate {
    /// responseName (the syncInfo OID `1.3.6.1.4.1.4203.1.9.1.4` for RFC 4533).
    pub name: Option<String>,
    /// responseValue (the BER syncInfoValue).
    pub value: Option<Vec<u8>>,
    /// Message controls.
    pub controls: Vec<RawControl>,
}

/// The SearchResultDone of a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDone {
    /// The LDAP result code (0 success, 4096 e-syncRefreshRequired, …).
    pub result_code: u32,
    /// matchedDN.
    pub matched_dn: String,
    /// diagnosticMessage.
    pub message: String,
    /// Response controls (the syncDone control for RFC 4533).
    pub controls: Vec<RawControl>,
}

/// One message of a search, in the order the server sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawMessage {
    /// SearchResultEntry.
    Entry(RawEntry),
    /// SearchResultReference: the referral URLs (never followed; logged and skipped).
    Reference(Vec<String>),
    /// IntermediateResponse.
    Intermediate(RawIntermediate),
    /// SearchResultDone: the last message of the search.
    Done(RawDone),
}

impl RawMessage {
    /// The protocol op number of this message (see [`op`]).
    pub fn op(&self) -> u64 {
        match self {
            RawMessage::Entry(_) => op::SEARCH_RESULT_ENTRY,
            RawMessage::Reference(_) => op::SEARCH_RESULT_REFERENCE,
            RawMessage::Intermediate(_) => op::INTERMEDIATE_RESPONSE,
            RawMessage::Done(_) => op::SEARCH_RESULT_DONE,
        }
    }
}
