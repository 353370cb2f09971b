//! The replay machine on an idiotrace-layout capture, on multi-search idsync traces, with and
//! without recorded 389-ds re-reads; the source on a file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;

use idsync_core::{Event, MemberRef, Source, SourceError, SourceStart};

use super::{Replay, ReplayError, ReplaySource};
use crate::config::ReplaySourceConfig;
use crate::flavour::{id_from_sync_uuid, Flavour, FlavourKind, FlavourSettings};
use crate::raw::{RawAttribute, RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};
use crate::sync::{
    SyncDoneValue, SyncInfoValue, SyncState, SyncStateValue, SYNC_DONE_OID, SYNC_INFO_OID,
    SYNC_STATE_OID,
};
use crate::trace::{SearchHeader, TraceReader, TraceWriter};

fn traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/traces")
}

fn flavour(kind: FlavourKind) -> Arc<Flavour> {
    let settings = FlavourSettings {
        base: Some("dc=example,dc=org".into()),
        ..FlavourSettings::default()
    };
    Arc::new(Flavour::new(kind, &settings).unwrap())
}

/// Replays trace text, returning every event (an error ends the list with `Err`).
fn replay(
    kind: FlavourKind,
    trace: &[u8],
    sink_has_cookie: bool,
) -> Result<Vec<Event>, ReplayError> {
    let mut machine = Replay::new(flavour(kind), sink_has_cookie);
    let mut out = Vec::new();
    let mut reader = TraceReader::new(trace);
    while let Some(traced) = reader.next_message() {
        machine.feed(traced.unwrap(), &mut out)?;
    }
    machine.finish(&mut out)?;
    Ok(out)
}

/// Events as short strings: `changed alice`, `deleted`, `cookie …`, `done sweep=…`.
fn shape(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::Changed(entry) => {
                let enabled = if entry.enabled { "" } else { " disabled" };
                format!("changed {}{enabled}", entry.name)
            }
            Event::Present(ids) => format!("present {}", ids.len()),
            Event::Deleted(ids) => format!("deleted {}", ids.len()),
            Event::Known(entry) => format!("known {}", entry.name),
            Event::RefreshDone { delete_unmentioned } => format!("done sweep={delete_unmentioned}"),
            Event::Cookie(cookie) => {
                let text = String::from_utf8_lossy(cookie);
                format!("cookie {}", text.rsplit('#').next().unwrap_or_default())
            }
            Event::RefreshStarted => "refresh started".into(),
            Event::RefreshRequired => "refresh required".into(),
        })
        .collect()
}

fn changed<'e>(events: &'e [Event], name: &str) -> Vec<&'e idsync_core::Entry> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Changed(entry) if entry.name == name => Some(entry),
            _ => None,
        })
        .collect()
}

fn uuid(n: u8) -> [u8; 16] {
    let mut uuid = [0x11; 16];
    uuid[15] = n;
    uuid
}

fn state(state: SyncState, n: u8, cookie: Option<&str>) -> RawControl {
    RawControl {
        oid: SYNC_STATE_OID.into(),
        critical: false,
        value: Some(
            SyncStateValue {
                state,
                entry_uuid: uuid(n),
                cookie: cookie.map(|c| c.as_bytes().to_vec()),
            }
            .encode(),
        ),
    }
}

fn attribute(name: &str, values: &[&str]) -> RawAttribute {
    RawAttribute {
        name: name.into(),
        values: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
    }
}

/// An OpenLDAP inetOrgPerson user.
fn user(n: u8, uid: &str, display: &str, sync: SyncState, cookie: Option<&str>) -> RawMessage {
    RawMessage::Entry(RawEntry {
        dn: format!("uid={uid},ou=people,dc=example,dc=org"),
        attributes: vec![
            attribute("objectClass", &["inetOrgPerson"]),
            attribute("uid", &[uid]),
            attribute("cn", &[display]),
            attribute("sn", &[display]),
            attribute("displayName", &[display]),
        ],
        controls: vec![state(sync, n, cookie)],
    })
}

/// A FreeIPA user, with or without its operational `nsAccountLock`.
fn ipa_user(n: u8, uid: &str, lock: Option<&str>, sync: SyncState) -> RawMessage {
    let mut attributes = vec![
        attribute("objectClass", &["top", "person", "inetorgperson"]),
        attribute("uid", &[uid]),
        attribute("cn", &[uid]),
        attribute("sn", &[uid]),
    ];
    if let Some(lock) = lock {
        attributes.push(attribute("nsAccountLock", &[lock]));
    }
    RawMessage::Entry(RawEntry {
        dn: format!("uid={uid},cn=users,cn=accounts,dc=example,dc=org"),
        attributes,
        controls: vec![state(sync, n, None)],
    })
}

