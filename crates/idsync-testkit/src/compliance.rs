//! The sink compliance suite: the contract every sink must keep, checked through the `Sink`
//! trait alone (so it runs unchanged against an in-process sink or a loaded plugin).
//!
//! Each step applies a batch and checks the sink's report and its stored state:
//! creation, a no-op re-apply that writes nothing, attribute changes, renames (never delete +
//! create), disable/enable, member sets diffed both ways, removals by disable and by delete,
//! the cookie stored with its batch, dry runs that change nothing, and a reopened sink that
//! remembers the cookie and the live entries.
//!
//! Call [`run`] with a factory that opens the sink under test over storage that survives
//! reopening (the same database file for each call).

use std::collections::BTreeMap;

use idsync_core::{
    ApplyOptions, ApplyReport, Batch, CookieUpdate, Entry, EntryId, EntryKind, GroupMembers,
    Removal, RemovalAction, Sink, SyncPolicy,
};
use uuid::Uuid;

const FINGERPRINT: &str = "compliance:view";

fn id(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(
        0x1d5c_0000_0000_4000_8000_0000_0000_0000 | n,
    ))
}

fn user(n: u128, name: &str, mail: &str) -> Entry {
    Entry {
        id: id(n),
        kind: EntryKind::User,
        locator: format!("uid={name},ou=people,dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs: BTreeMap::from([
            ("displayName".to_owned(), vec![format!("{name} display")]),
            ("mail".to_owned(), vec![mail.to_owned()]),
        ]),
        members: Vec::new(),
    }
}

