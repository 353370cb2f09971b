//! Round trips, the idiotrace layout byte for byte, errors with line numbers, and random input
//! that must never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;

use super::*;
use crate::raw::{RawAttribute, RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};

fn write_all(messages: &[(Option<SearchHeader>, RawMessage)]) -> Vec<u8> {
    let mut writer = TraceWriter::new(Vec::new());
    for (header, message) in messages {
        if let Some(header) = header {
            writer.begin_search(header.clone());
        }
        writer.write(message).unwrap();
    }
    assert_eq!(writer.messages_written(), messages.len() as u64);
    writer.into_inner().unwrap()
}

fn read_all(text: &[u8]) -> Result<Vec<TracedMessage>, TraceError> {
    let mut reader = TraceReader::new(text);
    let mut messages = Vec::new();
    while let Some(message) = reader.next_message() {
        messages.push(message?);
    }
    Ok(messages)
}

fn control(oid: &str, value: &[u8]) -> RawControl {
    RawControl {
        oid: oid.to_owned(),
        critical: false,
        value: Some(value.to_vec()),
    }
}

fn attribute(name: &str, values: &[&str]) -> RawAttribute {
    RawAttribute {
        name: name.to_owned(),
        values: values
            .iter()
            .map(|value| value.as_bytes().to_vec())
            .collect(),
    }
}

/// A syncState control value: SEQUENCE { state ENUMERATED add, entryUUID }.
const ALICE_STATE: &[u8] = &[
    0x30, 0x15, 0x0a, 0x01, 0x01, 0x04, 0x10, 0x6f, 0x1c, 0x2d, 0x3e, 0x4b, 0x5a, 0x4c, 0x6d, 0x8e,
    0x7f, 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f,
];

/// The idiotrace layout, written out by hand: an entry with its control sorted among its
/// attributes, a long value folded at 76 columns, a non-ASCII value in base64, an
/// intermediate message with an empty DN, and a done message with its control in the header.
const IDIOTRACE_LAYOUT: &str = "\
# result: 100
#
dn: uid=alice,ou=people,dc=example,dc=org
cn: Alice Archer
control: 1.3.6.1.4.1.4203.1.9.1.2 false MBUKAQEEEG8cLT5LWkxtjn8KGyw9Tl8=
description: A description long enough to be folded by python-ldap at sevent
 y-six columns, like idiotrace's
givenName:: QWxpY2XDpQ==
objectClass: top
objectClass: inetOrgPerson
uid: alice

# result: 121
#
dn: 
control: 1.3.6.1.4.1.4203.1.9.1.4 false oQ8EDXJpZD0wMDAsY3NuPTE=

# result: 101
# control: 1.3.6.1.4.1.4203.1.9.1.3 false MA8EDXJpZD0wMDAsY3NuPTE=
#
";

fn idiotrace_messages() -> Vec<RawMessage> {
    vec![
        RawMessage::Entry(RawEntry {
            dn: "uid=alice,ou=people,dc=example,dc=org".into(),
            attributes: vec![
                attribute("uid", &["alice"]),
                attribute("objectClass", &["top", "inetOrgPerson"]),
                attribute("cn", &["Alice Archer"]),
                attribute("givenName", &["Aliceå"]),
                attribute(
                    "description",
                    &[
                        "A description long enough to be folded by python-ldap at seventy-six \
                       columns, like idiotrace's",
                    ],
                ),
            ],
            controls: vec![control("1.3.6.1.4.1.4203.1.9.1.2", ALICE_STATE)],
        }),
        RawMessage::Intermediate(RawIntermediate {
            name: Some("1.3.6.1.4.1.4203.1.9.1.4".into()),
            value: Some(b"\xa1\x0f\x04\x0drid=000,csn=1".to_vec()),
            controls: Vec::new(),
        }),
        RawMessage::Done(RawDone {
            result_code: 0,
            matched_dn: String::new(),
            message: String::new(),
            controls: vec![control(
                "1.3.6.1.4.1.4203.1.9.1.3",
                b"\x30\x0f\x04\x0drid=000,csn=1",
            )],
        }),
    ]
}

