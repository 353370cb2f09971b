//! BER framing of server messages, read the way lber reads them, without recursion.
//!
//! lber (ldap3's BER parser) reads a tag as one byte (class, constructed bit, 5-bit number) and a
//! length in short form (< 128) or as `0x80 | n` followed by `n` big-endian bytes. It descends
//! into every constructed element recursively. This module finds where a message ends and
//! checks, with an explicit stack, that every element fits inside its parent and that nesting
//! stays shallow — so that lber, which runs next, can neither recurse without bound nor wait
//! forever for bytes an inner length promised.

/// Deepest nesting of constructed elements accepted in one message. An LDAP search result
/// entry with controls is about 8 deep; nothing a server sends legitimately comes near.
pub const MAX_DEPTH: usize = 32;

/// Largest message accepted, in bytes. A group entry with 3 million member DNs fits.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// Why a message from the server is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// The outer length announces more than [`MAX_MESSAGE_BYTES`].
    #[error("the server announced a message of {announced} bytes (the limit is {limit})")]
    TooLarge {
        /// The announced size, header included (saturated at `u64::MAX`).
        announced: u64,
        /// The limit.
        limit: usize,
    },
    /// Constructed elements are nested deeper than [`MAX_DEPTH`].
    #[error("the server sent a message nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A length uses a form LDAP forbids (indefinite) or more than 8 bytes.
    #[error("the server sent a BER length {0}")]
    LengthForm(&'static str),
    /// The message lacks what ldap3 reads without checking (see `envelope`).
    #[error("the server sent an LDAP message ldap3 cannot read: {0}")]
    Envelope(&'static str),
    /// An inner element claims more bytes than its enclosing element holds.
    #[error(
        "the server sent a message whose element at byte {offset} runs past its enclosing element"
    )]
    Overrun {
        /// Where the element starts, from the start of the message.
        offset: usize,
    },
}

/// The tag and length at the start of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Bytes taken by the tag and the length.
    pub header_len: usize,
    /// Bytes of content that follow the header.
    pub content_len: u64,
    /// The constructed bit of the tag.
    pub constructed: bool,
}

impl Header {
    /// The whole element's size (saturating: a huge length is refused by the caller).
    fn total(&self) -> u64 {
        (self.header_len as u64).saturating_add(self.content_len)
    }
}

