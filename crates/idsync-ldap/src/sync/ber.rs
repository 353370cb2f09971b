//! A small BER reader and writer for exactly what RFC 4533 needs.
//!
//! Why not a crate: `der` decodes DER only, and rejects what BER allows and directory servers
//! send: non-minimal long-form lengths (Active Directory writes 4-octet lengths such as
//! `84 00 00 00 15`), DEFAULT components sent with their default value, a TRUE other than
//! `0xFF`. `rasn` does BER, but as a large codec framework (derive macros, big dependency tree)
//! for four tiny values; hand-written decoding here is about 150 lines we can fuzz and reason
//! about completely.
//!
//! This reader covers the subset that RFC 4511 §5.1 allows on the wire and RFC 4533 uses:
//!
//! * single-octet identifiers only (tag numbers 0..=30: universal BOOLEAN, INTEGER, OCTET
//!   STRING, ENUMERATED, SEQUENCE, SET and context-specific `[0]`..`[3]`);
//! * definite lengths only, short or long form (at most 8 length octets, leading zeros
//!   allowed); a length must fit in what is left of the enclosing element, so a claimed length
//!   never drives an allocation;
//! * primitive OCTET STRINGs only (RFC 4511 §5.1).
//!
//! Every read is bounds-checked and returns a [`DecodeError`] carrying the offset (from the start
//! of the decoded value) of the element at fault.

use super::error::DecodeError;

/// Identifier octets used by RFC 4533.
pub(crate) mod tag {
    /// Universal 1, primitive.
    pub const BOOLEAN: u8 = 0x01;
    /// Universal 4, primitive.
    pub const OCTET_STRING: u8 = 0x04;
    /// Universal 10, primitive.
    pub const ENUMERATED: u8 = 0x0a;
    /// Universal 16, constructed.
    pub const SEQUENCE: u8 = 0x30;
    /// Universal 17, constructed.
    pub const SET: u8 = 0x31;
    /// `[n]` context-specific primitive.
    pub const fn context(n: u8) -> u8 {
        0x80 | n
    }
    /// `[n]` context-specific constructed.
    pub const fn context_constructed(n: u8) -> u8 {
        0xa0 | n
    }
}

/// One decoded element: its identifier octet, where it starts, and its contents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// Offset of the identifier octet.
    pub offset: usize,
    /// Offset of the first content octet.
    pub content_offset: usize,
    /// The content octets.
    pub content: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// A reader over this element's contents (for constructed elements).
    pub fn reader(&self) -> Reader<'a> {
        Reader {
            input: self.content,
            pos: 0,
            base: self.content_offset,
        }
    }

    /// Fails unless the element has the expected tag.
    pub fn expect(self, expected: u8, what: &'static str) -> Result<Self, DecodeError> {
        if self.tag == expected {
            Ok(self)
        } else {
            Err(DecodeError::UnexpectedTag {
                what,
                offset: self.offset,
                expected,
                found: self.tag,
            })
        }
    }

    /// The contents as a BOOLEAN (exactly one octet; any non-zero octet is TRUE, as X.690 §8.2
    /// allows).
    pub fn boolean(&self, what: &'static str) -> Result<bool, DecodeError> {
        match self.content {
            [b] => Ok(*b != 0),
            _ => Err(DecodeError::Invalid {
                what,
                offset: self.offset,
                reason: "a boolean must have exactly one content octet",
            }),
        }
    }

    /// The contents as an INTEGER or ENUMERATED (two's complement, 1..=8 octets).
    pub fn integer(&self, what: &'static str) -> Result<i64, DecodeError> {
        let Some((&first, _)) = self.content.split_first() else {
            return Err(DecodeError::Invalid {
                what,
                offset: self.offset,
                reason: "an integer needs at least one content octet",
            });
        };
        if self.content.len() > 8 {
            return Err(DecodeError::Invalid {
                what,
                offset: self.offset,
                reason: "integer does not fit in 64 bits",
            });
        }
        let mut value: i64 = if first & 0x80 != 0 { -1 } else { 0 };
        for &b in self.content {
            value = (value << 8) | i64::from(b);
        }
        Ok(value)
    }

    /// The contents as exactly 16 octets (a syncUUID).
    pub fn uuid(&self, what: &'static str) -> Result<[u8; 16], DecodeError> {
        <[u8; 16]>::try_from(self.content).map_err(|_| DecodeError::BadUuidLength {
            what,
            offset: self.offset,
            length: self.content.len(),
        })
    }
}

