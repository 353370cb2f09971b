//! The shape ldap3 assumes of every LDAPMessage before it reads it.
//!
//! ldap3's codec takes the elements of the message from its end — controls (`[0]`, or the
//! stray `[10]` Active Directory puts there), the protocol op, the message id — and its control
//! parser reads each control's type, criticality and value, all with `expect`: a message that
//! lacks one of them panics inside the connection driver. The session contains such a panic,
//! but the guard refuses these messages first, with an error that says what is missing.
//!
//! Runs after [`frame::check_message`](super::frame::check_message): every length fits.

use super::frame::{header, Violation};

/// BER identifier octets as lber reads them: class (2 bits), constructed (1), number (5).
const CONSTRUCTED: u8 = 0x20;
const CLASS_MASK: u8 = 0xc0;
const CLASS_CONTEXT: u8 = 0x80;
const NUMBER_MASK: u8 = 0x1f;
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BOOLEAN_NUMBER: u8 = 1;
const OCTET_STRING_NUMBER: u8 = 4;

/// One element: its identifier octet and its content.
#[derive(Clone, Copy)]
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
}

impl Element<'_> {
    fn constructed(&self) -> bool {
        self.tag & CONSTRUCTED != 0
    }

    fn context(&self, number: u8) -> bool {
        self.tag & CLASS_MASK == CLASS_CONTEXT && self.tag & NUMBER_MASK == number
    }

    fn number(&self) -> u8 {
        self.tag & NUMBER_MASK
    }
}

fn refused(what: &'static str) -> Violation {
    Violation::Envelope(what)
}

/// The elements inside `content`, in order.
fn elements(mut content: &[u8]) -> Result<Vec<Element<'_>>, Violation> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let head = header(content)?.ok_or(refused("an element is cut off"))?;
        let end = usize::try_from(head.content_len)
            .ok()
            .and_then(|len| len.checked_add(head.header_len))
            .ok_or(refused("an element is cut off"))?;
        let (Some(&tag), Some(inner), Some(rest)) = (
            content.first(),
            content.get(head.header_len..end),
            content.get(end..),
        ) else {
            return Err(refused("an element is cut off"));
        };
        out.push(Element {
            tag,
            content: inner,
        });
        content = rest;
    }
    Ok(out)
}

/// Checks the LDAPMessage `message` (one whole, framed element) as ldap3's codec reads it.
pub fn check_envelope(message: &[u8]) -> Result<(), Violation> {
    let outer = elements(message)?;
    let Some(outer) = outer.first() else {
        return Err(refused("the message is empty"));
    };
    if outer.tag != SEQUENCE {
        return Err(refused("the message is not a SEQUENCE"));
    }
    let mut parts = elements(outer.content)?;
    let last = parts.pop().ok_or(refused("the message has no elements"))?;
    if last.context(0) {
        if !last.constructed() {
            return Err(refused("the controls are not a SEQUENCE"));
        }
        check_controls(last.content)?;
        parts
            .pop()
            .ok_or(refused("the message has no protocol op"))?;
    } else if last.context(10) {
        // Active Directory's stray element: ldap3 drops it and takes the op before it.
        parts
            .pop()
            .ok_or(refused("the message has no protocol op"))?;
    }
    let id = parts
        .pop()
        .ok_or(refused("the message has no message id"))?;
    if id.tag != INTEGER {
        return Err(refused("the message id is not an INTEGER"));
    }
    Ok(())
}

