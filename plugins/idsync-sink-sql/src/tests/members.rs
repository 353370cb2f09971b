use idsync_core::{Batch, Removal, RemovalAction};

use super::*;

#[test]
fn membership_sets_are_diffed_not_rewritten() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    let count = 100_000u128;
    let users: Vec<Entry> = (1..=count).map(|n| user(n, &format!("u{n}"))).collect();
    for chunk in users.chunks(10_000) {
        apply(&mut sink, &upserts(chunk.to_vec()));
    }
    apply(&mut sink, &upserts(vec![group(1_000_000, "all")]));
    let all: Vec<u128> = (1..=count).collect();
    let report = apply(
        &mut sink,
        &Batch {
            memberships: vec![members(1_000_000, &all)],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.members_added, 100_000);
    let writes = db.writes();
    // One member leaves.
    let fewer: Vec<u128> = (2..=count).collect();
    let report = apply(
        &mut sink,
        &Batch {
            memberships: vec![members(1_000_000, &fewer)],
            ..Batch::default()
        },
    );
    assert_eq!(
        (report.counts.members_added, report.counts.members_removed),
        (0, 1)
    );
    assert_eq!(db.writes(), writes + 1);
    // The same set again: nothing.
    let report = apply(
        &mut sink,
        &Batch {
            memberships: vec![members(1_000_000, &fewer)],
            ..Batch::default()
        },
    );
    assert!(report.counts.is_noop());
    assert_eq!(db.writes(), writes + 1);
}

#[test]
fn unmapped_members_and_foreign_rows() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    let mut batch = upserts(vec![user(1, "anna"), user(2, "ben"), group(10, "team")]);
    batch.memberships = vec![members(10, &[1, 2, 99])];
    let report = apply(&mut sink, &batch);
    assert_eq!(report.counts.members_added, 2);
    // An account idsync does not manage, added to the group by hand, stays.
    db.exec(
        "INSERT INTO users (username) VALUES ('local'); INSERT INTO group_members VALUES (1, 3);",
    );
    let report = apply(
        &mut sink,
        &Batch {
            memberships: vec![members(10, &[1])],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.members_removed, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM group_members"), 2);
}

#[test]
fn removed_members_lose_their_rows() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    let mut batch = upserts(vec![user(1, "anna"), user(2, "ben"), group(10, "team")]);
    batch.memberships = vec![members(10, &[1, 2])];
    apply(&mut sink, &batch);
    let report = apply(
        &mut sink,
        &Batch {
            removals: vec![
                Removal {
                    id: id(1),
                    kind: None,
                    action: RemovalAction::Disable,
                },
                Removal {
                    id: id(10),
                    kind: None,
                    action: RemovalAction::Delete,
                },
            ],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.members_removed, 2);
    assert_eq!(report.counts.deleted, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM group_members"), 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM groups"), 0);
}