/// Attributes sorted as the writer sorts them (the order a trace keeps).
fn sorted(mut message: RawMessage) -> RawMessage {
    if let RawMessage::Entry(entry) = &mut message {
        entry.attributes.sort_by(|a, b| a.name.cmp(&b.name));
    }
    message
}

#[test]
fn writes_the_idiotrace_layout_byte_for_byte() {
    let messages: Vec<_> = idiotrace_messages()
        .into_iter()
        .map(|message| (None, message))
        .collect();
    let written = write_all(&messages);
    assert_eq!(String::from_utf8(written).unwrap(), IDIOTRACE_LAYOUT);
}

#[test]
fn reads_the_idiotrace_layout() {
    let read = read_all(IDIOTRACE_LAYOUT.as_bytes()).unwrap();
    let expected: Vec<_> = idiotrace_messages().into_iter().map(sorted).collect();
    let got: Vec<_> = read.iter().map(|traced| traced.message.clone()).collect();
    assert_eq!(got, expected);
    assert_eq!(
        read.iter().map(|traced| traced.line).collect::<Vec<_>>(),
        vec![1, 13, 18]
    );
    assert!(read.iter().all(|traced| traced.search.is_none()));
    // The iterator view gives the same messages.
    let iterated: Result<Vec<_>, _> = TraceReader::new(IDIOTRACE_LAYOUT.as_bytes()).collect();
    assert_eq!(iterated.unwrap(), expected);
}

#[test]
fn idsync_extensions_round_trip_and_stay_in_comments() {
    let header = SearchHeader::new(
        "ldap://idsync:secret@127.0.0.1:3890",
        "dc=example,dc=org",
        "sub",
        "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))",
        vec!["*".into(), "+".into()],
        true,
        false,
    );
    let done = RawMessage::Done(RawDone {
        result_code: 4096,
        matched_dn: "dc=example,dc=org".into(),
        message: "cookie too old\nstart over".into(),
        controls: vec![RawControl {
            oid: "1.3.6.1.4.1.4203.1.9.1.3".into(),
            critical: true,
            value: None,
        }],
    });
    let reference = RawMessage::Reference(vec!["ldap://other.example.org/dc=other".into()]);
    let written = write_all(&[
        (Some(header.clone()), done.clone()),
        (None, reference.clone()),
    ]);
    let text = String::from_utf8(written.clone()).unwrap();
    assert!(!text.contains("secret"), "{text}");
    assert!(
        text.starts_with("# result: 101\n# control: 1.3.6.1.4.1.4203.1.9.1.3 true\n# code: 4096\n")
    );
    // Every idsync addition is a comment line.
    for line in text.lines() {
        assert!(
            line.is_empty()
                || line.starts_with('#')
                || line.starts_with("dn:")
                || line.starts_with("ref:"),
            "{line}"
        );
    }
    let read = read_all(&written).unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].message, done);
    assert_eq!(
        read[0].search.as_ref().map(|s| s.url.as_str()),
        Some("ldap://127.0.0.1:3890")
    );
    assert_eq!(
        read[0].search,
        Some(SearchHeader {
            url: "ldap://127.0.0.1:3890".into(),
            ..header
        })
    );
    assert_eq!(read[1].message, reference);
    assert_eq!(read[1].search, None);
}

#[test]
fn a_header_starts_each_search() {
    let first = SearchHeader::new("ldap://h", "dc=x", "sub", "(a=b)", vec![], true, false);
    let second = SearchHeader {
        cookie_sent: true,
        ..first.clone()
    };
    let messages = idiotrace_messages();
    let written = write_all(&[
        (Some(first.clone()), messages[0].clone()),
        (None, messages[2].clone()),
        (Some(second.clone()), messages[1].clone()),
        (None, messages[2].clone()),
    ]);
    let read = read_all(&written).unwrap();
    let searches: Vec<_> = read.iter().map(|traced| traced.search.clone()).collect();
    assert_eq!(searches, vec![Some(first), None, Some(second), None]);
}

