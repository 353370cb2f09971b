#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use abi_stable::{nonexhaustive_enum::NonExhaustive, std_types::RVec};
use idsync_core::{
    ApplyOptions, ApplyReport, Batch, ChangeCounts, CheckItem, CookieUpdate, Entry, EntryId,
    EntryKind, GroupMembers, MatchPolicy, MembershipMode, OnDelete, PlannedChange, Quarantined,
    Removal, RemovalAction, SinkCapabilities, SinkError, SinkErrorKind, StoredState, SyncPolicy,
};

use crate::*;

fn id(n: u128) -> EntryId {
    EntryId::from_bytes(n.to_be_bytes())
}

fn user(n: u128) -> Entry {
    let mut attrs = BTreeMap::new();
    attrs.insert("mail".to_owned(), vec![format!("u{n}@example.org")]);
    attrs.insert(
        "description".to_owned(),
        vec!["first".to_owned(), "second, with ünïcode".to_owned()],
    );
    attrs.insert("title".to_owned(), Vec::new());
    Entry {
        id: id(n),
        kind: EntryKind::User,
        locator: format!("uid=u{n},ou=people,dc=example,dc=org"),
        name: format!("u{n}"),
        enabled: n % 3 != 0,
        attrs,
        members: Vec::new(),
    }
}

fn sample_batch() -> Batch {
    let mut group = user(1000);
    group.kind = EntryKind::Group;
    Batch {
        upserts: vec![user(1), user(2), user(3), group],
        removals: vec![
            Removal {
                id: id(7),
                kind: Some(EntryKind::User),
                action: RemovalAction::Disable,
            },
            Removal {
                id: id(8),
                kind: None,
                action: RemovalAction::Delete,
            },
        ],
        memberships: vec![
            GroupMembers {
                group: id(1000),
                members: vec![id(1), id(2)],
            },
            GroupMembers {
                group: id(1001),
                members: Vec::new(),
            },
        ],
        cookie: Some(CookieUpdate {
            cookie: vec![0, 1, 2, 255, 0],
            fingerprint: "ldap://x|cn=admin|dc=x|(objectClass=*)".to_owned(),
        }),
    }
}

fn every_change() -> Vec<PlannedChange> {
    vec![
        PlannedChange::Create {
            id: id(1),
            kind: EntryKind::User,
            name: "alice".to_owned(),
            fields: vec![("mail".to_owned(), "a@x".to_owned())],
        },
        PlannedChange::Adopt {
            id: id(2),
            kind: EntryKind::Group,
            name: "staff".to_owned(),
        },
        PlannedChange::Update {
            id: id(1),
            name: "alice".to_owned(),
            fields: vec![
                (
                    "mail".to_owned(),
                    Some("a@x".to_owned()),
                    Some("b@x".to_owned()),
                ),
                ("title".to_owned(), None, Some("boss".to_owned())),
                ("mobile".to_owned(), Some("1".to_owned()), None),
            ],
        },
        PlannedChange::Rename {
            id: id(1),
            from: "alice".to_owned(),
            to: "alice2".to_owned(),
        },
        PlannedChange::Disable {
            id: id(3),
            name: "bob".to_owned(),
        },
        PlannedChange::Enable {
            id: id(3),
            name: "bob".to_owned(),
        },
        PlannedChange::Delete {
            id: id(4),
            name: "carol".to_owned(),
        },
        PlannedChange::AddMember {
            group: id(2),
            member: id(1),
        },
        PlannedChange::RemoveMember {
            group: id(2),
            member: id(3),
        },
        PlannedChange::Quarantine {
            id: id(5),
            name: "root".to_owned(),
            reason: "reserved name".to_owned(),
        },
    ]
}

#[test]
fn batch_round_trips() {
    let batch = sample_batch();
    let back = Batch::from(&FfiBatch::from(&batch));
    assert_eq!(back, batch);

    let empty = Batch::default();
    assert_eq!(Batch::from(&FfiBatch::from(&empty)), empty);
}

#[test]
fn entry_members_do_not_cross_the_boundary() {
    let mut entry = user(1);
    entry.members = vec![idsync_core::MemberRef::Id(id(2))];
    let back = Entry::from(&FfiEntry::from(&entry));
    assert!(back.members.is_empty());
    entry.members.clear();
    assert_eq!(back, entry);
}

#[test]
fn big_batch_round_trips() {
    let members: Vec<EntryId> = (0..1_000_000u128).map(id).collect();
    let batch = Batch {
        upserts: (0..10_000).map(user).collect(),
        removals: Vec::new(),
        memberships: vec![GroupMembers {
            group: id(u128::MAX),
            members,
        }],
        cookie: None,
    };
    let ffi = FfiBatch::from(&batch);
    assert_eq!(ffi.memberships[0].members.len(), 1_000_000);
    assert_eq!(
        ffi.memberships[0].members[999_999],
        FfiEntryId::from(id(999_999))
    );
    assert_eq!(Batch::from(&ffi), batch);
}