fn group(n: u128, name: &str) -> Entry {
    Entry {
        id: id(n),
        kind: EntryKind::Group,
        locator: format!("cn={name},ou=groups,dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs: BTreeMap::from([("description".to_owned(), vec![format!("{name} group")])]),
        members: Vec::new(),
    }
}

fn members(group: u128, users: &[u128]) -> GroupMembers {
    let mut members: Vec<EntryId> = users.iter().map(|n| id(*n)).collect();
    members.sort();
    GroupMembers {
        group: id(group),
        members,
    }
}

fn cookie(text: &str) -> Option<CookieUpdate> {
    Some(CookieUpdate {
        cookie: text.as_bytes().to_vec(),
        fingerprint: FINGERPRINT.to_owned(),
    })
}

fn apply(sink: &mut dyn Sink, batch: &Batch, dry_run: bool, step: &str) -> ApplyReport {
    let options = ApplyOptions {
        dry_run,
        record_changes: true,
    };
    sink.apply(batch, &options)
        .unwrap_or_else(|error| panic!("compliance step `{step}`: apply failed: {error}"))
}

fn stored_cookie(sink: &mut dyn Sink, step: &str) -> Option<Vec<u8>> {
    let state = sink
        .load_state()
        .unwrap_or_else(|error| panic!("compliance step `{step}`: load_state failed: {error}"));
    state.cookie.map(|(cookie, fingerprint)| {
        assert_eq!(
            fingerprint, FINGERPRINT,
            "compliance step `{step}`: fingerprint"
        );
        cookie
    })
}

fn live(sink: &mut dyn Sink, step: &str) -> Vec<EntryId> {
    let state = sink
        .load_state()
        .unwrap_or_else(|error| panic!("compliance step `{step}`: load_state failed: {error}"));
    let mut ids: Vec<EntryId> = state.synced.into_iter().map(|(id, _)| id).collect();
    ids.sort();
    ids
}

/// Runs the whole suite. `open` must return a prepared-able sink over the same storage every
/// time it is called (it is called again to check that state survives a restart).
pub fn run(open: &dyn Fn() -> Box<dyn Sink>) {
    let policy = SyncPolicy::default();
    let mut sink = open();
    sink.prepare(&policy)
        .unwrap_or_else(|error| panic!("compliance: prepare failed: {error}"));
    assert_eq!(
        stored_cookie(sink.as_mut(), "empty"),
        None,
        "a new sink has no cookie"
    );

    // 1. Create two users and a group with both.
    let initial = Batch {
        upserts: vec![
            user(1, "alice", "alice@example.org"),
            user(2, "bob", "bob@example.org"),
            group(10, "staff"),
        ],
        memberships: vec![members(10, &[1, 2])],
        cookie: cookie("c1"),
        ..Batch::default()
    };
    let report = apply(sink.as_mut(), &initial, false, "create");
    assert_eq!(report.counts.created, 3, "create: {report:?}");
    assert_eq!(report.counts.members_added, 2, "create: {report:?}");
    assert_eq!(stored_cookie(sink.as_mut(), "create"), Some(b"c1".to_vec()));
    assert_eq!(live(sink.as_mut(), "create"), vec![id(1), id(2), id(10)]);

    // 2. The same batch again writes nothing.
    let report = apply(sink.as_mut(), &initial, false, "no-op");
    assert!(report.counts.is_noop(), "no-op re-apply wrote: {report:?}");
    assert_eq!(report.counts.unchanged, 3, "no-op: {report:?}");

    // 3. A dry run reports a change and changes nothing, cookie included.
    let changed = Batch {
        upserts: vec![user(2, "bob", "robert@example.org")],
        cookie: cookie("c2"),
        ..Batch::default()
    };
    let report = apply(sink.as_mut(), &changed, true, "dry run");
    assert_eq!(report.counts.updated, 1, "dry run: {report:?}");
    assert!(!report.changes.is_empty(), "dry run lists its changes");
    assert_eq!(
        stored_cookie(sink.as_mut(), "dry run"),
        Some(b"c1".to_vec())
    );
    // 4. … and applied for real, the change and the cookie land together.
    let report = apply(sink.as_mut(), &changed, false, "update");
    assert_eq!(report.counts.updated, 1, "update: {report:?}");
    assert_eq!(stored_cookie(sink.as_mut(), "update"), Some(b"c2".to_vec()));

    // 5. A rename is a rename.
    let renamed = Batch {
        upserts: vec![user(1, "alicia", "alice@example.org")],
        ..Batch::default()
    };
    let report = apply(sink.as_mut(), &renamed, false, "rename");
    assert_eq!(report.counts.renamed, 1, "rename: {report:?}");
    assert_eq!(
        report.counts.created + report.counts.deleted,
        0,
        "rename: {report:?}"
    );

    // 6. Disable and enable through the entry's state.
    let mut disabled = user(2, "bob", "robert@example.org");
    disabled.enabled = false;
    let report = apply(
        sink.as_mut(),
        &Batch {
            upserts: vec![disabled],
            ..Batch::default()
        },
        false,
        "disable",
    );
    assert_eq!(report.counts.disabled, 1, "disable: {report:?}");
    let report = apply(
        sink.as_mut(),
        &Batch {
            upserts: vec![user(2, "bob", "robert@example.org")],
            ..Batch::default()
        },
        false,
        "enable",
    );
    assert_eq!(report.counts.enabled, 1, "enable: {report:?}");

    // 7. Member sets are diffed both ways.
    let report = apply(
        sink.as_mut(),
        &Batch {
            upserts: vec![user(3, "carol", "carol@example.org")],
            memberships: vec![members(10, &[1, 3])],
            ..Batch::default()
        },
        false,
        "members",
    );
    assert_eq!(report.counts.members_added, 1, "members: {report:?}");
    assert_eq!(report.counts.members_removed, 1, "members: {report:?}");

    // 8. Removals: disable keeps the account out of the live set; delete removes it.
    let report = apply(
        sink.as_mut(),
        &Batch {
            removals: vec![
                Removal {
                    id: id(2),
                    kind: Some(EntryKind::User),
                    action: RemovalAction::Disable,
                },
                Removal {
                    id: id(3),
                    kind: Some(EntryKind::User),
                    action: RemovalAction::Delete,
                },
            ],
            cookie: cookie("c3"),
            ..Batch::default()
        },
        false,
        "removals",
    );
    assert_eq!(report.counts.deleted, 1, "removals: {report:?}");
    assert_eq!(live(sink.as_mut(), "removals"), vec![id(1), id(10)]);

    // 9. A reopened sink remembers the cookie and the live entries.
    sink.close()
        .unwrap_or_else(|error| panic!("compliance: close failed: {error}"));
    drop(sink);
    let mut reopened = open();
    reopened
        .prepare(&policy)
        .unwrap_or_else(|error| panic!("compliance: prepare after restart failed: {error}"));
    assert_eq!(
        stored_cookie(reopened.as_mut(), "restart"),
        Some(b"c3".to_vec())
    );
    assert_eq!(live(reopened.as_mut(), "restart"), vec![id(1), id(10)]);
    let report = apply(
        reopened.as_mut(),
        &Batch {
            upserts: vec![user(1, "alicia", "alice@example.org"), group(10, "staff")],
            memberships: vec![members(10, &[1])],
            ..Batch::default()
        },
        false,
        "after restart",
    );
    assert!(report.counts.is_noop(), "after restart: {report:?}");
    reopened
        .close()
        .unwrap_or_else(|error| panic!("compliance: close failed: {error}"));
}