#[test]
fn reads_bare_op_numbers_crlf_comments_and_version_lines() {
    let text = "# a note before the first message\r\n\r\n# result: 4\r\n#\r\nversion: 1\r\n\
                # a comment\r\ndn: cn=x\r\ncn: x\r\n\r\n# result: 5\r\n";
    let read = read_all(text.as_bytes()).unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(
        read[0].message,
        RawMessage::Entry(RawEntry {
            dn: "cn=x".into(),
            attributes: vec![attribute("cn", &["x"])],
            controls: Vec::new(),
        })
    );
    assert!(matches!(&read[1].message, RawMessage::Done(done) if done.result_code == 0));
}

#[test]
fn malformed_traces_name_their_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("dn: cn=x\n", 1, "expected a `# result:"),
        ("# result: 7\n", 1, "unknown result type 7"),
        ("# result: x\n", 1, "not a number"),
        ("# result: 100\n#\n", 1, "without its entry"),
        ("# result: 100\n#\ncn: x\n", 3, "starts with `dn:`"),
        (
            "# result: 100\n#\ndn: cn=x\ncontrol: 1.2.3 maybe AA==\n",
            4,
            "<oid> <true|false>",
        ),
        (
            "# result: 100\n#\ndn: cn=x\ncontrol: 1.2.3 false !!\n",
            4,
            "base64",
        ),
        ("# result: 100\n#\n dn: cn=x\n", 3, "continuation"),
        (
            "# result: 100\n#\ndn: cn=x\njpegPhoto:< file:///x\n",
            4,
            "URL",
        ),
        (
            "# result: 100\n#\ndn: cn=x\nchangetype: modify\n",
            4,
            "change records",
        ),
        ("# result: 100\n#\ndn:: /w==\n", 3, "not UTF-8"),
        ("# result: 121\n#\ndn: \ncn: x\n", 4, "only `control:`"),
        ("# result: 121\n#\ndn: \n", 3, "needs a `control:`"),
        ("# result: 101\n#\ndn: cn=x\n", 3, "no records"),
        ("# result: 101\n# code: lots\n#\n", 2, "result code"),
        (
            "# result: 101\n# control: 1.2.3\n#\n",
            2,
            "<oid> <true|false>",
        ),
        (
            "# result: 101\n#\n# idsync-cookie: sent\n",
            3,
            "outside a search header",
        ),
        (
            "# result: 101\n#\n# idsync-version: 1\n# idsync-mode: eager\n",
            4,
            "idsync-mode",
        ),
        ("# result: 115\n#\ndn: \nref:: /w==\n", 4, "not UTF-8"),
        (
            "# result: 100\n#\ndn: cn=ok\n\n# result: 100\n#\n",
            5,
            "without its entry",
        ),
    ];
    for (text, line, message) in cases {
        let error = read_all(text.as_bytes()).expect_err(text);
        assert_eq!(error.line(), Some(*line), "{text:?}: {error}");
        assert!(error.to_string().contains(message), "{text:?}: {error}");
    }
}

#[test]
fn the_reader_stops_after_an_error() {
    let text = "garbage\n# result: 101\n#\n";
    let mut reader = TraceReader::new(text.as_bytes());
    assert!(matches!(reader.next(), Some(Err(_))));
    assert!(reader.next().is_none());
}

#[test]
fn control_text_forms() {
    use super::reader::parse_control;
    assert_eq!(
        parse_control(b"1.2.3 true AQI=").unwrap(),
        RawControl {
            oid: "1.2.3".into(),
            critical: true,
            value: Some(vec![1, 2])
        }
    );
    assert_eq!(
        parse_control(b"1.2.3   false").unwrap(),
        RawControl {
            oid: "1.2.3".into(),
            critical: false,
            value: None
        }
    );
    assert_eq!(
        parse_control(b"1.2.3 false ").unwrap().value,
        Some(Vec::new())
    );
    assert_eq!(parse_control(b" false AQI=").unwrap().oid, "");
    assert!(parse_control(b"1.2.3 false AQI= extra").is_err());
    assert!(parse_control(b"1.2.3").is_err());
}

// ----- property tests -----

fn oid() -> impl Strategy<Value = String> {
    "[0-2](\\.[0-9]{1,5}){1,8}"
}