#[test]
fn entry_id_keeps_its_bytes() {
    let original = id(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
    let ffi = FfiEntryId::from(original);
    assert_eq!(&ffi.0, original.as_bytes());
    assert_eq!(EntryId::from(ffi), original);
}

#[test]
fn report_round_trips_with_every_change_kind() {
    let report = ApplyReport {
        counts: ChangeCounts {
            created: 1,
            adopted: 2,
            updated: 3,
            renamed: 4,
            disabled: 5,
            enabled: 6,
            deleted: 7,
            unchanged: 8,
            members_added: 9,
            members_removed: 10,
            quarantined: 11,
        },
        quarantined: vec![Quarantined {
            id: id(5),
            name: "root".to_owned(),
            reason: "reserved name".to_owned(),
        }],
        changes: every_change(),
    };
    let ffi = FfiApplyReport::from(report.clone());
    assert_eq!(ffi.unknown_changes(), 0);
    assert_eq!(ApplyReport::from(ffi), report);
}

#[test]
fn big_report_round_trips() {
    let changes: Vec<PlannedChange> = (0..200_000u128)
        .map(|n| PlannedChange::AddMember {
            group: id(0),
            member: id(n),
        })
        .collect();
    let report = ApplyReport {
        counts: ChangeCounts {
            members_added: 200_000,
            ..ChangeCounts::default()
        },
        quarantined: Vec::new(),
        changes,
    };
    assert_eq!(
        ApplyReport::from(FfiApplyReport::from(report.clone())),
        report
    );
}

#[test]
fn planned_change_fits_its_nonexhaustive_storage() {
    // Storage is fixed by the ABI; this fails to compile or panics if a variant outgrows it.
    for change in every_change() {
        let wrapped: FfiPlannedChange_NE = NonExhaustive::new(FfiPlannedChange::from(change));
        assert!(wrapped.is_valid_discriminant());
    }
    assert!(std::mem::size_of::<FfiPlannedChange>() <= 16 * std::mem::size_of::<usize>());
}

#[test]
fn state_round_trips() {
    let state = StoredState {
        cookie: Some((vec![9, 8, 7], "fp".to_owned())),
        synced: vec![(id(1), EntryKind::User), (id(2), EntryKind::Group)],
    };
    assert_eq!(
        StoredState::from(FfiStoredState::from(state.clone())),
        state
    );
    let empty = StoredState::default();
    assert_eq!(
        StoredState::from(FfiStoredState::from(empty.clone())),
        empty
    );
}

#[test]
fn small_types_round_trip() {
    for membership in [MembershipMode::Effective, MembershipMode::Direct] {
        let capabilities = SinkCapabilities { membership };
        assert_eq!(
            SinkCapabilities::from(FfiSinkCapabilities::from(&capabilities)),
            capabilities
        );
    }
    for on_delete in [OnDelete::Disable, OnDelete::Delete] {
        for match_by in [MatchPolicy::Name, MatchPolicy::Id] {
            let policy = SyncPolicy {
                on_delete,
                match_by,
            };
            assert_eq!(SyncPolicy::from(FfiSyncPolicy::from(&policy)), policy);
        }
    }
    for options in [
        ApplyOptions::default(),
        ApplyOptions {
            dry_run: true,
            record_changes: true,
        },
    ] {
        assert_eq!(ApplyOptions::from(FfiApplyOptions::from(options)), options);
    }
    for item in [
        CheckItem::ok("fine"),
        CheckItem::warning("hmm"),
        CheckItem::failed("no"),
    ] {
        assert_eq!(CheckItem::from(FfiCheckItem::from(item.clone())), item);
    }
    let items: RVec<FfiCheckItem> = vec![CheckItem::ok("x").into()].into();
    assert_eq!(items.len(), 1);
}

#[test]
fn error_kinds_map_exactly_and_unknown_kinds_read_as_other() {
    for kind in [
        SinkErrorKind::Config,
        SinkErrorKind::Schema,
        SinkErrorKind::Unavailable,
        SinkErrorKind::Transaction,
        SinkErrorKind::Panicked,
        SinkErrorKind::Other,
    ] {
        let error = SinkError::new(kind, "boom: cause");
        assert_eq!(SinkError::from(FfiSinkError::from(error.clone())), error);
    }
    let future = FfiSinkError::new(FfiSinkErrorKind(200), "from a newer plugin");
    assert_eq!(SinkError::from(future).kind, SinkErrorKind::Other);
    assert_eq!(format!("{:?}", FfiSinkErrorKind(200)), "Unknown(200)");
    assert_eq!(format!("{:?}", FfiSinkErrorKind::PANICKED), "Panicked");
}

#[test]
fn abi_version_is_this_crate_version() {
    assert_eq!(ABI_VERSION, env!("CARGO_PKG_VERSION"));
}

#[test]
fn plugin_names_are_validated() {
    for good in ["sql", "mediawiki", "my-sink_2"] {
        assert!(is_valid_plugin_name(good), "{good}");
    }
    for bad in ["", "SQL", "a b", "a/b", "a.so", "é"] {
        assert!(!is_valid_plugin_name(bad), "{bad}");
    }
}