fn info(value: SyncInfoValue) -> RawMessage {
    RawMessage::Intermediate(RawIntermediate {
        name: Some(SYNC_INFO_OID.into()),
        value: Some(value.encode()),
        controls: Vec::new(),
    })
}

fn done(cookie: &str, refresh_deletes: bool) -> RawMessage {
    RawMessage::Done(RawDone {
        result_code: 0,
        matched_dn: String::new(),
        message: String::new(),
        controls: vec![RawControl {
            oid: SYNC_DONE_OID.into(),
            critical: false,
            value: Some(
                SyncDoneValue {
                    cookie: Some(cookie.as_bytes().to_vec()),
                    refresh_deletes,
                }
                .encode(),
            ),
        }],
    })
}

fn header(cookie_sent: bool, persist: bool) -> SearchHeader {
    SearchHeader::new(
        "ldap://127.0.0.1:389",
        "dc=example,dc=org",
        "sub",
        "(objectClass=*)",
        vec!["*".into(), "+".into()],
        persist,
        cookie_sent,
    )
}

fn trace(messages: &[(Option<SearchHeader>, RawMessage)]) -> Vec<u8> {
    let mut writer = TraceWriter::new(Vec::new());
    for (header, message) in messages {
        if let Some(header) = header {
            writer.begin_search(header.clone());
        }
        writer.write(message).unwrap();
    }
    writer.into_inner().unwrap()
}

#[test]
fn an_idiotrace_capture_replays_through_the_freeipa_flavour() {
    let capture = std::fs::read(traces_dir().join("idiotrace-freeipa.ldif")).unwrap();
    let events = replay(FlavourKind::FreeIpa, &capture, false).unwrap();
    assert_eq!(
        shape(&events),
        [
            "deleted 1", // admins: a FreeIPA internal group, out of view
            "changed alice",
            "changed staff",
            "cookie 1",
            "done sweep=true", // no cookie was sent: a full refresh
            "changed bob",
            "cookie 2",
            "changed staff",
            "cookie 3",
            "changed carol disabled",
            "cookie 4",
            "changed alice",
            "cookie 5",
            "deleted 1",
            "cookie 6",
        ]
    );
    let staff = changed(&events, "staff");
    assert_eq!(
        staff[1].members,
        vec![
            MemberRef::Dn("uid=alice,cn=users,cn=accounts,dc=example,dc=org".into()),
            MemberRef::Dn("uid=bob,cn=users,cn=accounts,dc=example,dc=org".into()),
        ]
    );
    let alice = changed(&events, "alice");
    assert_eq!(alice[0].attr("displayName"), Some("Alice Archer"));
    assert_eq!(alice[1].attr("displayName"), Some("Alice Liddell"));
    // 389-ds: the syncUUID is the nsUniqueId's 16 octets.
    let alice_id = id_from_sync_uuid([
        0x6a, 0x0b, 0x1c, 0x2d, 0x11, 0xee, 0x11, 0xef, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07,
        0x18,
    ]);
    assert_eq!(alice[0].id, alice_id);
}

#[test]
fn a_stored_cookie_makes_the_replay_a_full_refresh() {
    let capture = std::fs::read(traces_dir().join("idiotrace-freeipa.ldif")).unwrap();
    let events = replay(FlavourKind::FreeIpa, &capture, true).unwrap();
    assert_eq!(shape(&events)[..2], ["refresh required", "deleted 1"]);
    // A trace that starts with a cookie replays as it was, stored cookie or not.
    let incremental = trace(&[
        (
            Some(header(true, false)),
            user(1, "alice", "Alice", SyncState::Add, None),
        ),
        (None, done("c2", true)),
    ]);
    let events = replay(FlavourKind::Ldap, &incremental, true).unwrap();
    assert_eq!(
        shape(&events),
        ["changed alice", "cookie c2", "done sweep=false"]
    );
}