fn raw_control() -> impl Strategy<Value = RawControl> {
    (
        oid(),
        any::<bool>(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
    )
        .prop_map(|(oid, critical, value)| RawControl {
            oid,
            critical,
            value,
        })
}

fn attribute_name() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9-]{0,10}(;[a-z]{1,6})?".prop_filter("control lines are controls", |name| {
        !name.eq_ignore_ascii_case("control")
    })
}

fn raw_entry() -> impl Strategy<Value = RawEntry> {
    (
        any::<String>(),
        proptest::collection::btree_map(
            attribute_name(),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..4),
            0..6,
        ),
        proptest::collection::vec(raw_control(), 0..3),
    )
        .prop_map(|(dn, attributes, controls)| RawEntry {
            dn,
            // Names that differ only in case would be two attributes in the trace too.
            attributes: attributes
                .into_iter()
                .map(|(name, values)| RawAttribute { name, values })
                .collect(),
            controls,
        })
}

fn raw_message() -> impl Strategy<Value = RawMessage> {
    prop_oneof![
        raw_entry().prop_map(RawMessage::Entry),
        (
            proptest::option::of(oid()),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
            proptest::collection::vec(raw_control(), 0..2)
        )
            .prop_map(|(name, value, controls)| RawMessage::Intermediate(
                RawIntermediate {
                    name,
                    value,
                    controls
                }
            )),
        (
            any::<u32>(),
            any::<String>(),
            any::<String>(),
            proptest::collection::vec(raw_control(), 0..2)
        )
            .prop_map(
                |(result_code, matched_dn, message, controls)| RawMessage::Done(RawDone {
                    result_code,
                    matched_dn,
                    message,
                    controls
                })
            ),
        proptest::collection::vec("[ -~]{1,60}", 0..3).prop_map(RawMessage::Reference),
    ]
}

