use idsync_core::{
    ApplyOptions, Batch, CookieUpdate, MatchPolicy, OnDelete, PlannedChange, Removal,
    RemovalAction, SinkErrorKind,
};

use super::*;

fn user_rows(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.rows(
        "SELECT username, display_name, email, CAST(uid_number AS TEXT), CAST(active AS TEXT) FROM users ORDER BY id",
        5,
    )
}

fn s(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[test]
fn lifecycle_create_update_rename_disable_enable_delete() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    let mut alice = user(1, "alice");
    alice.attrs.insert("uidNumber".into(), vec!["1001".into()]);
    let report = apply(&mut sink, &upserts(vec![alice.clone(), user(2, "bob")]));
    assert_eq!(report.counts.created, 2);
    let rows = user_rows(&db);
    assert_eq!(
        rows[0],
        vec![
            s("alice"),
            s("User alice"),
            s("alice@example.org"),
            s("1001"),
            s("1")
        ]
    );

    // Update one field.
    alice
        .attrs
        .insert("displayName".into(), vec!["Alice L.".into()]);
    let report = apply(&mut sink, &upserts(vec![alice.clone(), user(2, "bob")]));
    assert_eq!((report.counts.updated, report.counts.unchanged), (1, 1));
    assert!(report.changes.iter().any(|change| matches!(change,
        PlannedChange::Update { fields, .. } if fields == &vec![("display_name".to_owned(), s("User alice"), s("Alice L."))])));

    // Rename.
    alice.name = "alicia".into();
    let report = apply(&mut sink, &upserts(vec![alice.clone()]));
    assert_eq!(report.counts.renamed, 1);
    assert_eq!(report.counts.updated, 0);
    assert_eq!(user_rows(&db)[0][0], s("alicia"));

    // Disabled in the directory: the flag column.
    alice.enabled = false;
    let report = apply(&mut sink, &upserts(vec![alice.clone()]));
    assert_eq!(report.counts.disabled, 1);
    assert_eq!(user_rows(&db)[0][4], s("0"));
    alice.enabled = true;
    let report = apply(&mut sink, &upserts(vec![alice.clone()]));
    assert_eq!(report.counts.enabled, 1);
    assert_eq!(user_rows(&db)[0][4], s("1"));

    // Gone from the view: disabled, mapping gone, not listed as synced.
    let removal = Batch {
        removals: vec![Removal {
            id: id(1),
            kind: Some(EntryKind::User),
            action: RemovalAction::Disable,
        }],
        ..Batch::default()
    };
    let report = apply(&mut sink, &removal);
    assert_eq!(report.counts.disabled, 1);
    assert_eq!(user_rows(&db)[0][4], s("0"));
    let state = sink.load_state().unwrap();
    assert_eq!(state.synced, vec![(id(2), EntryKind::User)]);
    // Disabling again is a no-op.
    assert_eq!(apply(&mut sink, &removal).counts.disabled, 0);

    // Back in the view: enabled again.
    let report = apply(&mut sink, &upserts(vec![alice.clone()]));
    assert_eq!(report.counts.enabled, 1);
    assert_eq!(user_rows(&db)[0][4], s("1"));
    assert_eq!(sink.load_state().unwrap().synced.len(), 2);

    // Deleted.
    let report = apply(
        &mut sink,
        &Batch {
            removals: vec![Removal {
                id: id(2),
                kind: Some(EntryKind::User),
                action: RemovalAction::Delete,
            }],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.deleted, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 1);
    assert_eq!(
        sink.load_state().unwrap().synced,
        vec![(id(1), EntryKind::User)]
    );
}

#[test]
fn delete_mode_deletes_rows_and_recreates_them() {
    let db = TestDb::new(SCHEMA);
    let mut json = config_json(&db.url());
    json["users"]["disable"] = "delete".into();
    let mut sink = sink_with(serde_json::from_value(json).unwrap(), SyncPolicy::default());
    let mut bob = user(2, "bob");
    apply(&mut sink, &upserts(vec![bob.clone()]));
    bob.enabled = false;
    let report = apply(&mut sink, &upserts(vec![bob.clone()]));
    assert_eq!(report.counts.disabled, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 0);
    assert_eq!(sink.load_state().unwrap().synced.len(), 1);
    bob.enabled = true;
    let report = apply(&mut sink, &upserts(vec![bob]));
    assert_eq!(report.counts.created, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 1);
}

#[test]
fn adoption_by_name_versus_strict_matching() {
    let db = TestDb::new(SCHEMA);
    db.exec("INSERT INTO users (username, email) VALUES ('carol', 'old@example.org')");
    let mut strict = sink_with(
        config(&db.url()),
        SyncPolicy {
            match_by: MatchPolicy::Id,
            on_delete: OnDelete::Disable,
        },
    );
    let report = apply(&mut strict, &upserts(vec![user(3, "carol")]));
    assert_eq!(report.counts.quarantined, 1);
    assert!(
        report.quarantined[0].reason.contains("does not manage"),
        "{}",
        report.quarantined[0].reason
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM idsync_quarantine"), 1);
    assert_eq!(
        db.rows("SELECT email FROM users", 1),
        vec![vec![s("old@example.org")]]
    );
    strict.close().unwrap();

    let mut adopting = sink(&db);
    let report = apply(&mut adopting, &upserts(vec![user(3, "carol")]));
    assert_eq!(
        (
            report.counts.adopted,
            report.counts.created,
            report.counts.updated
        ),
        (1, 0, 1)
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 1);
    assert_eq!(
        db.rows("SELECT email FROM users", 1),
        vec![vec![s("carol@example.org")]]
    );
    // The good upsert lifted the quarantine.
    assert_eq!(db.count("SELECT COUNT(*) FROM idsync_quarantine"), 0);
    // A second entry with the same name is refused: the account is taken.
    let report = apply(&mut adopting, &upserts(vec![user(4, "carol")]));
    assert_eq!(report.counts.quarantined, 1);
    assert!(report.quarantined[0].reason.contains(&id(3).to_string()));
}

#[test]
fn values_that_do_not_fit_quarantine_the_entry_only() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    let mut bad_number = user(1, "dave");
    bad_number
        .attrs
        .insert("uidNumber".into(), vec!["abc".into()]);
    let too_long = user(2, "evelynlongname");
    let report = apply(
        &mut sink,
        &upserts(vec![bad_number.clone(), too_long, user(3, "frank")]),
    );
    assert_eq!(report.counts.created, 1);
    assert_eq!(report.counts.quarantined, 2);
    let reasons: Vec<&str> = report
        .quarantined
        .iter()
        .map(|q| q.reason.as_str())
        .collect();
    assert!(
        reasons[0].contains("uid_number") && reasons[0].contains("abc"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("username") && reasons[1].contains("evelynlongname"),
        "{reasons:?}"
    );
    assert_eq!(
        db.rows("SELECT username FROM users", 1),
        vec![vec![s("frank")]]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM idsync_quarantine"), 2);
    // Fixed in the directory: written, quarantine lifted.
    bad_number
        .attrs
        .insert("uidNumber".into(), vec!["1004".into()]);
    let report = apply(&mut sink, &upserts(vec![bad_number]));
    assert_eq!(report.counts.created, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM idsync_quarantine"), 1);
}

#[test]
fn a_no_op_reapply_writes_nothing() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    let users: Vec<Entry> = (1..=50).map(|n| user(n, &format!("u{n}"))).collect();
    let mut batch = upserts(users);
    batch.upserts.push(group(1000, "staff"));
    batch.memberships = vec![members(1000, &(1..=50).collect::<Vec<_>>())];
    let report = apply(&mut sink, &batch);
    assert_eq!(report.counts.created, 51);
    assert_eq!(report.counts.members_added, 50);
    let writes = db.writes();
    let before_entries = db.count("SELECT COUNT(*) FROM idsync_entries");
    let report = apply(&mut sink, &batch);
    assert_eq!(report.counts.unchanged, 51);
    assert!(report.counts.is_noop(), "{:?}", report.counts);
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    assert_eq!(
        db.writes(),
        writes,
        "a no-op re-apply wrote to the application tables"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM idsync_entries"),
        before_entries
    );
    // Also after a restart (mappings read back from the database).
    sink.close().unwrap();
    let mut sink = super::sink(&db);
    assert!(apply(&mut sink, &batch).counts.is_noop());
    assert_eq!(db.writes(), writes);
}

#[test]
fn a_failed_apply_keeps_neither_rows_nor_cookie() {
    let db = TestDb::new(SCHEMA);
    db.exec(
        "CREATE TRIGGER refuse_member BEFORE INSERT ON group_members WHEN NEW.user_id = 2 \
         BEGIN SELECT RAISE(ABORT, 'refused by test'); END;",
    );
    let mut sink = sink(&db);
    let mut batch = upserts(vec![user(1, "anna"), user(2, "ben"), group(10, "team")]);
    batch.memberships = vec![members(10, &[1, 2])];
    batch.cookie = Some(CookieUpdate {
        cookie: b"cookie-1".to_vec(),
        fingerprint: "fp".into(),
    });
    let error = sink.apply(&batch, &ApplyOptions::default()).unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Other, "{error}");
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM idsync_entries"), 0);
    let state = sink.load_state().unwrap();
    assert_eq!(state.cookie, None);
    assert!(state.synced.is_empty());
    // The sink's memory rolled back too: the same batch without the bad member goes through.
    batch.memberships = vec![members(10, &[1])];
    let report = apply(&mut sink, &batch);
    assert_eq!(report.counts.created, 3);
    assert_eq!(
        sink.load_state().unwrap().cookie,
        Some((b"cookie-1".to_vec(), "fp".to_owned()))
    );
}

#[test]
fn a_dropped_table_fails_the_batch_as_a_schema_error() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    db.exec("DROP TABLE group_members");
    let mut batch = upserts(vec![user(1, "anna"), group(10, "team")]);
    batch.memberships = vec![members(10, &[1])];
    batch.cookie = Some(CookieUpdate {
        cookie: b"c".to_vec(),
        fingerprint: "fp".into(),
    });
    let error = sink.apply(&batch, &ApplyOptions::default()).unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Schema, "{error}");
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 0);
    assert_eq!(sink.load_state().unwrap().cookie, None);
}

