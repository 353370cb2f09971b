//! Known vectors (hand-assembled and captured from slapd), omitted parts, malformed input,
//! truncation at every offset, and round trips.

use proptest::prelude::*;

use super::*;

/// The four decoders, as one function each, for the exhaustive checks.
fn decode_all(bytes: &[u8]) {
    let _ = SyncRequestValue::decode(bytes);
    let _ = SyncStateValue::decode(bytes);
    let _ = SyncDoneValue::decode(bytes);
    let _ = SyncInfoValue::decode(bytes);
}

/// Standard base64 (with padding), enough to read ldapsearch's `control:` lines.
fn base64(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let Some(v) = alphabet.iter().position(|&a| a == c) else {
            panic!("not base64: {c}");
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).unwrap_or_else(|e| panic!("{e}"));
            u8::from_str_radix(s, 16).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

fn uuid(text: &str) -> [u8; 16] {
    <[u8; 16]>::try_from(hex(text).as_slice()).unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T>(result: Result<T, DecodeError>) -> T {
    result.unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// Concatenates byte pieces.
fn cat(pieces: &[&[u8]]) -> Vec<u8> {
    pieces.concat()
}

// ---------------------------------------------------------------------------------------------
// Captured from OpenLDAP 2.5 (slapd-up.sh, syncprov) with ldapsearch -E sync=ro / sync=rp.
// The control values are ldapsearch's own `control:` lines; the request and the intermediate
// response values were read from `ldapsearch -d 16` BER dumps of the same runs.
// ---------------------------------------------------------------------------------------------

const CAPTURED_COOKIE_1: &[u8] = b"rid=000,csn=20261123194815.721028Z#000000#000#000000";
const CAPTURED_COOKIE_2: &[u8] = b"rid=000,csn=20261123194815.800571Z#000000#000#000000";
const CAPTURED_COOKIE_3: &[u8] = b"rid=000,csn=20261123194830.632675Z#000000#000#000000";
const CAPTURED_DELCOOKIE: &[u8] = b"rid=000,csn=20261123194830.632675Z#000000#000#000000,\
delcsn=20261123194830.678912Z#000000#000#000000";

#[test]
fn captured_sync_state_control() {
    // control: 1.3.6.1.4.1.4203.1.9.1.2 false MBUKAQEEEJGQMBB7whBBh/11PGSN9Zk=
    // # SyncState control, UUID 91903010-7bc2-1041-87fd-753c648df599 added
    let bytes = base64("MBUKAQEEEJGQMBB7whBBh/11PGSN9Zk=");
    let value = ok(SyncStateValue::decode(&bytes));
    assert_eq!(value.state, SyncState::Add);
    assert_eq!(value.cookie, None);
    assert_eq!(
        value.entry_id().to_string(),
        "91903010-7bc2-1041-87fd-753c648df599"
    );
    assert_eq!(value.encode(), bytes);
}

#[test]
fn captured_sync_done_control() {
    // control: 1.3.6.1.4.1.4203.1.9.1.3 false MDkENHJpZD0wMDAsY3NuPTIwMjYxMTIzMTk0OD
    //  E1LjcyMTAyOFojMDAwMDAwIzAwMCMwMDAwMDABAf8=
    // # SyncDone control refreshDeletes=1
    // # cookie: rid=000,csn=20261123194815.721028Z#000000#000#000000
    let bytes =
        base64("MDkENHJpZD0wMDAsY3NuPTIwMjYxMTIzMTk0ODE1LjcyMTAyOFojMDAwMDAwIzAwMCMwMDAwMDABAf8=");
    let value = ok(SyncDoneValue::decode(&bytes));
    assert_eq!(value.cookie.as_deref(), Some(CAPTURED_COOKIE_1));
    assert!(value.refresh_deletes);
    assert_eq!(value.encode(), bytes);
}

#[test]
fn captured_sync_requests() {
    // sync=rp without cookie.
    let rp = SyncRequestValue {
        mode: SyncRequestMode::RefreshAndPersist,
        cookie: None,
        reload_hint: false,
    };
    assert_eq!(rp.encode(), hex("30 03 0a 01 03"));
    assert_eq!(ok(SyncRequestValue::decode(&hex("30 03 0a 01 03"))), rp);
    // sync=ro/<cookie>.
    let ro = SyncRequestValue {
        mode: SyncRequestMode::RefreshOnly,
        cookie: Some(CAPTURED_COOKIE_3.to_vec()),
        reload_hint: false,
    };
    let bytes = cat(&[&hex("30 39 0a 01 01 04 34"), CAPTURED_COOKIE_3]);
    assert_eq!(ro.encode(), bytes);
    assert_eq!(ok(SyncRequestValue::decode(&bytes)), ro);
}

#[test]
fn captured_refresh_delete_info() {
    // "# SyncInfo Received: refresh delete" at the end of a sync=rp refresh: refreshDone absent.
    let bytes = cat(&[&hex("a1 36 04 34"), CAPTURED_COOKIE_2]);
    let value = ok(SyncInfoValue::decode(&bytes));
    assert_eq!(
        value,
        SyncInfoValue::RefreshDelete {
            cookie: Some(CAPTURED_COOKIE_2.to_vec()),
            refresh_done: true,
        }
    );
    assert_eq!(value.encode(), bytes);
    assert_eq!(value.id_set_event(), None);
}

#[test]
fn captured_sync_id_set_info() {
    // sessionlog replay of one delete: "# SyncInfo Received: ID Set", refreshDeletes TRUE.
    let bytes = cat(&[
        &hex("a3 7d 04 64"),
        CAPTURED_DELCOOKIE,
        &hex("01 01 ff 31 12 04 10 9a 73 86 5a 7b c2 10 41 87 fe 75 3c 64 8d f5 99"),
    ]);
    let value = ok(SyncInfoValue::decode(&bytes));
    let id = uuid("9a73865a7bc2104187fe753c648df599");
    assert_eq!(
        value,
        SyncInfoValue::SyncIdSet {
            cookie: Some(CAPTURED_DELCOOKIE.to_vec()),
            refresh_deletes: true,
            sync_uuids: vec![id],
        }
    );
    assert_eq!(value.cookie(), Some(CAPTURED_DELCOOKIE));
    assert_eq!(
        value
            .entry_ids()
            .first()
            .map(ToString::to_string)
            .as_deref(),
        Some("9a73865a-7bc2-1041-87fe-753c648df599")
    );
    assert_eq!(
        value.id_set_event(),
        Some(idsync_core::Event::Deleted(vec![entry_id(id)]))
    );
    assert_eq!(value.encode(), bytes);
}

// ---------------------------------------------------------------------------------------------
// Hand-assembled vectors: every OPTIONAL absent and present, every DEFAULT absent, explicit
// default and explicit non-default.
// ---------------------------------------------------------------------------------------------

/// Encoded value, mode, cookie, reloadHint.
type RequestCase = (Vec<u8>, SyncRequestMode, Option<&'static [u8]>, bool);
/// Encoded value, cookie, the BOOLEAN.
type FlagCase = (Vec<u8>, Option<&'static [u8]>, bool);
/// Encoded value, cookie, refreshDeletes, syncUUIDs.
type IdSetCase = (Vec<u8>, Option<&'static [u8]>, bool, Vec<[u8; 16]>);

const U1: &str = "00112233445566778899aabbccddeeff";
const U2: &str = "ffeeddccbbaa99887766554433221100";

#[test]
fn sync_request_vectors() {
    let cases: Vec<RequestCase> = vec![
        (
            hex("30 03 0a 01 01"),
            SyncRequestMode::RefreshOnly,
            None,
            false,
        ),
        (
            hex("30 06 0a 01 03 01 01 ff"),
            SyncRequestMode::RefreshAndPersist,
            None,
            true,
        ),
        (
            hex("30 06 0a 01 01 01 01 00"),
            SyncRequestMode::RefreshOnly,
            None,
            false,
        ),
        (
            hex("30 07 0a 01 01 04 02 63 6b"),
            SyncRequestMode::RefreshOnly,
            Some(b"ck"),
            false,
        ),
        (
            hex("30 0a 0a 01 03 04 02 63 6b 01 01 01"),
            SyncRequestMode::RefreshAndPersist,
            Some(b"ck"),
            true,
        ),
        // Empty cookie: present, but empty.
        (
            hex("30 05 0a 01 01 04 00"),
            SyncRequestMode::RefreshOnly,
            Some(b""),
            false,
        ),
    ];
    for (bytes, mode, cookie, reload_hint) in cases {
        let value = ok(SyncRequestValue::decode(&bytes));
        assert_eq!(value.mode, mode);
        assert_eq!(value.cookie.as_deref(), cookie);
        assert_eq!(value.reload_hint, reload_hint);
        assert_eq!(ok(SyncRequestValue::decode(&value.encode())), value);
    }
}

#[test]
fn sync_state_vectors() {
    for (state, byte) in [
        (SyncState::Present, 0u8),
        (SyncState::Add, 1),
        (SyncState::Modify, 2),
        (SyncState::Delete, 3),
    ] {
        let bytes = cat(&[&[0x30, 0x15, 0x0a, 0x01, byte, 0x04, 0x10], &uuid(U1)]);
        let value = ok(SyncStateValue::decode(&bytes));
        assert_eq!(
            (value.state, value.entry_uuid, value.cookie.clone()),
            (state, uuid(U1), None)
        );
        assert_eq!(value.encode(), bytes);
    }
    let with_cookie = cat(&[&hex("30 19 0a 01 02 04 10"), &uuid(U2), &hex("04 02 63 6b")]);
    let value = ok(SyncStateValue::decode(&with_cookie));
    assert_eq!(value.cookie.as_deref(), Some(&b"ck"[..]));
    assert_eq!(value.entry_uuid, uuid(U2));
    assert_eq!(value.encode(), with_cookie);
}

#[test]
fn sync_done_vectors() {
    let cases: Vec<FlagCase> = vec![
        (vec![], None, false),
        (hex("30 00"), None, false),
        (hex("30 03 01 01 ff"), None, true),
        (hex("30 03 01 01 00"), None, false),
        (hex("30 04 04 02 63 6b"), Some(b"ck"), false),
        (hex("30 07 04 02 63 6b 01 01 ff"), Some(b"ck"), true),
        (hex("30 02 04 00"), Some(b""), false),
    ];
    for (bytes, cookie, refresh_deletes) in cases {
        let value = ok(SyncDoneValue::decode(&bytes));
        assert_eq!(value.cookie.as_deref(), cookie, "{bytes:02x?}");
        assert_eq!(value.refresh_deletes, refresh_deletes, "{bytes:02x?}");
    }
    assert_eq!(
        ok(SyncDoneValue::decode_optional(None)),
        SyncDoneValue::default()
    );
    assert_eq!(SyncDoneValue::default().encode(), hex("30 00"));
}

#[test]
fn sync_info_vectors() {
    let new_cookie = ok(SyncInfoValue::decode(&hex("80 02 63 6b")));
    assert_eq!(new_cookie, SyncInfoValue::NewCookie(b"ck".to_vec()));
    assert_eq!(new_cookie.cookie(), Some(&b"ck"[..]));
    assert_eq!(
        ok(SyncInfoValue::decode(&hex("80 00"))),
        SyncInfoValue::NewCookie(vec![])
    );

    for (tag, delete) in [(0xa1u8, true), (0xa2, false)] {
        let make = |cookie: Option<&[u8]>, refresh_done| {
            let cookie = cookie.map(<[u8]>::to_vec);
            if delete {
                SyncInfoValue::RefreshDelete {
                    cookie,
                    refresh_done,
                }
            } else {
                SyncInfoValue::RefreshPresent {
                    cookie,
                    refresh_done,
                }
            }
        };
        let cases: Vec<FlagCase> = vec![
            (vec![tag, 0x00], None, true),
            (cat(&[&[tag], &hex("03 01 01 00")]), None, false),
            (cat(&[&[tag], &hex("03 01 01 ff")]), None, true),
            (cat(&[&[tag], &hex("04 04 02 63 6b")]), Some(b"ck"), true),
            (
                cat(&[&[tag], &hex("07 04 02 63 6b 01 01 00")]),
                Some(b"ck"),
                false,
            ),
        ];
        for (bytes, cookie, refresh_done) in cases {
            let value = ok(SyncInfoValue::decode(&bytes));
            assert_eq!(value, make(cookie, refresh_done), "{bytes:02x?}");
            assert_eq!(ok(SyncInfoValue::decode(&value.encode())), value);
            assert!(value.entry_ids().is_empty());
        }
    }

    let two = cat(&[&hex("31 24 04 10"), &uuid(U1), &hex("04 10"), &uuid(U2)]);
    let cases: Vec<IdSetCase> = vec![
        (hex("a3 02 31 00"), None, false, vec![]),
        (
            cat(&[&hex("a3 26"), &two]),
            None,
            false,
            vec![uuid(U1), uuid(U2)],
        ),
        (
            cat(&[&hex("a3 29 01 01 ff"), &two]),
            None,
            true,
            vec![uuid(U1), uuid(U2)],
        ),
        (
            cat(&[&hex("a3 29 01 01 00"), &two]),
            None,
            false,
            vec![uuid(U1), uuid(U2)],
        ),
        (
            cat(&[&hex("a3 2a 04 02 63 6b"), &two]),
            Some(b"ck"),
            false,
            vec![uuid(U1), uuid(U2)],
        ),
    ];
    for (bytes, cookie, refresh_deletes, sync_uuids) in cases {
        let value = ok(SyncInfoValue::decode(&bytes));
        let expected = SyncInfoValue::SyncIdSet {
            cookie: cookie.map(<[u8]>::to_vec),
            refresh_deletes,
            sync_uuids: sync_uuids.clone(),
        };
        assert_eq!(value, expected, "{bytes:02x?}");
        let ids: Vec<_> = sync_uuids.into_iter().map(entry_id).collect();
        assert_eq!(value.entry_ids(), ids);
        let event = if refresh_deletes {
            idsync_core::Event::Deleted(ids)
        } else {
            idsync_core::Event::Present(ids)
        };
        assert_eq!(value.id_set_event(), Some(event));
    }
}

#[test]
fn ber_as_servers_send_it() {
    // 4-octet long-form lengths everywhere (as Active Directory writes them), TRUE as 0x01.
    let done = ok(SyncDoneValue::decode(&hex(
        "30 84 00 00 00 0f 04 84 00 00 00 02 63 6b 01 84 00 00 00 01 01",
    )));
    assert_eq!(done.cookie.as_deref(), Some(&b"ck"[..]));
    assert!(done.refresh_deletes);
    let state = cat(&[&hex("30 82 00 17 0a 81 01 03 04 81 10"), &uuid(U1)]);
    let state = ok(SyncStateValue::decode(&state));
    assert_eq!(
        (state.state, state.entry_uuid),
        (SyncState::Delete, uuid(U1))
    );
}

#[test]
fn unknown_trailing_components_are_skipped() {
    // An unknown [5] after the known components of each SEQUENCE.
    let req = ok(SyncRequestValue::decode(&hex("30 06 0a 01 01 85 01 00")));
    assert_eq!(req.mode, SyncRequestMode::RefreshOnly);
    let state = cat(&[&hex("30 18 0a 01 01 04 10"), &uuid(U1), &hex("85 01 00")]);
    assert_eq!(ok(SyncStateValue::decode(&state)).entry_uuid, uuid(U1));
    assert!(ok(SyncDoneValue::decode(&hex("30 06 01 01 ff 85 01 00"))).refresh_deletes);
    assert_eq!(
        ok(SyncInfoValue::decode(&hex("a2 03 85 01 00"))),
        SyncInfoValue::RefreshPresent {
            cookie: None,
            refresh_done: true
        }
    );
    assert_eq!(
        ok(SyncInfoValue::decode(&hex("a3 05 31 00 85 01 00"))),
        SyncInfoValue::SyncIdSet {
            cookie: None,
            refresh_deletes: false,
            sync_uuids: vec![]
        }
    );
}

fn err<T: std::fmt::Debug>(result: Result<T, DecodeError>) -> DecodeError {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(e) => e,
    }
}

#[test]
fn malformed_values_are_typed_errors() {
    // Wrong outer tags.
    assert!(matches!(
        err(SyncRequestValue::decode(&hex("31 03 0a 01 01"))),
        DecodeError::UnexpectedTag {
            offset: 0,
            expected: 0x30,
            found: 0x31,
            ..
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("a0 02 63 6b"))),
        DecodeError::UnknownChoice {
            offset: 0,
            found: 0xa0
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("81 00"))),
        DecodeError::UnknownChoice { found: 0x81, .. }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("a4 00"))),
        DecodeError::UnknownChoice { found: 0xa4, .. }
    ));
    // Mode as INTEGER instead of ENUMERATED; unknown mode and state values.
    assert!(matches!(
        err(SyncRequestValue::decode(&hex("30 03 02 01 01"))),
        DecodeError::UnexpectedTag {
            offset: 2,
            expected: 0x0a,
            found: 0x02,
            ..
        }
    ));
    assert!(matches!(
        err(SyncRequestValue::decode(&hex("30 03 0a 01 02"))),
        DecodeError::UnknownValue { value: 2, .. }
    ));
    let bad_state = cat(&[&hex("30 15 0a 01 04 04 10"), &uuid(U1)]);
    assert!(matches!(
        err(SyncStateValue::decode(&bad_state)),
        DecodeError::UnknownValue {
            what: "state",
            value: 4,
            offset: 2
        }
    ));
    // entryUUID of the wrong size (15 and 17 octets) and missing.
    let short = cat(&[&hex("30 14 0a 01 01 04 0f"), &[7u8; 15]]);
    assert!(matches!(
        err(SyncStateValue::decode(&short)),
        DecodeError::BadUuidLength {
            length: 15,
            offset: 5,
            ..
        }
    ));
    let long = cat(&[&hex("30 16 0a 01 01 04 11"), &[7u8; 17]]);
    assert!(matches!(
        err(SyncStateValue::decode(&long)),
        DecodeError::BadUuidLength { length: 17, .. }
    ));
    assert!(matches!(
        err(SyncStateValue::decode(&hex("30 03 0a 01 01"))),
        DecodeError::Truncated {
            what: "entryuuid",
            offset: 5
        }
    ));
    // A syncUUID of the wrong size and garbage inside the SET OF.
    let bad_set = cat(&[&hex("a3 13 31 11 04 0f"), &[1u8; 15]]);
    assert!(matches!(
        err(SyncInfoValue::decode(&bad_set)),
        DecodeError::BadUuidLength {
            what: "syncuuid",
            ..
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("a3 05 31 03 01 01 ff"))),
        DecodeError::UnexpectedTag {
            what: "syncuuid",
            ..
        }
    ));
    // syncIdSet without its SET OF; a primitive SET.
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("a3 03 01 01 ff"))),
        DecodeError::Truncated {
            what: "syncuuids",
            ..
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("a3 02 11 00"))),
        DecodeError::UnexpectedTag {
            what: "syncuuids",
            ..
        }
    ));
    // Repeated / out-of-order known components.
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 06 01 01 ff 01 01 00"))),
        DecodeError::Invalid { offset: 5, .. }
    ));
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 07 01 01 ff 04 02 63 6b"))),
        DecodeError::Invalid { offset: 5, .. }
    ));
    // A BOOLEAN of two octets; an empty BOOLEAN.
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 04 01 02 ff ff"))),
        DecodeError::Invalid {
            what: "refreshdeletes",
            ..
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("a1 02 01 00"))),
        DecodeError::Invalid {
            what: "refreshdone",
            ..
        }
    ));
    // A constructed OCTET STRING cookie (BER, but forbidden by RFC 4511 §5.1) is neither the
    // cookie nor an extension to skip; nor is an unknown element before a known one.
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 06 24 04 04 02 63 6b"))),
        DecodeError::Invalid { offset: 2, .. }
    ));
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 07 85 01 00 04 02 63 6b"))),
        DecodeError::Invalid { offset: 5, .. }
    ));
    // Trailing octets after the outer element.
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 00 00"))),
        DecodeError::TrailingData { offset: 2, .. }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("80 00 80 00"))),
        DecodeError::TrailingData { offset: 2, .. }
    ));
    // Lengths: indefinite, beyond the input, absurd, overflowing, reserved.
    assert!(matches!(
        err(SyncStateValue::decode(&hex("30 80 0a 01 01 00 00"))),
        DecodeError::IndefiniteLength { offset: 0, .. }
    ));
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 05 04 02 63 6b"))),
        DecodeError::LengthBeyondInput {
            length: 5,
            available: 4,
            ..
        }
    ));
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 04 04 7f 63 6b"))),
        DecodeError::LengthBeyondInput {
            offset: 2,
            length: 127,
            available: 2,
            ..
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("80 84 ff ff ff ff 00"))),
        DecodeError::LengthBeyondInput {
            length: 0xffff_ffff,
            ..
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("80 88 ff ff ff ff ff ff ff ff"))),
        DecodeError::LengthBeyondInput {
            length: u64::MAX,
            ..
        }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex(
            "80 89 00 00 00 00 00 00 00 00 00"
        ))),
        DecodeError::LengthTooLong { octets: 9, .. }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("80 ff"))),
        DecodeError::Invalid { .. }
    ));
    // An inner length that runs past its SEQUENCE but not past the input: the octets after
    // the SEQUENCE are trailing data (checked first), and the inner element is cut short.
    assert!(matches!(
        err(SyncDoneValue::decode(&hex("30 02 04 03 63 6b 6c"))),
        DecodeError::TrailingData { offset: 4, .. }
    ));
    assert!(matches!(
        err(SyncStateValue::decode(&hex("30 05 0a 01 01 04 10 00 00"))),
        DecodeError::TrailingData { offset: 7, .. }
    ));
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("a3 04 31 02 04 10"))),
        DecodeError::LengthBeyondInput {
            offset: 4,
            length: 16,
            available: 0,
            ..
        }
    ));
    // Multi-octet tags; empty input where a value is required.
    assert!(matches!(
        err(SyncInfoValue::decode(&hex("bf 81 00 00"))),
        DecodeError::HighTagNumber { .. }
    ));
    for result in [
        SyncRequestValue::decode(&[]).map(|_| ()),
        SyncStateValue::decode(&[]).map(|_| ()),
        SyncInfoValue::decode(&[]).map(|_| ()),
    ] {
        assert!(matches!(
            result,
            Err(DecodeError::Truncated { offset: 0, .. })
        ));
    }
}

