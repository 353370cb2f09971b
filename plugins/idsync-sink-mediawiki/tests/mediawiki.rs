//! The MediaWiki sink against real wikis installed by MediaWiki's own installer, every
//! result checked through MediaWiki's own PHP code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use idsync_core::{
    ApplyOptions, ApplyReport, Batch, MatchPolicy, OnDelete, Removal, RemovalAction, Sink,
    SinkErrorKind, SyncPolicy,
};
use idsync_sink_mediawiki::names::NameRules;
use idsync_sink_mediawiki::{MediaWikiConfig, MediaWikiSink};
use serde_json::json;
use support::{group, id, members, user, SqliteWiki};

fn config(wiki: &SqliteWiki, extra: serde_json::Value) -> MediaWikiConfig {
    let mut base = json!({ "url": wiki.url(), "prefix": wiki.prefix });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    serde_json::from_value(base).unwrap()
}

fn open(config: MediaWikiConfig, policy: SyncPolicy) -> MediaWikiSink {
    let mut sink = MediaWikiSink::new(config).unwrap();
    sink.prepare(&policy).unwrap();
    sink
}

fn apply(sink: &mut MediaWikiSink, batch: Batch) -> ApplyReport {
    sink.apply(
        &batch,
        &ApplyOptions {
            dry_run: false,
            record_changes: true,
        },
    )
    .unwrap()
}

#[test]
fn compliance_on_sqlite_with_the_installed_schema() {
    if !support::available() {
        return;
    }
    let wiki = SqliteWiki::install("");
    let config = config(&wiki, json!({ "groups": { "staff": "staff" } }));
    idsync_testkit::compliance::run(&|| {
        Box::new(MediaWikiSink::new(config.clone()).unwrap()) as Box<dyn Sink>
    });
    // What the suite left behind, as MediaWiki sees it: alicia in staff, bob blocked,
    // carol deleted (no history), the blocker a system user.
    let alicia = wiki.user("Alicia").expect("Alicia loads by name");
    assert_eq!(alicia["name_by_id"], "Alicia");
    assert_eq!(alicia["groups"], json!(["staff"]));
    assert!(wiki.user("Alice").is_none(), "the old name is free");
    let bob = wiki.user("Bob").unwrap();
    assert_eq!(bob["blocked"], true);
    assert_eq!(bob["email"], "robert@example.org");
    assert!(
        wiki.user("Carol").is_none(),
        "carol had no history and was deleted"
    );
    let blocker = wiki.user("Directory sync").unwrap();
    assert_eq!(blocker["system_user"], true);
}

#[test]
fn names_are_canonical_as_mediawiki_computes_them() {
    if !support::available() {
        return;
    }
    let wiki = SqliteWiki::install("");
    let names = [
        "alice",
        "  ann__lee ",
        "émile zola",
        "ßtraße",
        "ǆemal",
        "a#b",
        "a/b",
        "a<b",
        "a[b]",
        "a|b",
        "a{b}",
        "1.2.3.4",
        "1.2.3.xxx",
        "300.300.300.300",
        "a%41b",
        "a&amp;b",
        "a&b",
        "x~~~",
        "..",
        ".",
        "Maintenance script",
        "mediaWiki default",
        "a@b",
        "a:b",
        "User:bob",
        "Talk:x",
        "a\u{200B}b",
        "a\u{200E}b",
        "a\u{00A0}b",
        "a\u{3000}b",
        "a\u{E000}b",
        "a\tb",
        ":x",
        "_x_",
        "x\u{2028}y",
        "\u{0080}x",
        "Ω",
        "ω",
        "ﬁx",
        "",
        " ",
    ];
    let expected = wiki.canonical(&names);
    let rules = NameRules {
        capitalize: true,
        invalid_chars: "@:>".to_owned(),
        ..NameRules::default()
    };
    for (name, expected) in names.iter().zip(expected) {
        let ours = rules.canonical(name).ok();
        // Documented differences: MediaWiki decodes HTML entities (`A&b`) and strips a
        // `User:` prefix (`Bob`); the sink refuses both.
        if *name == "a&amp;b" || *name == "User:bob" {
            assert!(expected.is_some(), "{name:?}: {expected:?}");
            assert_eq!(ours, None, "{name:?}");
            continue;
        }
        assert_eq!(ours, expected, "canonical form of {name:?}");
    }
    let long = "x".repeat(236);
    assert_eq!(wiki.canonical(&[long.as_str()]), vec![None]);
    assert!(rules.canonical(&long).is_err());
}