#[test]
fn a_dry_run_reports_everything_and_writes_nothing() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    let mut batch = upserts(vec![user(1, "anna"), group(10, "team")]);
    batch.memberships = vec![members(10, &[1])];
    batch.cookie = Some(CookieUpdate {
        cookie: b"c".to_vec(),
        fingerprint: "fp".into(),
    });
    let report = sink
        .apply(
            &batch,
            &ApplyOptions {
                dry_run: true,
                record_changes: false,
            },
        )
        .unwrap();
    assert_eq!(report.counts.created, 2);
    assert_eq!(report.counts.members_added, 1);
    assert_eq!(report.changes.len(), 3, "{:?}", report.changes);
    assert_eq!(db.writes(), 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM idsync_entries"), 0);
    let state = sink.load_state().unwrap();
    assert!(state.cookie.is_none() && state.synced.is_empty());
    // And the real run still creates everything.
    assert_eq!(apply(&mut sink, &batch).counts.created, 2);
}

#[test]
fn renames_may_swap_through_a_free_name() {
    let db = TestDb::new(SCHEMA);
    let mut sink = sink(&db);
    apply(&mut sink, &upserts(vec![user(1, "a1"), user(2, "a2")]));
    // a1 → a3 and a2 → a1 in the same batch: a1 must be vacated first.
    let report = apply(&mut sink, &upserts(vec![user(2, "a1"), user(1, "a3")]));
    assert_eq!(report.counts.renamed, 2, "{:?}", report.quarantined);
    // A true swap is a cycle: refused, nothing broken.
    let report = apply(&mut sink, &upserts(vec![user(2, "a3"), user(1, "a1")]));
    assert_eq!(report.counts.quarantined, 2);
    assert_eq!(
        db.rows("SELECT username FROM users ORDER BY id", 1),
        vec![vec![s("a3")], vec![s("a1")]]
    );
}