/// A cursor over a run of BER elements (a whole value, or the contents of a constructed one).
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    /// Offset of `input[0]` in the outermost value, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole value; offsets in errors count from its first octet.
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            base: 0,
        }
    }

    /// True when every element has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// The absolute offset of the next unread octet.
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// The identifier octet of the next element, if any, without consuming anything.
    pub fn peek_tag(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Reads the next element (identifier, length, contents).
    pub fn read(&mut self, what: &'static str) -> Result<Tlv<'a>, DecodeError> {
        let start = self.offset();
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let Some((&tag, rest)) = rest.split_first() else {
            return Err(DecodeError::Truncated {
                what,
                offset: start,
            });
        };
        if tag & 0x1f == 0x1f {
            return Err(DecodeError::HighTagNumber {
                what,
                offset: start,
            });
        }
        let Some((&first, mut rest)) = rest.split_first() else {
            return Err(DecodeError::Truncated {
                what,
                offset: start,
            });
        };
        let mut header = 2usize;
        let length: u64 = match first {
            0x00..=0x7f => u64::from(first),
            0x80 => {
                return Err(DecodeError::IndefiniteLength {
                    what,
                    offset: start,
                })
            }
            0xff => {
                return Err(DecodeError::Invalid {
                    what,
                    offset: start,
                    reason: "length octet 0xff is reserved",
                })
            }
            _ => {
                let count = usize::from(first & 0x7f);
                if count > 8 {
                    return Err(DecodeError::LengthTooLong {
                        what,
                        offset: start,
                        octets: count,
                    });
                }
                let Some((octets, after)) = rest.split_at_checked(count) else {
                    return Err(DecodeError::Truncated {
                        what,
                        offset: start,
                    });
                };
                rest = after;
                header = header.saturating_add(count);
                octets
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
            }
        };
        let available = rest.len();
        let length = match usize::try_from(length) {
            Ok(length) if length <= available => length,
            _ => {
                return Err(DecodeError::LengthBeyondInput {
                    what,
                    offset: start,
                    length,
                    available,
                })
            }
        };
        let Some((content, _)) = rest.split_at_checked(length) else {
            return Err(DecodeError::LengthBeyondInput {
                what,
                offset: start,
                length: length as u64,
                available,
            });
        };
        let content_offset = start.saturating_add(header);
        self.pos = self.pos.saturating_add(header).saturating_add(length);
        Ok(Tlv {
            tag,
            offset: start,
            content_offset,
            content,
        })
    }

    /// Reads the next element and checks its tag.
    pub fn read_tagged(
        &mut self,
        expected: u8,
        what: &'static str,
    ) -> Result<Tlv<'a>, DecodeError> {
        self.read(what)?.expect(expected, what)
    }

    /// Reads the next element if it has the given tag; `None` when the next element has another
    /// tag or nothing is left.
    pub fn read_optional(
        &mut self,
        expected: u8,
        what: &'static str,
    ) -> Result<Option<Tlv<'a>>, DecodeError> {
        if self.peek_tag() == Some(expected) {
            self.read(what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless everything has been read.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingData {
                what,
                offset: self.offset(),
            })
        }
    }

    /// Ends a SEQUENCE whose known components have been read: every remaining element must be
    /// well-formed and must not carry one of the `known` tags (a known component out of order or
    /// repeated is an error, not an extension; so is a known tag in the other form, primitive
    /// or constructed, such as a constructed OCTET STRING). Unknown trailing components are
    /// skipped, as RFC 4511 §4 asks of LDAP peers for future extensions.
    pub fn skip_extensions(&mut self, known: &[u8], what: &'static str) -> Result<(), DecodeError> {
        while !self.is_empty() {
            let element = self.read(what)?;
            if known.contains(&element.tag) || known.contains(&(element.tag ^ 0x20)) {
                return Err(DecodeError::Invalid {
                    what,
                    offset: element.offset,
                    reason: "component repeated or out of order",
                });
            }
        }
        Ok(())
    }
}