#[test]
fn users_groups_blocks_and_renames_as_mediawiki_sees_them() {
    if !support::available() {
        return;
    }
    // (MediaWiki's SQLite installer ignores --dbprefix: prefixes are tested on MariaDB.)
    let wiki = SqliteWiki::install("");
    let config = config(
        &wiki,
        json!({
            "groups": { "admins": "sysop", "ops": "sysop", "editors": "editor" },
            "blocker": "Directory sync",
            "block_reason": "Gone from LDAP",
        }),
    );
    let mut sink = open(config.clone(), SyncPolicy::default());
    let mut bad = user(9, "bad#name");
    bad.name = "bad#name".to_owned();
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![
                user(1, "alice"),
                user(2, "bob"),
                user(3, "carol"),
                bad,
                group(10, "admins"),
                group(11, "ops"),
                group(12, "editors"),
                group(13, "unmapped"),
            ],
            memberships: vec![
                members(10, &[1]),
                members(11, &[1, 2]),
                members(12, &[2, 3]),
                members(13, &[3]),
            ],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.created, 7, "{report:?}");
    assert_eq!(report.counts.quarantined, 1, "{report:?}");
    assert!(report.quarantined[0].reason.contains('#'), "{report:?}");
    assert_eq!(report.counts.members_added, 4, "{report:?}");
    let users = wiki.users(&["Alice", "Bob", "Carol", "Bad#name", "Admin"]);
    let alice = users["Alice"].as_ref().unwrap();
    assert_eq!(alice["groups"], json!(["sysop"]));
    assert_eq!(alice["real_name"], "alice Person");
    assert_eq!(alice["email"], "alice@example.org");
    assert_eq!(alice["email_confirmed"], true);
    assert_eq!(alice["name_by_id"], "Alice");
    assert_eq!(
        users["Bob"].as_ref().unwrap()["groups"],
        json!(["editor", "sysop"])
    );
    assert_eq!(
        users["Carol"].as_ref().unwrap()["groups"],
        json!(["editor"])
    );
    // Unmanaged groups of unmanaged accounts are untouched.
    assert_eq!(
        users["Admin"].as_ref().unwrap()["groups"],
        json!(["bureaucrat", "interface-admin", "sysop"])
    );

    // Alice leaves admins but stays in ops: still sysop. Bob leaves ops: sysop goes, and
    // MediaWiki's former groups remember it.
    let report = apply(
        &mut sink,
        Batch {
            memberships: vec![members(10, &[]), members(11, &[1])],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.members_removed, 1, "{report:?}");
    let bob = wiki.user("Bob").unwrap();
    assert_eq!(bob["groups"], json!(["editor"]));
    assert_eq!(bob["former_groups"], json!(["sysop"]));
    assert_eq!(wiki.user("Alice").unwrap()["groups"], json!(["sysop"]));

    // Disable: blocked by the system user with the configured reason, sessions ended.
    let token = wiki.user("Bob").unwrap()["token"].clone();
    let mut disabled = user(2, "bob");
    disabled.enabled = false;
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![disabled],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.disabled, 1, "{report:?}");
    let bob = wiki.user("Bob").unwrap();
    assert_eq!(bob["blocked"], true);
    assert_eq!(bob["blocker"], "Directory sync");
    assert_eq!(bob["block_reason"], "Gone from LDAP");
    assert_eq!(bob["block_expiry"], "infinity");
    assert_ne!(bob["token"], token, "sessions end with a new token");

    // Rename a blocked user: the new name loads, the block follows, the old name is free.
    let mut renamed = user(2, "robert");
    renamed.enabled = false;
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![renamed],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.renamed, 1, "{report:?}");
    let users = wiki.users(&["Bob", "Robert"]);
    assert!(users["Bob"].is_none(), "old name free: {users:?}");
    let robert = users["Robert"].as_ref().unwrap();
    assert_eq!(robert["name_by_id"], "Robert");
    assert_eq!(robert["blocked"], true);
    assert_eq!(robert["block_target"], "Robert");

    // Enable lifts the block.
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![user(2, "robert")],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.enabled, 1, "{report:?}");
    assert_eq!(wiki.user("Robert").unwrap()["blocked"], false);

    // A re-apply of the same state writes nothing.
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![
                user(1, "alice"),
                user(2, "robert"),
                user(3, "carol"),
                group(10, "admins"),
            ],
            memberships: vec![members(10, &[]), members(11, &[1])],
            ..Batch::default()
        },
    );
    assert!(report.counts.is_noop(), "{report:?}");

    // Removal with on_delete = disable: blocked and out of every managed group.
    let report = apply(
        &mut sink,
        Batch {
            removals: vec![Removal {
                id: id(1),
                kind: None,
                action: RemovalAction::Disable,
            }],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.disabled, 1, "{report:?}");
    let alice = wiki.user("Alice").unwrap();
    assert_eq!(alice["blocked"], true);
    assert_eq!(alice["groups"], json!([]));
    assert_eq!(alice["former_groups"], json!(["sysop"]));
}