#[test]
fn missing_tables_and_columns_are_all_reported() {
    let db = TestDb::new("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT);");
    let mut sink = SqlSink::new(config(&db.url())).unwrap();
    let error = sink.prepare(&SyncPolicy::default()).unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Schema);
    for missing in [
        "display_name",
        "email",
        "uid_number",
        "active",
        "groups",
        "group_members",
    ] {
        assert!(
            error.message.contains(missing),
            "{missing}: {}",
            error.message
        );
    }
    let items = sink.check().unwrap();
    assert!(items
        .iter()
        .any(|item| item.status == idsync_core::CheckStatus::Failed));
}

#[test]
fn create_tables_builds_a_quickstart_schema() {
    let db = TestDb::new("");
    let mut json = config_json(&db.url());
    json["create_tables"] = true.into();
    let mut sink = sink_with(serde_json::from_value(json).unwrap(), SyncPolicy::default());
    let mut batch = upserts(vec![user(1, "anna"), group(10, "team")]);
    batch.memberships = vec![members(10, &[1])];
    let report = apply(&mut sink, &batch);
    assert_eq!((report.counts.created, report.counts.members_added), (2, 1));
    assert_eq!(db.count("SELECT COUNT(*) FROM group_members"), 1);
    let items = sink.check().unwrap();
    assert!(
        items
            .iter()
            .all(|item| item.status != idsync_core::CheckStatus::Failed),
        "{items:?}"
    );
    assert!(path_exists(&db.dir.path().join("app.db")));
}