/// Appends BER elements to a buffer, with minimal definite lengths.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn length(&mut self, length: usize) {
        if length < 0x80 {
            // Fits in the short form.
            self.buf.push(length as u8);
        } else {
            let bytes = (length as u64).to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let significant = bytes.get(skip..).unwrap_or_default();
            self.buf.push(0x80 | significant.len() as u8);
            self.buf.extend_from_slice(significant);
        }
    }

    /// An element with the given contents.
    pub fn element(&mut self, tag: u8, content: &[u8]) {
        self.buf.push(tag);
        self.length(content.len());
        self.buf.extend_from_slice(content);
    }

    /// A constructed element whose contents `f` writes.
    pub fn constructed(&mut self, tag: u8, f: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::new();
        f(&mut inner);
        self.element(tag, &inner.buf);
    }

    /// A BOOLEAN (TRUE as `0xFF`, RFC 4511 §5.1).
    pub fn boolean(&mut self, value: bool) {
        self.element(tag::BOOLEAN, &[if value { 0xff } else { 0x00 }]);
    }

    /// An INTEGER or ENUMERATED (with the given tag) in minimal two's complement.
    pub fn integer(&mut self, tag: u8, value: i64) {
        let bytes = value.to_be_bytes();
        let mut start = 0;
        while start < 7 {
            let (Some(&b), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) else {
                break;
            };
            let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
            if !redundant {
                break;
            }
            start += 1;
        }
        self.element(tag, bytes.get(start..).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<Tlv<'_>, DecodeError> {
        Reader::new(bytes).read("element")
    }

    #[test]
    fn short_and_long_form_lengths() {
        let t = one(&[0x04, 0x02, b'h', b'i']).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.content, b"hi");
        // Non-minimal long forms are BER and accepted (liblber writes 4-octet lengths).
        let t = one(&[0x04, 0x84, 0, 0, 0, 2, b'h', b'i']).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.content, t.content_offset), (&b"hi"[..], 6));
        let t = one(&[0x04, 0x81, 0x01, b'x']).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.content, b"x");
    }

    #[test]
    fn bad_lengths_are_errors() {
        assert!(matches!(
            one(&[0x30, 0x80, 0, 0]),
            Err(DecodeError::IndefiniteLength { offset: 0, .. })
        ));
        assert!(matches!(
            one(&[0x04, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            Err(DecodeError::LengthTooLong { octets: 9, .. })
        ));
        // The largest length that 8 octets can state.
        assert!(matches!(
            one(&[0x04, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::LengthBeyondInput {
                length: u64::MAX,
                available: 0,
                ..
            })
        ));
        assert!(matches!(
            one(&[0x04, 0x84, 0x7f, 0xff, 0xff, 0xff, 1]),
            Err(DecodeError::LengthBeyondInput { available: 1, .. })
        ));
        assert!(matches!(
            one(&[0x04, 0x82, 0x01]),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(one(&[0x04]), Err(DecodeError::Truncated { .. })));
        assert!(matches!(one(&[]), Err(DecodeError::Truncated { .. })));
        assert!(matches!(
            one(&[0x04, 0xff]),
            Err(DecodeError::Invalid { .. })
        ));
        assert!(matches!(
            one(&[0x1f, 0x01, 0x00]),
            Err(DecodeError::HighTagNumber { .. })
        ));
    }

    #[test]
    fn integers_and_booleans() {
        for (bytes, value) in [
            (&[0x00][..], 0i64),
            (&[0x7f], 127),
            (&[0x00, 0x80], 128),
            (&[0xff], -1),
            (&[0x80], -128),
            (&[0x00, 0x00, 0x03], 3), // non-minimal, tolerated
        ] {
            let mut encoded = vec![0x02, bytes.len() as u8];
            encoded.extend_from_slice(bytes);
            let t = one(&encoded).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.integer("i").ok(), Some(value));
        }
        let empty = one(&[0x02, 0x00]).unwrap_or_else(|e| panic!("{e}"));
        assert!(empty.integer("i").is_err());
        let long = one(&[0x02, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap_or_else(|e| panic!("{e}"));
        assert!(long.integer("i").is_err());
        for (byte, value) in [(0x00, false), (0x01, true), (0xff, true)] {
            let bytes = [0x01, 0x01, byte];
            let t = one(&bytes).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.boolean("b").ok(), Some(value));
        }
        let two = one(&[0x01, 0x02, 0xff, 0xff]).unwrap_or_else(|e| panic!("{e}"));
        assert!(two.boolean("b").is_err());
    }

    #[test]
    fn writer_minimal_encodings() {
        for value in [
            0i64,
            1,
            3,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            i64::MAX,
            i64::MIN,
        ] {
            let mut w = Writer::new();
            w.integer(0x02, value);
            let bytes = w.into_bytes();
            let t = one(&bytes).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.integer("i").ok(), Some(value), "{value}");
        }
        let mut w = Writer::new();
        w.integer(tag::ENUMERATED, 3);
        assert_eq!(w.into_bytes(), [0x0a, 0x01, 0x03]);
        for (len, header) in [
            (0usize, vec![0x04, 0x00]),
            (127, vec![0x04, 0x7f]),
            (128, vec![0x04, 0x81, 0x80]),
            (256, vec![0x04, 0x82, 0x01, 0x00]),
        ] {
            let mut w = Writer::new();
            w.element(tag::OCTET_STRING, &vec![7; len]);
            let bytes = w.into_bytes();
            assert_eq!(bytes.get(..header.len()), Some(&header[..]));
            assert_eq!(bytes.len(), header.len() + len);
        }
    }
}