#[test]
fn error_messages_say_what_and_where() {
    let e = err(SyncStateValue::decode(&cat(&[
        &hex("30 14 0a 01 01 04 0f"),
        &[7u8; 15],
    ])));
    assert_eq!(
        e.to_string(),
        "entryuuid at offset 5 has 15 octets (a syncuuid has 16)"
    );
    assert_eq!(e.offset(), 5);
    let e = err(SyncDoneValue::decode(&hex("30 05 04 02 63 6b")));
    assert_eq!(
        e.to_string(),
        "syncdonevalue at offset 0 claims 5 content octets but only 4 remain"
    );
}

/// Every valid vector of this file, paired with whether the empty prefix is valid.
fn valid_vectors() -> Vec<Vec<u8>> {
    vec![
        base64("MBUKAQEEEJGQMBB7whBBh/11PGSN9Zk="),
        base64("MDkENHJpZD0wMDAsY3NuPTIwMjYxMTIzMTk0ODE1LjcyMTAyOFojMDAwMDAwIzAwMCMwMDAwMDABAf8="),
        cat(&[&hex("30 39 0a 01 01 04 34"), CAPTURED_COOKIE_3]),
        cat(&[&hex("a1 36 04 34"), CAPTURED_COOKIE_2]),
        cat(&[
            &hex("a3 7d 04 64"),
            CAPTURED_DELCOOKIE,
            &hex("01 01 ff 31 12 04 10 9a 73 86 5a 7b c2 10 41 87 fe 75 3c 64 8d f5 99"),
        ]),
        hex("80 02 63 6b"),
        hex("30 0a 0a 01 03 04 02 63 6b 01 01 01"),
        cat(&[&hex("30 19 0a 01 02 04 10"), &uuid(U2), &hex("04 02 63 6b")]),
        SyncInfoValue::SyncIdSet {
            cookie: Some(vec![b'c'; 200]),
            refresh_deletes: true,
            sync_uuids: vec![uuid(U1); 20],
        }
        .encode(),
    ]
}