/// Reads the header at the start of `bytes`: `Ok(None)` when more bytes are needed.
pub fn header(bytes: &[u8]) -> Result<Option<Header>, Violation> {
    let Some((&tag, rest)) = bytes.split_first() else {
        return Ok(None);
    };
    let Some((&first, rest)) = rest.split_first() else {
        return Ok(None);
    };
    let constructed = tag & 0x20 != 0;
    if first < 0x80 {
        return Ok(Some(Header {
            header_len: 2,
            content_len: u64::from(first),
            constructed,
        }));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 {
        return Err(Violation::LengthForm("in indefinite form"));
    }
    if count > 8 {
        return Err(Violation::LengthForm("of more than 8 bytes"));
    }
    let Some(length_bytes) = rest.get(..count) else {
        return Ok(None);
    };
    let content_len = length_bytes
        .iter()
        .fold(0u64, |value, &byte| (value << 8) | u64::from(byte));
    Ok(Some(Header {
        header_len: 2 + count,
        content_len,
        constructed,
    }))
}

/// The size of the message at the start of `buffer` once its header is there (`Ok(None)`
/// before), refusing sizes above `limit`.
pub fn message_len(buffer: &[u8], limit: usize) -> Result<Option<usize>, Violation> {
    let Some(header) = header(buffer)? else {
        return Ok(None);
    };
    let total = header.total();
    match usize::try_from(total) {
        Ok(total) if total <= limit => Ok(Some(total)),
        _ => Err(Violation::TooLarge {
            announced: total,
            limit,
        }),
    }
}

/// Checks a whole message (exactly one element): every element fits in its parent and
/// constructed elements nest at most `max_depth` deep.
pub fn check_message(message: &[u8], max_depth: usize) -> Result<(), Violation> {
    // Ends (offsets into `message`) of the constructed elements we are inside.
    let mut open_ends: Vec<usize> = Vec::new();
    let mut offset = 0usize;
    let end_of_message = message.len();
    while offset < end_of_message {
        while open_ends.last() == Some(&offset) {
            open_ends.pop();
        }
        let limit = open_ends.last().copied().unwrap_or(end_of_message);
        let rest = message.get(offset..limit).unwrap_or_default();
        let header = header(rest)?.ok_or(Violation::Overrun { offset })?;
        let end = usize::try_from(header.total())
            .ok()
            .and_then(|size| offset.checked_add(size))
            .filter(|&end| end <= limit)
            .ok_or(Violation::Overrun { offset })?;
        if header.constructed {
            if open_ends.len() >= max_depth {
                return Err(Violation::TooDeep { limit: max_depth });
            }
            open_ends.push(end);
            offset += header.header_len;
        } else {
            offset = end;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A SearchResultDone for message 2, result 0.
    const DONE: &[u8] = &[
        0x30, 0x0c, 0x02, 0x01, 0x02, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
    ];

    /// `depth` SEQUENCEs around an empty OCTET STRING (built outside-in, in linear time).
    fn nested(depth: usize) -> Vec<u8> {
        let mut headers = Vec::with_capacity(depth);
        let mut size = 2usize;
        for _ in 0..depth {
            let header = if size < 128 {
                vec![0x30, size as u8]
            } else {
                let mut header = vec![0x30, 0x84];
                header.extend_from_slice(&(size as u32).to_be_bytes());
                header
            };
            size += header.len();
            headers.push(header);
        }
        let mut message: Vec<u8> = headers.into_iter().rev().flatten().collect();
        message.extend_from_slice(&[0x04, 0x00]);
        message
    }

    #[test]
    fn a_real_message_passes() {
        assert_eq!(message_len(DONE, MAX_MESSAGE_BYTES), Ok(Some(DONE.len())));
        assert_eq!(check_message(DONE, MAX_DEPTH), Ok(()));
    }

    #[test]
    fn headers_need_their_bytes() {
        assert_eq!(header(&[]), Ok(None));
        assert_eq!(header(&[0x30]), Ok(None));
        assert_eq!(header(&[0x30, 0x82, 0x01]), Ok(None));
        assert_eq!(
            header(&[0x30, 0x82, 0x01, 0x00]),
            Ok(Some(Header {
                header_len: 4,
                content_len: 256,
                constructed: true
            }))
        );
    }

    #[test]
    fn length_forms_ldap_forbids_are_refused() {
        assert!(matches!(
            header(&[0x30, 0x80]),
            Err(Violation::LengthForm(_))
        ));
        assert!(matches!(
            header(&[0x30, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            Err(Violation::LengthForm(_))
        ));
    }

    #[test]
    fn announced_sizes_above_the_limit_are_refused_before_reading_them() {
        let huge = [0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            message_len(&huge, MAX_MESSAGE_BYTES),
            Err(Violation::TooLarge { .. })
        ));
        assert!(matches!(
            message_len(&[0x30, 0x84, 0x10, 0, 0, 0], MAX_MESSAGE_BYTES),
            Err(Violation::TooLarge { .. })
        ));
    }

    #[test]
    fn nesting_up_to_the_limit_passes_and_beyond_is_refused() {
        assert_eq!(check_message(&nested(MAX_DEPTH), MAX_DEPTH), Ok(()));
        assert_eq!(
            check_message(&nested(MAX_DEPTH + 1), MAX_DEPTH),
            Err(Violation::TooDeep { limit: MAX_DEPTH })
        );
        // What would overflow lber's stack is refused without recursion.
        let hostile = nested(200_000);
        assert_eq!(
            check_message(&hostile, MAX_DEPTH),
            Err(Violation::TooDeep { limit: MAX_DEPTH })
        );
    }

    #[test]
    fn an_inner_element_longer_than_its_parent_is_refused() {
        // SEQUENCE(3) { OCTET STRING claiming 5 bytes }
        let message = [0x30, 0x03, 0x04, 0x05, 0x00];
        assert_eq!(
            check_message(&message, MAX_DEPTH),
            Err(Violation::Overrun { offset: 2 })
        );
        // SEQUENCE(3) { a header cut off by the parent's end }
        let message = [0x30, 0x01, 0x04, 0x00, 0x00];
        assert_eq!(
            check_message(&message, MAX_DEPTH),
            Err(Violation::Overrun { offset: 2 })
        );
    }

    #[test]
    fn siblings_after_a_closed_element_are_read_at_the_right_level() {
        // SEQUENCE { SEQUENCE { INTEGER }, SEQUENCE { INTEGER } }
        let message = [
            0x30, 0x0a, 0x30, 0x03, 0x02, 0x01, 0x01, 0x30, 0x03, 0x02, 0x01, 0x02,
        ];
        assert_eq!(check_message(&message, 2), Ok(()));
        assert_eq!(
            check_message(&message, 1),
            Err(Violation::TooDeep { limit: 1 })
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x1234_5678u32;
        for _ in 0..20_000 {
            let len = (state % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    (state & 0xff) as u8
                })
                .collect();
            let _ = message_len(&bytes, 1024);
            let _ = check_message(&bytes, 4);
        }
    }
}