/// Controls ::= SEQUENCE OF Control; Control ::= SEQUENCE { controlType LDAPOID,
/// criticality BOOLEAN DEFAULT FALSE, controlValue OCTET STRING OPTIONAL }, as ldap3 reads it
/// (it matches the criticality and the value by tag number only).
fn check_controls(content: &[u8]) -> Result<(), Violation> {
    for control in elements(content)? {
        if !control.constructed() {
            return Err(refused("a control is not a SEQUENCE"));
        }
        let mut components = elements(control.content)?.into_iter();
        let kind = components.next().ok_or(refused("a control has no type"))?;
        if kind.constructed() || std::str::from_utf8(kind.content).is_err() {
            return Err(refused("a control's type is not a UTF-8 string"));
        }
        let value = match components.next() {
            None => None,
            Some(next) if next.number() == BOOLEAN_NUMBER => {
                if next.constructed() || next.content.is_empty() {
                    return Err(refused("a control's criticality is not a BOOLEAN"));
                }
                components.next()
            }
            Some(next) if next.number() == OCTET_STRING_NUMBER => Some(next),
            Some(_) => return Err(refused("a control has an element of an unknown kind")),
        };
        if value.is_some_and(|value| value.constructed()) {
            return Err(refused("a control's value is not an OCTET STRING"));
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

    /// `SEQUENCE { parts }` with a short length.
    fn seq(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let content: Vec<u8> = parts.concat();
        let mut out = vec![tag, u8::try_from(content.len()).unwrap()];
        out.extend_from_slice(&content);
        out
    }

    const ID: &[u8] = &[0x02, 0x01, 0x02];
    const OP: &[u8] = &[0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00];

    fn with_control(control: &[u8]) -> Vec<u8> {
        seq(SEQUENCE, &[ID, OP, &seq(0xa0, &[control])])
    }

    #[test]
    fn what_servers_send_passes() {
        assert_eq!(check_envelope(DONE), Ok(()));
        // a control with type, criticality and value
        let control = seq(
            SEQUENCE,
            &[
                &[0x04, 0x03, b'1', b'.', b'2'],
                &[0x01, 0x01, 0xff],
                &[0x04, 0x01, 0x00],
            ],
        );
        assert_eq!(check_envelope(&with_control(&control)), Ok(()));
        // a control with a value but no criticality, and one with the type only
        let control = seq(SEQUENCE, &[&[0x04, 0x01, b'1'], &[0x04, 0x00]]);
        assert_eq!(check_envelope(&with_control(&control)), Ok(()));
        let control = seq(SEQUENCE, &[&[0x04, 0x01, b'1']]);
        assert_eq!(check_envelope(&with_control(&control)), Ok(()));
        // Active Directory's notice of disconnection with a stray [10] at the end
        let ad = seq(SEQUENCE, &[&[0x02, 0x01, 0x00], OP, &[0x8a, 0x01, b'x']]);
        assert_eq!(check_envelope(&ad), Ok(()));
    }

    #[test]
    fn what_would_make_ldap3_panic_is_refused() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0x30, 0x00], "no elements"),
            (seq(SEQUENCE, &[OP]), "no message id"),
            (seq(SEQUENCE, &[&[0x04, 0x01, 0x02], OP]), "not an INTEGER"),
            (seq(SEQUENCE, &[OP, &seq(0xa0, &[])]), "no message id"),
            (seq(SEQUENCE, &[&seq(0xa0, &[])]), "no protocol op"),
            (seq(SEQUENCE, &[OP, &[0x8a, 0x00]]), "no message id"),
            (with_control(&[0x04, 0x00]), "control is not a SEQUENCE"),
            (with_control(&seq(SEQUENCE, &[])), "no type"),
            (
                with_control(&seq(SEQUENCE, &[&[0x04, 0x02, 0xff, 0xfe]])),
                "not a UTF-8",
            ),
            (
                with_control(&seq(SEQUENCE, &[&[0x04, 0x01, b'1'], &[0x01, 0x00]])),
                "criticality",
            ),
            (
                with_control(&seq(SEQUENCE, &[&[0x04, 0x01, b'1'], &[0x02, 0x01, 0x00]])),
                "unknown kind",
            ),
            (
                with_control(&seq(
                    SEQUENCE,
                    &[&[0x04, 0x01, b'1'], &[0x01, 0x01, 0x00], &[0x24, 0x00]],
                )),
                "value",
            ),
            (vec![0x31, 0x00], "not a SEQUENCE"),
        ];
        for (message, expected) in cases {
            let error = check_envelope(&message).unwrap_err().to_string();
            assert!(error.contains(expected), "{message:02x?}: {error}");
        }
    }
}