#[test]
fn existing_accounts_are_adopted_by_name_and_refused_by_id() {
    if !support::available() {
        return;
    }
    let wiki = SqliteWiki::install("");
    let strict = config(
        &wiki,
        json!({ "scope": "strict", "groups": { "wikiadmins": "sysop" } }),
    );
    let mut sink = open(
        strict,
        SyncPolicy {
            match_by: MatchPolicy::Id,
            ..SyncPolicy::default()
        },
    );
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![user(1, "admin")],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.quarantined, 1, "{report:?}");
    drop(sink);

    let config = config(&wiki, json!({ "groups": { "wikiadmins": "sysop" } }));
    let mut sink = open(config, SyncPolicy::default());
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![user(1, "admin"), group(10, "wikiadmins")],
            memberships: vec![members(10, &[1])],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.adopted, 1, "{report:?}");
    assert_eq!(
        report.counts.created, 1,
        "only the group is new: {report:?}"
    );
    let admin = wiki.user("Admin").unwrap();
    assert_eq!(admin["id"], 1, "adopted, not duplicated");
    assert_eq!(admin["email"], "admin@example.org");
    // sysop is managed and wanted; bureaucrat and interface-admin are not managed: kept.
    assert_eq!(
        admin["groups"],
        json!(["bureaucrat", "interface-admin", "sysop"])
    );
    // Leaving the directory group removes only the managed group.
    apply(
        &mut sink,
        Batch {
            memberships: vec![members(10, &[])],
            ..Batch::default()
        },
    );
    assert_eq!(
        wiki.user("Admin").unwrap()["groups"],
        json!(["bureaucrat", "interface-admin"])
    );
}

#[test]
fn delete_removes_accounts_without_history_and_disables_the_others() {
    if !support::available() {
        return;
    }
    let wiki = SqliteWiki::install("");
    let config = config(&wiki, json!({ "groups": { "staff": "staff" } }));
    let policy = SyncPolicy {
        on_delete: OnDelete::Delete,
        ..SyncPolicy::default()
    };
    let mut sink = open(config, policy);
    apply(
        &mut sink,
        Batch {
            upserts: vec![user(1, "quiet"), user(2, "author"), group(10, "staff")],
            memberships: vec![members(10, &[1, 2])],
            ..Batch::default()
        },
    );
    // "author" has history: a log entry that is not its own creation.
    let author = wiki.user("Author").unwrap();
    let actor = author["actor"].as_i64().unwrap();
    wiki.sql(&format!(
        "INSERT INTO logging (log_type, log_action, log_timestamp, log_actor, log_namespace, log_title, log_comment_id, log_params, log_deleted) \
         VALUES ('move', 'move', '20240101000000', {actor}, 0, 'X', 1, '', 0)"
    ));
    let report = apply(
        &mut sink,
        Batch {
            removals: vec![
                Removal {
                    id: id(1),
                    kind: None,
                    action: RemovalAction::Delete,
                },
                Removal {
                    id: id(2),
                    kind: None,
                    action: RemovalAction::Delete,
                },
            ],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.deleted, 1, "{report:?}");
    assert_eq!(report.counts.disabled, 1, "{report:?}");
    assert!(wiki.user("Quiet").is_none());
    let author = wiki.user("Author").unwrap();
    assert_eq!(author["blocked"], true);
    assert_eq!(author["groups"], json!([]));
    // The deleted name is free again: a new entry gets a new account under it.
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![user(3, "quiet")],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.created, 1, "{report:?}");
    assert_eq!(wiki.user("Quiet").unwrap()["name_by_id"], "Quiet");
}

#[test]
fn the_mediawiki_1_43_block_layout_is_refused_with_what_was_found() {
    if !support::available() {
        return;
    }
    let wiki = SqliteWiki::install("");
    wiki.sql(
        "CREATE TABLE block_target (bt_id INTEGER PRIMARY KEY AUTOINCREMENT, bt_user INTEGER)",
    );
    let mut sink = MediaWikiSink::new(config(&wiki, json!({}))).unwrap();
    let error = sink.prepare(&SyncPolicy::default()).unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Schema, "{error}");
    assert!(error.message.contains("block_target"), "{error}");
    assert!(error.message.contains("1.43"), "{error}");
    let items = sink.check().unwrap();
    assert!(
        items
            .iter()
            .any(|item| item.message.contains("block_target")),
        "{items:?}"
    );
}

#[test]
fn a_wrong_prefix_finds_no_wiki() {
    if !support::available() {
        return;
    }
    let wiki = SqliteWiki::install("");
    let mut sink = MediaWikiSink::new(config(&wiki, json!({ "prefix": "mw_" }))).unwrap();
    let error = sink.prepare(&SyncPolicy::default()).unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Schema, "{error}");
    assert!(error.message.contains("prefix"), "{error}");
}