#[test]
fn truncation_at_every_offset_is_an_error() {
    for bytes in valid_vectors() {
        // The whole vector decodes with at least one decoder...
        let decoders: [fn(&[u8]) -> bool; 4] = [
            |b| SyncRequestValue::decode(b).is_ok(),
            |b| SyncStateValue::decode(b).is_ok(),
            |b| SyncDoneValue::decode(b).is_ok(),
            |b| SyncInfoValue::decode(b).is_ok(),
        ];
        let fitting: Vec<_> = decoders.iter().filter(|d| d(&bytes)).collect();
        assert!(!fitting.is_empty(), "{bytes:02x?}");
        // ...and no proper prefix decodes with any of them (the empty syncDone value aside).
        for len in 1..bytes.len() {
            let prefix = bytes.get(..len).unwrap_or_default();
            for decoder in &decoders {
                assert!(!decoder(prefix), "prefix {len} of {bytes:02x?}");
            }
        }
    }
}

#[test]
fn every_single_byte_mutation_decodes_or_fails_cleanly() {
    for bytes in valid_vectors() {
        for position in 0..bytes.len() {
            for value in 0..=255u8 {
                let mut mutated = bytes.clone();
                if let Some(b) = mutated.get_mut(position) {
                    *b = value;
                }
                decode_all(&mutated);
            }
        }
    }
}