fn search_header() -> impl Strategy<Value = SearchHeader> {
    (
        any::<String>(),
        any::<String>(),
        "(base|one|sub)",
        any::<String>(),
        proptest::collection::vec("[!-~]{1,10}", 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(url, base, scope, filter, attributes, persist, cookie_sent)| {
                SearchHeader::new(&url, base, scope, filter, attributes, persist, cookie_sent)
            },
        )
}

// Every message reads back as written (entry attributes in sorted order), with its header.
proptest! {
    #[test]
    fn round_trip(messages in proptest::collection::vec(
        (proptest::option::of(search_header()), raw_message()), 0..8)
    ) {
        let written = write_all(&messages);
        let read = read_all(&written).map_err(|error| {
            TestCaseError::fail(format!("{error}\n{}", String::from_utf8_lossy(&written)))
        })?;
        prop_assert_eq!(read.len(), messages.len());
        for ((header, message), traced) in messages.iter().zip(&read) {
            prop_assert_eq!(&traced.message, &sorted(message.clone()));
            prop_assert_eq!(&traced.search, header);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for message in TraceReader::new(bytes.as_slice()).take(1000) {
            drop(message);
        }
    }

    #[test]
    fn random_lines_never_panic(lines in proptest::collection::vec(prop_oneof![
        Just("# result: 100".to_owned()),
        Just("# result: 101".to_owned()),
        Just("# result: 121".to_owned()),
        Just("# result: 115".to_owned()),
        Just("#".to_owned()),
        Just(String::new()),
        Just("dn: ".to_owned()),
        Just("dn: cn=x".to_owned()),
        Just("# idsync-version: 1".to_owned()),
        Just("# code: 1".to_owned()),
        "# control: [ -~]{0,30}",
        "control:{1,2} [ -~]{0,30}",
        "[a-z]{1,5}:{1,2} ?[ -~]{0,20}",
        " [ -~]{0,20}",
        "[ -~]{0,30}",
    ], 0..40)) {
        let text = lines.join("\n");
        for message in TraceReader::new(text.as_bytes()).take(1000) {
            drop(message);
        }
    }

    #[test]
    fn mutated_traces_never_panic(
        cut in 0usize..400,
        flip in 0usize..400,
        byte in any::<u8>(),
    ) {
        let mut text = IDIOTRACE_LAYOUT.as_bytes().to_vec();
        if let Some(slot) = text.get_mut(flip % IDIOTRACE_LAYOUT.len()) {
            *slot = byte;
        }
        text.truncate(cut);
        for message in TraceReader::new(text.as_slice()).take(1000) {
            drop(message);
        }
    }
}

#[test]
fn rereads_are_marked_and_read_back() {
    let messages = idiotrace_messages();
    let RawMessage::Entry(entry) = messages[0].clone() else {
        unreachable!()
    };
    let mut writer = TraceWriter::new(Vec::new());
    writer.write(&messages[1]).unwrap();
    writer.write_reread(&entry.dn, Some(&entry)).unwrap();
    writer
        .write_reread("uid=gone,dc=example,dc=org", None)
        .unwrap();
    assert_eq!(writer.messages_written(), 3);
    let written = writer.into_inner().unwrap();
    let read = read_all(&written).unwrap();
    let rereads: Vec<_> = read.iter().map(|traced| traced.reread.clone()).collect();
    assert_eq!(
        rereads,
        vec![
            None,
            Some(entry.dn.clone()),
            Some("uid=gone,dc=example,dc=org".into())
        ]
    );
    assert_eq!(read[1].message, sorted(messages[0].clone()));
    assert!(matches!(&read[2].message, RawMessage::Done(_)));
}

/// Found by the `protocol` and `ldap_wire` fuzz targets: names and OIDs from a server were
/// written unquoted, so an attribute named `x\n# result: 101` or a control OID with a space
/// wrote a trace that reads back as other messages (or not at all). The writer refuses them.
#[test]
fn names_a_trace_cannot_hold_are_refused() {
    let entry_with = |name: &str| {
        RawMessage::Entry(RawEntry {
            dn: "uid=x,dc=example,dc=org".into(),
            attributes: vec![attribute(name, &["top"])],
            controls: Vec::new(),
        })
    };
    let refused = vec![
        entry_with(""),
        entry_with("a\n# result: 101"),
        entry_with("a b"),
        entry_with("Control"),
        RawMessage::Intermediate(RawIntermediate {
            name: Some("1.3.6.1.\u{1}\t\0.1.9.1.4".into()),
            value: Some(vec![1]),
            controls: Vec::new(),
        }),
        RawMessage::Done(RawDone {
            result_code: 0,
            matched_dn: String::new(),
            message: String::new(),
            controls: vec![control("1.2.3\n# result: 100", b"")],
        }),
        RawMessage::Done(RawDone {
            result_code: 0,
            matched_dn: String::new(),
            message: String::new(),
            controls: vec![control("", b"x")],
        }),
    ];
    let mut writer = TraceWriter::new(Vec::new());
    for message in &refused {
        let error = writer.write(message).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{message:?}");
    }
    let RawMessage::Entry(entry) = entry_with("a:b") else {
        unreachable!()
    };
    assert!(writer.write_reread(&entry.dn, Some(&entry)).is_err());
    assert_eq!(writer.messages_written(), 0);
    // What follows is written as usual, options (AD's ranged values too) included.
    let fine = entry_with("uid;lang-de");
    writer.write(&fine).unwrap();
    let ranged = entry_with("member;range=1500-*");
    writer.write(&ranged).unwrap();
    let written = writer.into_inner().unwrap();
    let read = read_all(&written).unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].message, fine);
    assert_eq!(read[1].message, ranged);
}

/// Found by the `trace_reader` fuzz target: a re-read mark on a reference (or intermediate)
/// message was accepted, although a re-read is an entry or a done message only (the writer
/// cannot write anything else, and the replay took it for "nothing found").
#[test]
fn a_reread_mark_belongs_to_an_entry_or_a_done() {
    for text in [
        "# result: 115\n#\n# idsync-reread: uid=a,dc=x\ndn: \nref: ldap://other/\n",
        "# result: 121\n#\n# idsync-reread: uid=a,dc=x\ndn: \ncontrol: 1.2.3 false\n",
    ] {
        let error = read_all(text.as_bytes()).unwrap_err();
        assert_eq!(error.line(), Some(1), "{text}");
    }
    assert!(read_all(b"# result: 101\n#\n# idsync-reread: uid=a,dc=x\n").is_ok());
}