#[test]
fn each_search_of_a_trace_is_its_own_refresh() {
    let text = trace(&[
        // refreshOnly without cookie: a full refresh.
        (
            Some(header(false, false)),
            user(1, "alice", "Alice", SyncState::Add, None),
        ),
        (None, user(2, "bob", "Bob", SyncState::Add, None)),
        (None, done("c1", true)),
        // A later run resumes with the cookie: a delete phase (no sweep).
        (
            Some(header(true, true)),
            user(2, "bob", "Bobby", SyncState::Modify, None),
        ),
        (
            None,
            info(SyncInfoValue::RefreshDelete {
                cookie: Some(b"c2".to_vec()),
                refresh_done: true,
            }),
        ),
        (None, user(3, "carol", "Carol", SyncState::Add, Some("c3"))),
        // The connection broke; the reconnect resumes from c3 and the server restarts it.
        (
            Some(header(true, true)),
            RawMessage::Done(RawDone {
                result_code: crate::sync::SYNC_REFRESH_REQUIRED,
                matched_dn: String::new(),
                message: "cookie too old".into(),
                controls: Vec::new(),
            }),
        ),
        (
            Some(header(false, true)),
            user(1, "alice", "Alice", SyncState::Add, None),
        ),
        (
            None,
            info(SyncInfoValue::RefreshPresent {
                cookie: Some(b"c4".to_vec()),
                refresh_done: true,
            }),
        ),
    ]);
    let events = replay(FlavourKind::Ldap, &text, false).unwrap();
    assert_eq!(
        shape(&events),
        [
            "changed alice",
            "changed bob",
            "cookie c1",
            "done sweep=true",
            "refresh started",
            "changed bob",
            "cookie c2",
            "done sweep=false",
            "changed carol",
            "cookie c3",
            "refresh started",
            "refresh required",
            "refresh started",
            "changed alice",
            "cookie c4",
            "done sweep=true",
        ]
    );
}

#[test]
fn headerless_searches_after_the_first_resume_with_the_cookie_seen() {
    // idiotrace layout: no headers; the second search follows the first one's done.
    let text = trace(&[
        (None, user(1, "alice", "Alice", SyncState::Add, None)),
        (None, done("c1", true)),
        (None, user(2, "bob", "Bob", SyncState::Add, None)),
        (None, done("c2", true)),
    ]);
    let events = replay(FlavourKind::Ldap, &text, false).unwrap();
    assert_eq!(
        shape(&events),
        [
            "changed alice",
            "cookie c1",
            "done sweep=true",
            "refresh started",
            "changed bob",
            "cookie c2",
            "done sweep=false",
        ]
    );
}

fn ds389_incremental(rereads: bool) -> Vec<u8> {
    // A 389-ds refresh from a cookie leaves out nsAccountLock; the live source re-read the
    // changed entries with a normal search and recorded what it got.
    let mut writer = TraceWriter::new(Vec::new());
    writer.begin_search(header(true, true));
    writer
        .write(&ipa_user(1, "alice", None, SyncState::Add))
        .unwrap();
    writer
        .write(&ipa_user(2, "bob", None, SyncState::Add))
        .unwrap();
    writer
        .write(&info(SyncInfoValue::RefreshDelete {
            cookie: Some(b"ipa:389#x:y:z#7".to_vec()),
            refresh_done: true,
        }))
        .unwrap();
    if rereads {
        let RawMessage::Entry(alice) = ipa_user(1, "alice", Some("TRUE"), SyncState::Add) else {
            unreachable!()
        };
        writer.write_reread(&alice.dn, Some(&alice)).unwrap();
        writer
            .write_reread("uid=bob,cn=users,cn=accounts,dc=example,dc=org", None)
            .unwrap();
    }
    writer
        .write(&ipa_user(3, "carol", Some("FALSE"), SyncState::Add))
        .unwrap();
    writer.into_inner().unwrap()
}

#[test]
fn recorded_389_rereads_are_replayed() {
    let events = replay(FlavourKind::FreeIpa, &ds389_incremental(true), false).unwrap();
    assert_eq!(
        shape(&events),
        [
            "changed alice disabled", // the re-read saw nsAccountLock: TRUE
            "deleted 1",              // bob: the re-read found nothing
            "cookie 7",
            "done sweep=false",
            "changed carol",
        ]
    );
}

#[test]
fn without_recorded_rereads_the_sync_entries_stand_in() {
    let events = replay(FlavourKind::FreeIpa, &ds389_incremental(false), false).unwrap();
    assert_eq!(
        shape(&events),
        [
            "changed alice",
            "changed bob",
            "cookie 7",
            "done sweep=false",
            "changed carol",
        ]
    );
    // A trace that ends while re-reads are pending still ends the refresh.
    let text = ds389_incremental(false);
    let cut = String::from_utf8(text).unwrap();
    let cut = cut.split("dn: uid=carol").next().unwrap();
    let cut = cut.rsplit_once("# result: 100").unwrap().0;
    let events = replay(FlavourKind::FreeIpa, cut.as_bytes(), false).unwrap();
    assert_eq!(
        shape(&events).last().map(String::as_str),
        Some("done sweep=false")
    );
}

