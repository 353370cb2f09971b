//! The state machine against hand-built message sequences: what OpenLDAP 2.5 and 389-ds 2.3
//! were observed to send (`/work/shared/servers/*/REPORT.md`), and malformed input.

use std::collections::BTreeMap;

use idsync_core::{EntryKind, MemberRef};

use super::*;
use crate::raw::RawAttribute;

/// Maps `uid` entries to users and `cn` + `member` entries to groups; `x-out` puts an entry
/// out of view; an entry with neither name is invalid.
struct TestMapper;

impl EntryMapper for TestMapper {
    fn map_entry(&self, id: EntryId, entry: &RawEntry) -> MapOutcome {
        if !entry.values("x-out").is_empty() {
            return MapOutcome::OutOfView;
        }
        let text = |name: &str| {
            entry
                .values(name)
                .first()
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let (kind, name) = match (text("uid"), text("cn")) {
            (Some(uid), _) => (EntryKind::User, uid),
            (None, Some(cn)) => (EntryKind::Group, cn),
            (None, None) => return MapOutcome::Invalid("no uid or cn".to_owned()),
        };
        let mut attrs = BTreeMap::new();
        if let Some(locked) = text("nsAccountLock") {
            attrs.insert("locked".to_owned(), vec![locked]);
        }
        MapOutcome::Entry(Entry {
            id,
            kind,
            locator: entry.dn.clone(),
            name,
            enabled: text("nsAccountLock").as_deref() != Some("TRUE"),
            attrs,
            members: entry
                .values("member")
                .iter()
                .map(|v| MemberRef::Dn(String::from_utf8_lossy(v).into_owned()))
                .collect(),
        })
    }
}

fn uuid(n: u8) -> [u8; 16] {
    [n; 16]
}

fn id(n: u8) -> EntryId {
    EntryId::from_bytes(uuid(n))
}

fn control(oid: &str, value: Vec<u8>) -> RawControl {
    RawControl {
        oid: oid.to_owned(),
        critical: false,
        value: Some(value),
    }
}

fn state(state: SyncState, n: u8, cookie: Option<&[u8]>) -> RawControl {
    control(
        SYNC_STATE_OID,
        SyncStateValue {
            state,
            entry_uuid: uuid(n),
            cookie: cookie.map(<[u8]>::to_vec),
        }
        .encode(),
    )
}

fn user(n: u8, sync_state: SyncState, cookie: Option<&[u8]>) -> RawMessage {
    user_dn(
        n,
        &format!("uid=u{n},ou=people,dc=example,dc=org"),
        sync_state,
        cookie,
    )
}

fn user_dn(n: u8, dn: &str, sync_state: SyncState, cookie: Option<&[u8]>) -> RawMessage {
    let attributes = if matches!(sync_state, SyncState::Present | SyncState::Delete) {
        Vec::new()
    } else {
        vec![RawAttribute {
            name: "uid".to_owned(),
            values: vec![format!("u{n}").into_bytes()],
        }]
    };
    RawMessage::Entry(RawEntry {
        dn: dn.to_owned(),
        attributes,
        controls: vec![state(sync_state, n, cookie)],
    })
}

fn info(value: SyncInfoValue) -> RawMessage {
    RawMessage::Intermediate(RawIntermediate {
        name: Some(SYNC_INFO_OID.to_owned()),
        value: Some(value.encode()),
        controls: Vec::new(),
    })
}

fn id_set(cookie: Option<&[u8]>, deletes: bool, ns: &[u8]) -> RawMessage {
    info(SyncInfoValue::SyncIdSet {
        cookie: cookie.map(<[u8]>::to_vec),
        refresh_deletes: deletes,
        sync_uuids: ns.iter().map(|&n| uuid(n)).collect(),
    })
}

fn done_with(code: u32, message: &str, value: Option<SyncDoneValue>) -> RawMessage {
    RawMessage::Done(RawDone {
        result_code: code,
        matched_dn: String::new(),
        message: message.to_owned(),
        controls: value
            .map(|v| vec![control(SYNC_DONE_OID, v.encode())])
            .unwrap_or_default(),
    })
}

fn done(cookie: Option<&[u8]>, refresh_deletes: bool) -> RawMessage {
    done_with(
        0,
        "",
        Some(SyncDoneValue {
            cookie: cookie.map(<[u8]>::to_vec),
            refresh_deletes,
        }),
    )
}

fn machine(cookie_sent: bool, persist: bool, ds389: bool) -> SyncProtocol {
    SyncProtocol::new(
        Arc::new(TestMapper),
        ProtocolOptions {
            cookie_sent,
            persist,
            ds389,
        },
    )
}

/// Feeds messages, checking every step but the last is `Continue`; returns the events and
/// the last step.
fn run(machine: &mut SyncProtocol, messages: Vec<RawMessage>) -> (Vec<Event>, Step) {
    let mut out = Vec::new();
    let count = messages.len();
    let mut last = Step::Continue;
    for (i, message) in messages.into_iter().enumerate() {
        last = machine
            .handle(message, &mut out)
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
        if i + 1 < count {
            assert_eq!(last, Step::Continue, "message {i}");
        }
    }
    (out, last)
}

/// The events reduced to a readable shape.
fn shape(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::Changed(e) => format!("changed {} {}", e.name, e.locator),
            Event::Present(ids) => format!("present {}", ids.len()),
            Event::Deleted(ids) => format!(
                "deleted {}",
                ids.iter()
                    .map(|id| id.as_bytes().first().copied().unwrap_or(0).to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Event::Known(e) => format!("known {}", e.name),
            Event::RefreshDone { delete_unmentioned } => format!("done sweep={delete_unmentioned}"),
            Event::Cookie(c) => format!("cookie {}", String::from_utf8_lossy(c)),
            Event::RefreshStarted => "started".to_owned(),
            Event::RefreshRequired => "required".to_owned(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Full refreshes (no cookie): always mark-and-sweep, whatever the marker says.
// ---------------------------------------------------------------------------------------------

#[test]
fn openldap_refresh_only_without_cookie_sweeps_despite_refresh_deletes_true() {
    let mut m = machine(false, false, false);
    let (events, step) = run(
        &mut m,
        vec![
            user(1, SyncState::Add, None),
            user(2, SyncState::Add, None),
            done(Some(b"rid=000,csn=1"), true),
        ],
    );
    assert_eq!(step, Step::Finished);
    assert_eq!(
        shape(&events),
        [
            "changed u1 uid=u1,ou=people,dc=example,dc=org",
            "changed u2 uid=u2,ou=people,dc=example,dc=org",
            "cookie rid=000,csn=1",
            "done sweep=true"
        ]
    );
    assert!(m.refresh_done());
}

#[test]
fn ds389_refresh_only_without_cookie_sweeps() {
    let mut m = machine(false, false, true);
    let (events, step) = run(
        &mut m,
        vec![
            user(1, SyncState::Add, None),
            done(Some(b"h:389#dn:b:f#40"), false),
        ],
    );
    assert_eq!(step, Step::Finished);
    assert_eq!(
        shape(&events).into_iter().skip(1).collect::<Vec<_>>(),
        ["cookie h:389#dn:b:f#40", "done sweep=true"]
    );
}

#[test]
fn refresh_and_persist_without_cookie_ends_with_refresh_delete_and_still_sweeps() {
    for ds389 in [false, true] {
        let mut m = machine(false, true, ds389);
        let (events, step) = run(
            &mut m,
            vec![
                user(1, SyncState::Add, None),
                info(SyncInfoValue::RefreshDelete {
                    cookie: Some(b"c1".to_vec()),
                    refresh_done: true,
                }),
            ],
        );
        assert_eq!(step, Step::Persisting);
        assert_eq!(
            shape(&events).into_iter().skip(1).collect::<Vec<_>>(),
            ["cookie c1", "done sweep=true"]
        );
    }
}

#[test]
fn persist_stage_add_modify_rename_delete_each_followed_by_its_cookie() {
    let mut m = machine(false, true, false);
    run(
        &mut m,
        vec![info(SyncInfoValue::RefreshDelete {
            cookie: Some(b"c1".to_vec()),
            refresh_done: true,
        })],
    );
    let (events, step) = run(
        &mut m,
        vec![
            user(3, SyncState::Add, Some(b"c2")),
            user(3, SyncState::Modify, Some(b"c3")),
            user_dn(
                3,
                "uid=u3,ou=moved,dc=example,dc=org",
                SyncState::Modify,
                Some(b"c4"),
            ),
            user(3, SyncState::Delete, Some(b"c5")),
            info(SyncInfoValue::NewCookie(b"c6".to_vec())),
        ],
    );
    assert_eq!(step, Step::Continue);
    assert_eq!(
        shape(&events),
        [
            "changed u3 uid=u3,ou=people,dc=example,dc=org",
            "cookie c2",
            "changed u3 uid=u3,ou=people,dc=example,dc=org",
            "cookie c3",
            "changed u3 uid=u3,ou=moved,dc=example,dc=org",
            "cookie c4",
            "deleted 3",
            "cookie c5",
            "cookie c6",
        ]
    );
    // The rename keeps the id: an upsert, never delete + create.
    let Some(Event::Changed(renamed)) = events.get(4) else {
        panic!("no rename event");
    };
    assert_eq!(renamed.id, id(3));
}

#[test]
fn persist_stage_ends_when_the_server_sends_search_done() {
    let mut m = machine(false, true, false);
    run(
        &mut m,
        vec![info(SyncInfoValue::RefreshPresent {
            cookie: Some(b"c1".to_vec()),
            refresh_done: true,
        })],
    );
    let (events, step) = run(&mut m, vec![done(Some(b"c9"), false)]);
    assert_eq!(step, Step::Finished);
    assert_eq!(shape(&events), ["cookie c9"]);
    let mut out = Vec::new();
    assert!(matches!(
        m.handle(user(1, SyncState::Add, None), &mut out),
        Err(ProtocolError::OutOfOrder(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Incremental refreshes (with a cookie), OpenLDAP.
// ---------------------------------------------------------------------------------------------

#[test]
fn openldap_sessionlog_refresh_is_a_delete_phase() {
    let mut m = machine(true, false, false);
    let (events, step) = run(
        &mut m,
        vec![
            id_set(Some(b"rid=000,csn=1,delcsn=2"), true, &[7]),
            id_set(Some(b"rid=000,csn=1,delcsn=3"), true, &[8]),
            user(2, SyncState::Add, None),
            done(Some(b"rid=000,csn=3"), true),
        ],
    );
    assert_eq!(step, Step::Finished);
    assert_eq!(
        shape(&events),
        [
            "deleted 7",
            "deleted 8",
            "changed u2 uid=u2,ou=people,dc=example,dc=org",
            "cookie rid=000,csn=3",
            "done sweep=false"
        ]
    );
}

#[test]
fn openldap_present_phase_refresh_sweeps() {
    let mut m = machine(true, false, false);
    let (events, _) = run(
        &mut m,
        vec![
            id_set(None, false, &[1, 2, 3]),
            id_set(None, false, &[4]),
            user(5, SyncState::Add, None),
            done(Some(b"c2"), false),
        ],
    );
    assert_eq!(
        shape(&events),
        [
            "present 4",
            "changed u5 uid=u5,ou=people,dc=example,dc=org",
            "cookie c2",
            "done sweep=true"
        ]
    );
}

#[test]
fn present_entries_in_one_call_merge_into_one_event() {
    let mut m = machine(true, false, false);
    let mut out = Vec::new();
    for n in 1..=3 {
        m.handle(user(n, SyncState::Present, None), &mut out)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(out, [Event::Present(vec![id(1), id(2), id(3)])]);
}

#[test]
fn refresh_and_persist_present_phase_with_cookie_sweeps() {
    let mut m = machine(true, true, false);
    let (events, step) = run(
        &mut m,
        vec![
            id_set(None, false, &[1]),
            info(SyncInfoValue::RefreshPresent {
                cookie: Some(b"c2".to_vec()),
                refresh_done: true,
            }),
        ],
    );
    assert_eq!(step, Step::Persisting);
    assert_eq!(
        shape(&events),
        ["present 1", "cookie c2", "done sweep=true"]
    );
}

#[test]
fn a_present_phase_followed_by_a_delete_phase_sweeps() {
    let mut m = machine(true, true, false);
    let (events, step) = run(
        &mut m,
        vec![
            id_set(None, false, &[1]),
            info(SyncInfoValue::RefreshPresent {
                cookie: None,
                refresh_done: false,
            }),
            id_set(None, true, &[2]),
            info(SyncInfoValue::RefreshDelete {
                cookie: Some(b"c3".to_vec()),
                refresh_done: true,
            }),
        ],
    );
    assert_eq!(step, Step::Persisting);
    assert_eq!(
        shape(&events),
        ["present 1", "deleted 2", "cookie c3", "done sweep=true"]
    );
}

#[test]
fn nothing_changed_keeps_the_old_cookie() {
    let mut m = machine(true, false, false);
    let (events, step) = run(&mut m, vec![done(None, true)]);
    assert_eq!(step, Step::Finished);
    assert_eq!(shape(&events), ["done sweep=false"]);

    let mut m = machine(true, true, false);
    let (events, step) = run(
        &mut m,
        vec![info(SyncInfoValue::RefreshDelete {
            cookie: None,
            refresh_done: true,
        })],
    );
    assert_eq!(step, Step::Persisting);
    assert_eq!(shape(&events), ["done sweep=false"]);
}

#[test]
fn a_refresh_without_end_cookie_keeps_the_newest_cookie_it_saw() {
    let mut m = machine(true, false, false);
    let (events, _) = run(
        &mut m,
        vec![id_set(Some(b"c7"), true, &[1]), done(None, true)],
    );
    assert_eq!(
        shape(&events),
        ["deleted 1", "cookie c7", "done sweep=false"]
    );
}

#[test]
fn a_garbage_cookie_answered_with_an_empty_cookie_restarts_without_cookie() {
    let mut m = machine(true, false, false);
    let (events, step) = run(
        &mut m,
        vec![user(1, SyncState::Add, None), done(Some(b""), true)],
    );
    assert!(matches!(step, Step::RestartWithoutCookie { .. }));
    assert_eq!(events.last(), Some(&Event::RefreshRequired));
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::RefreshDone { .. })));

    let mut m = machine(true, true, false);
    let (_, step) = run(
        &mut m,
        vec![info(SyncInfoValue::RefreshDelete {
            cookie: Some(Vec::new()),
            refresh_done: true,
        })],
    );
    assert!(matches!(step, Step::RestartWithoutCookie { .. }));
}

#[test]
fn an_empty_cookie_on_a_full_refresh_is_no_cookie() {
    let mut m = machine(false, false, false);
    let (events, step) = run(&mut m, vec![done(Some(b""), true)]);
    assert_eq!(step, Step::Finished);
    assert_eq!(shape(&events), ["done sweep=true"]);
}

#[test]
fn refresh_required_4096_restarts_once() {
    for persist in [false, true] {
        let mut m = machine(true, persist, false);
        let (events, step) = run(
            &mut m,
            vec![done_with(4096, "Invalid session cookie", None)],
        );
        assert_eq!(shape(&events), ["required"]);
        let Step::RestartWithoutCookie { reason } = step else {
            panic!("not a restart: {step:?}");
        };
        assert!(reason.contains("Invalid session cookie"), "{reason}");
    }
    // Without a cookie there is nothing to drop: an error, not a loop.
    let mut m = machine(false, true, false);
    let mut out = Vec::new();
    assert!(matches!(
        m.handle(done_with(4096, "x", None), &mut out),
        Err(ProtocolError::RefreshLoop { .. })
    ));
    assert!(out.is_empty());
}

#[test]
fn refresh_required_in_the_persist_stage_restarts() {
    let mut m = machine(true, true, false);
    run(
        &mut m,
        vec![info(SyncInfoValue::RefreshDelete {
            cookie: None,
            refresh_done: true,
        })],
    );
    let (events, step) = run(&mut m, vec![done_with(4096, "base changed", None)]);
    assert!(matches!(step, Step::RestartWithoutCookie { .. }));
    assert_eq!(shape(&events), ["required"]);
}

#[test]
fn consumer_state_newer_than_provider_restarts() {
    let mut m = machine(true, false, false);
    let (events, step) = run(
        &mut m,
        vec![done_with(
            53,
            "consumer state is newer than provider!",
            None,
        )],
    );
    assert!(matches!(step, Step::RestartWithoutCookie { .. }));
    assert_eq!(shape(&events), ["required"]);
    // Other 53s are errors.
    let mut m = machine(true, false, false);
    let mut out = Vec::new();
    assert!(matches!(
        m.handle(done_with(53, "too many sessions", None), &mut out),
        Err(ProtocolError::Failed { code: 53, .. })
    ));
}

#[test]
fn error_results_are_errors() {
    let mut m = machine(false, false, true);
    let mut out = Vec::new();
    let result = m.handle(done_with(4, "size limit", None), &mut out);
    assert!(matches!(result, Err(ProtocolError::Failed { code: 4, .. })));
    assert!(out.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 389-ds with a cookie: a delete phase whatever syncDone says, and changed entries re-read.
// ---------------------------------------------------------------------------------------------

#[test]
fn ds389_refresh_only_with_cookie_is_a_delete_phase_and_rereads_changed_entries() {
    let mut m = machine(true, false, true);
    let (events, step) = run(
        &mut m,
        vec![
            id_set(Some(b"h#d#38"), true, &[9]),
            user(1, SyncState::Add, None),
            user(2, SyncState::Add, None),
            done(Some(b"h#d#38"), false),
        ],
    );
    assert_eq!(shape(&events), ["deleted 9"]);
    let Step::Reread(targets) = step else {
        panic!("expected a re-read, got {step:?}");
    };
    assert_eq!(
        targets,
        [
            RereadTarget {
                id: id(1),
                dn: "uid=u1,ou=people,dc=example,dc=org".to_owned()
            },
            RereadTarget {
                id: id(2),
                dn: "uid=u2,ou=people,dc=example,dc=org".to_owned()
            }
        ]
    );
    // Messages wait until the re-read is done.
    let mut out = Vec::new();
    assert!(m.handle(done(None, false), &mut out).is_err());

    let locked = RawEntry {
        dn: "uid=u1,ou=people,dc=example,dc=org".to_owned(),
        attributes: vec![
            RawAttribute {
                name: "uid".to_owned(),
                values: vec![b"u1".to_vec()],
            },
            RawAttribute {
                name: "nsAccountLock".to_owned(),
                values: vec![b"TRUE".to_vec()],
            },
        ],
        controls: Vec::new(),
    };
    let mut out = Vec::new();
    let [first, second] = targets.as_slice() else {
        panic!("two targets");
    };
    m.reread_result(first, Some(&locked), &mut out);
    m.reread_result(second, None, &mut out);
    let step = m.reread_done(&mut out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(step, Step::Finished);
    assert_eq!(
        shape(&out),
        [
            "changed u1 uid=u1,ou=people,dc=example,dc=org",
            "deleted 2",
            "cookie h#d#38",
            "done sweep=false"
        ]
    );
    let Some(Event::Changed(entry)) = out.first() else {
        panic!("no change");
    };
    assert!(!entry.enabled, "the re-read entry carries nsAccountLock");
    assert!(m.reread_done(&mut out).is_err(), "only once");
}

#[test]
fn ds389_refresh_and_persist_with_cookie_rereads_then_persists_normally() {
    let mut m = machine(true, true, true);
    let (_, step) = run(
        &mut m,
        vec![
            user(1, SyncState::Add, None),
            info(SyncInfoValue::RefreshDelete {
                cookie: Some(b"h#d#40".to_vec()),
                refresh_done: true,
            }),
        ],
    );
    let Step::Reread(targets) = step else {
        panic!("expected a re-read, got {step:?}");
    };
    assert_eq!(targets.len(), 1);
    let mut out = Vec::new();
    assert_eq!(
        m.reread_done(&mut out).unwrap_or_else(|e| panic!("{e}")),
        Step::Persisting
    );
    assert_eq!(shape(&out), ["cookie h#d#40", "done sweep=false"]);
    // Persist entries honour the attribute list: mapped as sent.
    let (events, _) = run(&mut m, vec![user(1, SyncState::Modify, Some(b"h#d#41"))]);
    assert_eq!(
        shape(&events),
        [
            "changed u1 uid=u1,ou=people,dc=example,dc=org",
            "cookie h#d#41"
        ]
    );
}

#[test]
fn ds389_full_refresh_maps_entries_directly() {
    let mut m = machine(false, true, true);
    let (events, step) = run(
        &mut m,
        vec![
            user(1, SyncState::Add, None),
            info(SyncInfoValue::RefreshDelete {
                cookie: Some(b"h#d#1".to_vec()),
                refresh_done: true,
            }),
        ],
    );
    assert_eq!(step, Step::Persisting);
    assert_eq!(events.len(), 3);
}

#[test]
fn ds389_cookie_checks() {
    assert_eq!(
        ds389_cookie_changenumber(
            b"localhost:3891#uid=x,dc=e:cn=accounts,dc=e:(objectClass=*)#40415"
        ),
        Some(40415)
    );
    assert!(ds389_cookie_unusable(b"h:1#d:b:f#4294967295", None).is_some());
    assert!(ds389_cookie_unusable(b"h:1#d:b:f#10", Some(20)).is_some());
    assert!(ds389_cookie_unusable(b"h:1#d:b:f#19", Some(20)).is_none());
    assert!(ds389_cookie_unusable(b"h:1#d:b:f#10", None).is_none());
    assert!(ds389_cookie_unusable(b"rid=000,csn=1", None).is_some());
    assert!(ds389_cookie_unusable(&[0xff, 0xfe], None).is_some());
}

// ---------------------------------------------------------------------------------------------
// Mapping outcomes, skipped messages, malformed input.
// ---------------------------------------------------------------------------------------------

#[test]
fn out_of_view_entries_are_deleted_and_invalid_ones_kept() {
    let mut m = machine(false, true, false);
    let out_of_view = RawMessage::Entry(RawEntry {
        dn: "uid=x".to_owned(),
        attributes: vec![
            RawAttribute {
                name: "uid".to_owned(),
                values: vec![b"x".to_vec()],
            },
            RawAttribute {
                name: "x-out".to_owned(),
                values: vec![b"1".to_vec()],
            },
        ],
        controls: vec![state(SyncState::Add, 4, None)],
    });
    let invalid = RawMessage::Entry(RawEntry {
        dn: "o=nameless".to_owned(),
        attributes: Vec::new(),
        controls: vec![state(SyncState::Modify, 5, None)],
    });
    let (events, _) = run(&mut m, vec![out_of_view, invalid]);
    // An entry that cannot be mapped is not evidence of absence: it stays as synced.
    assert_eq!(shape(&events), ["deleted 4", "present 1"]);
}

#[test]
fn groups_keep_their_member_references() {
    let mut m = machine(false, true, false);
    let group = RawMessage::Entry(RawEntry {
        dn: "cn=g,dc=example,dc=org".to_owned(),
        attributes: vec![
            RawAttribute {
                name: "cn".to_owned(),
                values: vec![b"g".to_vec()],
            },
            RawAttribute {
                name: "member".to_owned(),
                values: vec![b"uid=u1,dc=example,dc=org".to_vec()],
            },
        ],
        controls: vec![state(SyncState::Add, 6, None)],
    });
    let (events, _) = run(&mut m, vec![group]);
    let Some(Event::Changed(entry)) = events.first() else {
        panic!("no change");
    };
    assert_eq!(entry.kind, EntryKind::Group);
    assert_eq!(
        entry.members,
        [MemberRef::Dn("uid=u1,dc=example,dc=org".to_owned())]
    );
}

#[test]
fn references_and_foreign_intermediates_are_skipped() {
    let mut m = machine(false, false, false);
    let (events, step) = run(
        &mut m,
        vec![
            RawMessage::Reference(vec!["ldap://elsewhere/".to_owned()]),
            RawMessage::Intermediate(RawIntermediate {
                name: Some("1.2.3.4".to_owned()),
                value: Some(vec![0xde, 0xad]),
                controls: Vec::new(),
            }),
            done(None, false),
        ],
    );
    assert_eq!(step, Step::Finished);
    assert_eq!(shape(&events), ["done sweep=true"]);
}

#[test]
fn a_done_without_sync_done_control_takes_the_defaults() {
    let mut m = machine(true, false, false);
    let (events, _) = run(&mut m, vec![done_with(0, "", None)]);
    assert_eq!(shape(&events), ["done sweep=true"]);
}

#[test]
fn entry_without_sync_state_is_an_error() {
    let mut m = machine(false, false, false);
    let mut out = Vec::new();
    let entry = RawMessage::Entry(RawEntry {
        dn: "uid=a".to_owned(),
        attributes: Vec::new(),
        controls: vec![control("1.2.840.113556.1.4.319", vec![0x30, 0x00])],
    });
    assert!(matches!(
        m.handle(entry, &mut out),
        Err(ProtocolError::MissingSyncState { .. })
    ));
}

#[test]
fn syncinfo_without_value_is_an_error() {
    let mut m = machine(false, false, false);
    let mut out = Vec::new();
    let message = RawMessage::Intermediate(RawIntermediate {
        name: Some(SYNC_INFO_OID.to_owned()),
        value: None,
        controls: Vec::new(),
    });
    assert!(matches!(
        m.handle(message, &mut out),
        Err(ProtocolError::MissingInfoValue)
    ));
}

/// Every truncation and every single-octet corruption of each control or value is an error or
/// a valid message — never a panic.
#[test]
fn malformed_controls_and_values_never_panic() {
    let state_value = SyncStateValue {
        state: SyncState::Modify,
        entry_uuid: uuid(1),
        cookie: Some(b"cookie".to_vec()),
    }
    .encode();
    let info_value = SyncInfoValue::SyncIdSet {
        cookie: Some(b"c".to_vec()),
        refresh_deletes: true,
        sync_uuids: vec![uuid(1), uuid(2)],
    }
    .encode();
    let done_value = SyncDoneValue {
        cookie: Some(b"c".to_vec()),
        refresh_deletes: true,
    }
    .encode();
    let variants = |bytes: &[u8]| {
        let mut all: Vec<Vec<u8>> = (0..bytes.len())
            .map(|n| bytes.get(..n).unwrap_or(&[]).to_vec())
            .collect();
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut v = bytes.to_vec();
                if let Some(b) = v.get_mut(i) {
                    *b ^= flip;
                }
                all.push(v);
            }
        }
        all
    };
    let mut errors = 0;
    for bytes in variants(&state_value) {
        let mut m = machine(true, true, false);
        let mut out = Vec::new();
        let entry = RawMessage::Entry(RawEntry {
            dn: "uid=a".to_owned(),
            attributes: Vec::new(),
            controls: vec![control(SYNC_STATE_OID, bytes)],
        });
        errors += usize::from(m.handle(entry, &mut out).is_err());
    }
    for bytes in variants(&info_value) {
        let mut m = machine(true, true, false);
        let mut out = Vec::new();
        let message = RawMessage::Intermediate(RawIntermediate {
            name: Some(SYNC_INFO_OID.to_owned()),
            value: Some(bytes),
            controls: Vec::new(),
        });
        errors += usize::from(m.handle(message, &mut out).is_err());
    }
    for bytes in variants(&done_value) {
        let mut m = machine(true, false, false);
        let mut out = Vec::new();
        let message = RawMessage::Done(RawDone {
            result_code: 0,
            matched_dn: String::new(),
            message: String::new(),
            controls: vec![control(SYNC_DONE_OID, bytes)],
        });
        errors += usize::from(m.handle(message, &mut out).is_err());
    }
    assert!(errors > 100, "most corruptions are errors ({errors})");
}
