//! ldap3's search items → [`RawMessage`], by our own fallible walk over the BER structure
//! (ldap3's `SearchEntry::construct` and control parsers panic on what they do not expect).
//! Values are moved out of the structure, never copied.

use ldap3::asn1::{StructureTag, TagClass, PL};
use ldap3::controls::Control;
use ldap3::{LdapResult, ResultEntry};

use crate::raw::{op, RawAttribute, RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};

/// A search item that is not what RFC 4511 says it is.
#[derive(Debug, thiserror::Error)]
#[error("malformed {what} from the server: {reason}")]
pub struct WireError {
    /// The message kind.
    pub what: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

fn bad(what: &'static str, reason: &'static str) -> WireError {
    WireError { what, reason }
}

/// One search item (entry, reference or intermediate response) as a [`RawMessage`].
pub fn message_from_result_entry(item: ResultEntry) -> Result<RawMessage, WireError> {
    message_from_parts(item.0, item.1)
}

/// A search item's protocol op and controls as a [`RawMessage`].
pub fn message_from_parts(
    tag: StructureTag,
    controls: Vec<Control>,
) -> Result<RawMessage, WireError> {
    let controls = raw_controls(controls);
    if tag.class != TagClass::Application {
        return Err(bad("search message", "not an application tag"));
    }
    match tag.id {
        op::SEARCH_RESULT_ENTRY => entry(tag, controls).map(RawMessage::Entry),
        op::SEARCH_RESULT_REFERENCE => reference(tag).map(RawMessage::Reference),
        op::INTERMEDIATE_RESPONSE => intermediate(tag, controls).map(RawMessage::Intermediate),
        _ => Err(bad("search message", "unexpected protocol op")),
    }
}

/// The end of a search as a [`RawMessage::Done`].
pub fn done_from_result(result: LdapResult) -> RawDone {
    RawDone {
        result_code: result.rc,
        matched_dn: result.matched,
        message: result.text,
        controls: raw_controls(result.ctrls),
    }
}

/// ldap3's controls, as they came (ldap3 does not parse the values in the codec).
pub fn raw_controls(controls: Vec<Control>) -> Vec<RawControl> {
    controls
        .into_iter()
        .map(|Control(_, raw)| RawControl {
            oid: raw.ctype,
            critical: raw.crit,
            value: raw.val,
        })
        .collect()
}

fn constructed(tag: StructureTag, what: &'static str) -> Result<Vec<StructureTag>, WireError> {
    match tag.payload {
        PL::C(items) => Ok(items),
        PL::P(_) => Err(bad(what, "primitive where a sequence belongs")),
    }
}

fn primitive(tag: StructureTag, what: &'static str) -> Result<Vec<u8>, WireError> {
    match tag.payload {
        PL::P(bytes) => Ok(bytes),
        PL::C(_) => Err(bad(what, "constructed where an octet string belongs")),
    }
}

fn utf8(bytes: Vec<u8>, what: &'static str) -> Result<String, WireError> {
    String::from_utf8(bytes).map_err(|_| bad(what, "not utf-8"))
}

/// SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName LDAPDN, attributes
/// PartialAttributeList }; PartialAttribute ::= SEQUENCE { type, vals SET OF value }.
fn entry(tag: StructureTag, controls: Vec<RawControl>) -> Result<RawEntry, WireError> {
    const WHAT: &str = "search result entry";
    let mut items = constructed(tag, WHAT)?.into_iter();
    let dn = utf8(
        primitive(items.next().ok_or(bad(WHAT, "no dn"))?, WHAT)?,
        WHAT,
    )?;
    let list = constructed(items.next().ok_or(bad(WHAT, "no attribute list"))?, WHAT)?;
    let mut attributes = Vec::with_capacity(list.len());
    for attribute in list {
        let mut parts = constructed(attribute, WHAT)?.into_iter();
        let name = utf8(
            primitive(
                parts.next().ok_or(bad(WHAT, "attribute without type"))?,
                WHAT,
            )?,
            WHAT,
        )?;
        let set = constructed(
            parts.next().ok_or(bad(WHAT, "attribute without values"))?,
            WHAT,
        )?;
        let values = set
            .into_iter()
            .map(|value| primitive(value, WHAT))
            .collect::<Result<Vec<_>, _>>()?;
        add_attribute(&mut attributes, RawAttribute { name, values });
    }
    attributes.retain(|attribute| !attribute.values.is_empty());
    Ok(RawEntry {
        dn,
        attributes,
        controls,
    })
}

/// Adds `attribute`, merging it into one already there with the same description (ignoring
/// ASCII case; the first spelling stays). A server sends each description once; if one sends
/// it twice, the flavour (which reads the first match) and a trace (which merges them) must
/// still see the same values.
fn add_attribute(attributes: &mut Vec<RawAttribute>, attribute: RawAttribute) {
    match attributes
        .iter_mut()
        .find(|known| known.name.eq_ignore_ascii_case(&attribute.name))
    {
        Some(known) => known.values.extend(attribute.values),
        None => attributes.push(attribute),
    }
}

/// SearchResultReference ::= [APPLICATION 19] SEQUENCE SIZE (1..MAX) OF uri URI.
fn reference(tag: StructureTag) -> Result<Vec<String>, WireError> {
    const WHAT: &str = "search result reference";
    constructed(tag, WHAT)?
        .into_iter()
        .map(|uri| primitive(uri, WHAT).and_then(|bytes| utf8(bytes, WHAT)))
        .collect()
}

/// IntermediateResponse ::= [APPLICATION 25] SEQUENCE { responseName [0] LDAPOID OPTIONAL,
/// responseValue [1] OCTET STRING OPTIONAL }.
fn intermediate(
    tag: StructureTag,
    controls: Vec<RawControl>,
) -> Result<RawIntermediate, WireError> {
    const WHAT: &str = "intermediate response";
    let mut name = None;
    let mut value = None;
    for item in constructed(tag, WHAT)? {
        match (item.class, item.id) {
            (TagClass::Context, 0) if name.is_none() && value.is_none() => {
                name = Some(utf8(primitive(item, WHAT)?, WHAT)?);
            }
            (TagClass::Context, 1) if value.is_none() => {
                value = Some(primitive(item, WHAT)?);
            }
            _ => return Err(bad(WHAT, "unexpected component")),
        }
    }
    Ok(RawIntermediate {
        name,
        value,
        controls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn octets(bytes: &[u8]) -> StructureTag {
        StructureTag {
            class: TagClass::Universal,
            id: 4,
            payload: PL::P(bytes.to_vec()),
        }
    }

    fn seq(id: u64, class: TagClass, items: Vec<StructureTag>) -> StructureTag {
        StructureTag {
            class,
            id,
            payload: PL::C(items),
        }
    }

    fn universal_seq(items: Vec<StructureTag>) -> StructureTag {
        seq(16, TagClass::Universal, items)
    }

    #[test]
    fn entry_with_attributes_and_controls() {
        let tag = seq(
            4,
            TagClass::Application,
            vec![
                octets(b"uid=a,dc=x"),
                universal_seq(vec![
                    universal_seq(vec![
                        octets(b"uid"),
                        seq(17, TagClass::Universal, vec![octets(b"a")]),
                    ]),
                    universal_seq(vec![
                        octets(b"objectClass"),
                        seq(
                            17,
                            TagClass::Universal,
                            vec![octets(b"top"), octets(b"person")],
                        ),
                    ]),
                ]),
            ],
        );
        let control = Control(
            None,
            ldap3::controls::RawControl {
                ctype: "1.3.6.1.4.1.4203.1.9.1.2".to_owned(),
                crit: false,
                val: Some(vec![1, 2]),
            },
        );
        let message = message_from_parts(tag, vec![control]).unwrap_or_else(|e| panic!("{e}"));
        let RawMessage::Entry(entry) = message else {
            panic!("not an entry");
        };
        assert_eq!(entry.dn, "uid=a,dc=x");
        assert_eq!(
            entry.values("objectclass"),
            [b"top".to_vec(), b"person".to_vec()]
        );
        assert_eq!(entry.controls.len(), 1);
        assert_eq!(
            entry.controls.first().map(|c| c.value.clone()),
            Some(Some(vec![1, 2]))
        );
    }

    #[test]
    fn repeated_descriptions_are_merged_and_empty_ones_dropped() {
        let attribute = |name: &[u8], values: &[&[u8]]| {
            universal_seq(vec![
                octets(name),
                seq(
                    17,
                    TagClass::Universal,
                    values.iter().map(|v| octets(v)).collect(),
                ),
            ])
        };
        let tag = seq(
            4,
            TagClass::Application,
            vec![
                octets(b"cn=g,dc=x"),
                universal_seq(vec![
                    attribute(b"cn", &[]),
                    attribute(b"member", &[b"uid=a,dc=x"]),
                    attribute(b"CN", &[b"g"]),
                    attribute(b"Member", &[b"uid=b,dc=x"]),
                ]),
            ],
        );
        let Ok(RawMessage::Entry(entry)) = message_from_parts(tag, Vec::new()) else {
            panic!("not an entry");
        };
        let names: Vec<&str> = entry.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["cn", "member"]);
        assert_eq!(entry.values("cn"), [b"g".to_vec()]);
        assert_eq!(
            entry.values("member"),
            [b"uid=a,dc=x".to_vec(), b"uid=b,dc=x".to_vec()]
        );
    }

    #[test]
    fn intermediate_with_and_without_parts() {
        let name = StructureTag {
            class: TagClass::Context,
            id: 0,
            payload: PL::P(b"1.3.6.1.4.1.4203.1.9.1.4".to_vec()),
        };
        let value = StructureTag {
            class: TagClass::Context,
            id: 1,
            payload: PL::P(vec![0x80, 0x01, 0x41]),
        };
        let full = seq(25, TagClass::Application, vec![name.clone(), value.clone()]);
        let Ok(RawMessage::Intermediate(info)) = message_from_parts(full, Vec::new()) else {
            panic!("not an intermediate");
        };
        assert_eq!(info.name.as_deref(), Some("1.3.6.1.4.1.4203.1.9.1.4"));
        assert_eq!(info.value, Some(vec![0x80, 0x01, 0x41]));
        let empty = seq(25, TagClass::Application, Vec::new());
        assert!(message_from_parts(empty, Vec::new()).is_ok());
        let twice = seq(25, TagClass::Application, vec![value.clone(), value]);
        assert!(message_from_parts(twice, Vec::new()).is_err());
    }

    #[test]
    fn references() {
        let tag = seq(19, TagClass::Application, vec![octets(b"ldap://other/")]);
        let message = message_from_parts(tag, Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            message,
            RawMessage::Reference(vec!["ldap://other/".to_owned()])
        );
    }

    #[test]
    fn malformed_items_are_errors_not_panics() {
        let cases = vec![
            octets(b"x"),
            seq(4, TagClass::Application, Vec::new()),
            seq(4, TagClass::Application, vec![octets(b"dn")]),
            seq(
                4,
                TagClass::Application,
                vec![universal_seq(vec![]), universal_seq(vec![])],
            ),
            seq(
                4,
                TagClass::Application,
                vec![octets(&[0xff, 0xfe]), universal_seq(vec![])],
            ),
            seq(
                4,
                TagClass::Application,
                vec![octets(b"dn"), universal_seq(vec![octets(b"flat")])],
            ),
            seq(
                4,
                TagClass::Application,
                vec![
                    octets(b"dn"),
                    universal_seq(vec![universal_seq(vec![octets(b"a")])]),
                ],
            ),
            seq(
                4,
                TagClass::Application,
                vec![
                    octets(b"dn"),
                    universal_seq(vec![universal_seq(vec![
                        octets(b"a"),
                        seq(17, TagClass::Universal, vec![universal_seq(vec![])]),
                    ])]),
                ],
            ),
            seq(19, TagClass::Application, vec![universal_seq(vec![])]),
            seq(25, TagClass::Application, vec![octets(b"x")]),
            seq(7, TagClass::Application, Vec::new()),
        ];
        for (i, tag) in cases.into_iter().enumerate() {
            assert!(message_from_parts(tag, Vec::new()).is_err(), "case {i}");
        }
    }
}