#[test]
fn protocol_errors_stop_the_replay() {
    let text = trace(&[(
        None,
        RawMessage::Entry(RawEntry {
            dn: "uid=x,ou=people,dc=example,dc=org".into(),
            attributes: Vec::new(),
            controls: Vec::new(),
        }),
    )]);
    let error = replay(FlavourKind::Ldap, &text, false).unwrap_err();
    assert!(
        error.to_string().contains("no sync state control"),
        "{error}"
    );
}

fn config(path: PathBuf, flavour: &str) -> ReplaySourceConfig {
    ReplaySourceConfig {
        path,
        flavour: flavour.into(),
        base: Some("dc=example,dc=org".into()),
        ..ReplaySourceConfig::default()
    }
}

#[test]
fn configuration_problems_are_all_reported() {
    let problems = ReplaySource::new(&config(PathBuf::new(), "ad")).unwrap_err();
    let keys: Vec<_> = problems
        .iter()
        .map(|problem| problem.key.as_str())
        .collect();
    assert_eq!(keys, ["path", "flavour"]);
    let mut bad_filter = config(PathBuf::from("x.ldif"), "ldap");
    bad_filter.users.filter = Some("(uid=".into());
    let problems = ReplaySource::new(&bad_filter).unwrap_err();
    assert!(problems.iter().any(|problem| problem.key == "users.filter"));
}

#[tokio::test]
async fn the_source_replays_a_file_and_checks_it() {
    let mut source = ReplaySource::new(&config(
        traces_dir().join("idiotrace-freeipa.ldif"),
        "freeipa",
    ))
    .unwrap();
    assert!(source.fingerprint().0.starts_with("replay:freeipa:"));
    let items = source.check().await.unwrap();
    assert!(
        items[0].message.contains("9 messages in 1 searches"),
        "{}",
        items[0].message
    );
    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    let start = SourceStart {
        cookie: None,
        follow: true,
        index_warm: false,
    };
    let run = tokio::spawn(async move { source.run(start, sender).await });
    let mut events = Vec::new();
    while let Some(event) = receiver.recv().await {
        events.push(event);
    }
    run.await.unwrap().unwrap();
    assert_eq!(events.len(), 15);
    assert!(matches!(events.last(), Some(Event::Cookie(_))));
}

#[tokio::test]
async fn a_missing_or_broken_trace_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut missing = ReplaySource::new(&config(dir.path().join("nope.ldif"), "ldap")).unwrap();
    let (sender, _receiver) = tokio::sync::mpsc::channel(4);
    let error = missing
        .run(SourceStart::default(), sender)
        .await
        .unwrap_err();
    assert!(matches!(error, SourceError::Config(_)), "{error}");
    let items = missing.check().await.unwrap();
    assert_eq!(items[0].status, idsync_core::CheckStatus::Failed);

    let broken = dir.path().join("broken.ldif");
    std::fs::write(
        &broken,
        "# result: 100\n#\ndn: cn=x\ncontrol: 1.2 sometimes\n",
    )
    .unwrap();
    let mut source = ReplaySource::new(&config(broken, "ldap")).unwrap();
    let (sender, _receiver) = tokio::sync::mpsc::channel(4);
    let error = source
        .run(SourceStart::default(), sender)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SourceError::Malformed(text) if text.contains("line 4")),
        "{error}"
    );
}

#[test]
fn a_trace_recorded_from_slapd_replays() {
    // Recorded with `idsync trace` from the test kit's slapd (see
    // tests/integration/trace_replay.rs): a refreshAndPersist refresh, then dave added and
    // added to staff.
    let trace = std::fs::read(traces_dir().join("slapd-refresh-persist.ldif")).unwrap();
    let events = replay(FlavourKind::Ldap, &trace, false).unwrap();
    let shape: Vec<String> = shape(&events)
        .into_iter()
        .map(|line| {
            if line.starts_with("cookie") {
                "cookie".into()
            } else {
                line
            }
        })
        .collect();
    assert_eq!(
        shape,
        [
            "changed alice",
            "changed bob",
            "changed zoe",
            "changed staff",
            "changed all",
            "cookie",
            "done sweep=true",
            "changed dave",
            "cookie",
            "changed staff",
            "cookie",
        ]
    );
    assert_eq!(
        changed(&events, "zoe")[0].attr("displayName"),
        Some("Zoë Zéro")
    );
    assert_eq!(changed(&events, "staff")[1].members.len(), 3);
}
