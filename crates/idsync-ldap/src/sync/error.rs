//! The one error type of the sync codecs.

/// Why a sync control or syncInfo value could not be decoded.
///
/// Every offset counts octets from the first octet of the value handed to the decoder (the
/// control value or the intermediate response value) and points at the identifier octet of the
/// element at fault, unless said otherwise.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends inside an element's identifier or length octets.
    #[error("truncated {what} at offset {offset}")]
    Truncated {
        /// The element being read.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
    },
    /// An element's length is larger than what is left of the input or enclosing element.
    #[error(
        "{what} at offset {offset} claims {length} content octets but only {available} remain"
    )]
    LengthBeyondInput {
        /// The element being read.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
        /// The length it claims.
        length: u64,
        /// The octets actually left after its header.
        available: usize,
    },
    /// The long-form length uses more than 8 octets.
    #[error("length of {what} at offset {offset} has {octets} octets (at most 8 are accepted)")]
    LengthTooLong {
        /// The element being read.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
        /// How many length octets it announced.
        octets: usize,
    },
    /// The indefinite length form, which LDAP forbids (RFC 4511 §5.1).
    #[error("indefinite length for {what} at offset {offset} (ldap allows only definite lengths)")]
    IndefiniteLength {
        /// The element being read.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
    },
    /// A multi-octet identifier (tag number 31 or more), which RFC 4533 never uses.
    #[error("multi-octet tag for {what} at offset {offset} (not used by rfc 4533)")]
    HighTagNumber {
        /// The element being read.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
    },
    /// An element other than the one the grammar requires at this place.
    #[error(
        "unexpected tag 0x{found:02x} for {what} at offset {offset} (expected 0x{expected:02x})"
    )]
    UnexpectedTag {
        /// The element expected.
        what: &'static str,
        /// Where the element found starts.
        offset: usize,
        /// The identifier octet expected.
        expected: u8,
        /// The identifier octet found.
        found: u8,
    },
    /// A syncInfo value whose CHOICE alternative is none of `[0]`..`[3]` in their right form.
    #[error("unknown syncinfo alternative with tag 0x{found:02x} at offset {offset}")]
    UnknownChoice {
        /// Where the element starts.
        offset: usize,
        /// Its identifier octet.
        found: u8,
    },
    /// An ENUMERATED value the RFC does not define.
    #[error("unknown {what} value {value} at offset {offset}")]
    UnknownValue {
        /// The field.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
        /// The value found.
        value: i64,
    },
    /// A syncUUID (entryUUID) that is not exactly 16 octets.
    #[error("{what} at offset {offset} has {length} octets (a syncuuid has 16)")]
    BadUuidLength {
        /// The field.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
        /// Its actual length.
        length: usize,
    },
    /// Octets left over after the value (or inside a primitive-only context).
    #[error("trailing data after {what} at offset {offset}")]
    TrailingData {
        /// What was complete.
        what: &'static str,
        /// Where the extra octets start.
        offset: usize,
    },
    /// An element that is well-formed BER but breaks a rule of its own type.
    #[error("invalid {what} at offset {offset}: {reason}")]
    Invalid {
        /// The element.
        what: &'static str,
        /// Where the element starts.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl DecodeError {
    /// The offset the error refers to.
    pub fn offset(&self) -> usize {
        match self {
            Self::Truncated { offset, .. }
            | Self::LengthBeyondInput { offset, .. }
            | Self::LengthTooLong { offset, .. }
            | Self::IndefiniteLength { offset, .. }
            | Self::HighTagNumber { offset, .. }
            | Self::UnexpectedTag { offset, .. }
            | Self::UnknownChoice { offset, .. }
            | Self::UnknownValue { offset, .. }
            | Self::BadUuidLength { offset, .. }
            | Self::TrailingData { offset, .. }
            | Self::Invalid { offset, .. } => *offset,
        }
    }
}