fn cookie() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(prop::collection::vec(any::<u8>(), 0..300))
}

fn info() -> impl Strategy<Value = SyncInfoValue> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300).prop_map(SyncInfoValue::NewCookie),
        (cookie(), any::<bool>()).prop_map(|(cookie, refresh_done)| {
            SyncInfoValue::RefreshDelete {
                cookie,
                refresh_done,
            }
        }),
        (cookie(), any::<bool>()).prop_map(|(cookie, refresh_done)| {
            SyncInfoValue::RefreshPresent {
                cookie,
                refresh_done,
            }
        }),
        (
            cookie(),
            any::<bool>(),
            prop::collection::vec(any::<[u8; 16]>(), 0..40)
        )
            .prop_map(
                |(cookie, refresh_deletes, sync_uuids)| SyncInfoValue::SyncIdSet {
                    cookie,
                    refresh_deletes,
                    sync_uuids
                }
            ),
    ]
}

proptest! {
    #[test]
    fn request_round_trip(persist in any::<bool>(), cookie in cookie(), reload_hint in any::<bool>()) {
        let mode = if persist { SyncRequestMode::RefreshAndPersist } else { SyncRequestMode::RefreshOnly };
        let value = SyncRequestValue { mode, cookie, reload_hint };
        prop_assert_eq!(SyncRequestValue::decode(&value.encode()), Ok(value));
    }

    #[test]
    fn state_round_trip(state in 0i64..4, entry_uuid in any::<[u8; 16]>(), cookie in cookie()) {
        let state = SyncState::from_value(state).unwrap_or(SyncState::Add);
        let value = SyncStateValue { state, entry_uuid, cookie };
        prop_assert_eq!(SyncStateValue::decode(&value.encode()), Ok(value));
    }

    #[test]
    fn done_round_trip(cookie in cookie(), refresh_deletes in any::<bool>()) {
        let value = SyncDoneValue { cookie, refresh_deletes };
        prop_assert_eq!(SyncDoneValue::decode(&value.encode()), Ok(value));
    }

    #[test]
    fn info_round_trip(value in info()) {
        prop_assert_eq!(SyncInfoValue::decode(&value.encode()), Ok(value));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        decode_all(&bytes);
    }

    #[test]
    fn encodings_truncated_anywhere_are_errors(value in info(), cut in any::<prop::sample::Index>()) {
        let bytes = value.encode();
        let len = cut.index(bytes.len());
        prop_assert!(SyncInfoValue::decode(bytes.get(..len).unwrap_or_default()).is_err());
    }
}
