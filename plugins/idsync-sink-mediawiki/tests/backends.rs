//! The MediaWiki sink on every backend MediaWiki's installer supports (the test kit's
//! MariaDB and PostgreSQL servers, SQLite with a `$wgDBprefix`), checked through MediaWiki's
//! own PHP (the kit's checker).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use idsync_core::{ApplyOptions, ApplyReport, Batch, Sink, SyncPolicy};
use idsync_sink_mediawiki::{MediaWikiConfig, MediaWikiSink};
use idsync_testkit::mariadb::MariaDb;
use idsync_testkit::mediawiki::{MediaWiki, MwKind};
use idsync_testkit::postgres::Postgres;
use idsync_testkit::servers::missing_server;
use serde_json::json;
use support::{group, members, user};

/// Installs a wiki on `kind`, or returns None (a loud skip) when something is missing.
fn install(kind: MwKind, prefix: Option<&str>) -> Option<MediaWiki> {
    if let Err(why) = MediaWiki::available() {
        missing_server("mediawiki", &why);
        return None;
    }
    let server = match kind {
        MwKind::Sqlite => Ok(()),
        MwKind::MariaDb => MariaDb::available(),
        MwKind::Postgres => Postgres::available(),
    };
    if let Err(why) = server {
        missing_server(&format!("{kind:?}"), &why);
        return None;
    }
    Some(MediaWiki::install_with_own_server(kind, prefix).unwrap())
}

fn config(wiki: &MediaWiki) -> MediaWikiConfig {
    serde_json::from_value(json!({
        "url": wiki.url(),
        "prefix": wiki.prefix(),
        "schema": wiki.schema().unwrap_or("mediawiki"),
        "groups": { "staff": "staff", "admins": "sysop" },
    }))
    .unwrap()
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

/// The compliance suite, then users, groups, a block and a rename as MediaWiki sees them.
fn exercise(wiki: &MediaWiki) {
    let config = config(wiki);
    idsync_testkit::compliance::run(&|| {
        Box::new(MediaWikiSink::new(config.clone()).unwrap()) as Box<dyn Sink>
    });
    let alicia = wiki.check_user("Alicia").unwrap();
    assert!(alicia.exists && alicia.loads_by_name, "{alicia:?}");
    assert_eq!(alicia.groups, vec!["staff".to_owned()]);
    assert!(!wiki.check_user("Alice").unwrap().exists, "old name free");
    let bob = wiki.check_user("Bob").unwrap();
    let block = bob.block.clone().expect("bob is blocked");
    assert_eq!(block.blocker.as_deref(), Some("Directory sync"));
    assert_eq!(block.expiry, "infinity");
    assert!(!wiki.check_user("Carol").unwrap().exists);
    let blocker = wiki.check_user("Directory sync").unwrap();
    assert!(blocker.is_system && blocker.token_invalid, "{blocker:?}");

    // A second scope: adoption of the installer's Admin, a mapped group, disable, rename.
    let mut config = config.clone();
    config.scope = "second".to_owned();
    let mut sink = MediaWikiSink::new(config).unwrap();
    sink.prepare(&SyncPolicy::default()).unwrap();
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![user(1, "admin"), user(2, "émile"), group(10, "admins")],
            memberships: vec![members(10, &[1, 2])],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.adopted, 1, "{report:?}");
    let admin = wiki.check_user("Admin").unwrap();
    assert_eq!(admin.id, 1);
    assert!(admin.groups.contains(&"bureaucrat".to_owned()), "{admin:?}");
    let emile = wiki.check_user("Émile").unwrap();
    assert!(emile.exists && emile.loads_by_name, "{emile:?}");
    assert_eq!(emile.groups, vec!["sysop".to_owned()]);
    assert_eq!(emile.email, "émile@example.org");
    assert!(emile.email_authenticated.is_some(), "{emile:?}");
    let token = emile.token.clone();
    let mut disabled = user(2, "emile");
    disabled.enabled = false;
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![disabled],
            memberships: vec![members(10, &[1])],
            ..Batch::default()
        },
    );
    assert_eq!(report.counts.renamed, 1, "{report:?}");
    assert_eq!(report.counts.disabled, 1, "{report:?}");
    assert!(!wiki.check_user("Émile").unwrap().exists, "old name free");
    let emile = wiki.check_user("Emile").unwrap();
    assert!(emile.loads_by_name, "{emile:?}");
    assert_eq!(
        emile.block.as_ref().map(|b| b.target.as_str()),
        Some("Emile")
    );
    assert_ne!(emile.token, token, "sessions ended");
    assert!(emile.groups.is_empty(), "{emile:?}");
    assert_eq!(emile.former_groups, vec!["sysop".to_owned()]);
    let report = apply(
        &mut sink,
        Batch {
            upserts: vec![user(1, "admin"), group(10, "admins")],
            memberships: vec![members(10, &[1])],
            ..Batch::default()
        },
    );
    assert!(report.counts.is_noop(), "{report:?}");
}

#[test]
fn mariadb_with_a_table_prefix() {
    if let Some(wiki) = install(MwKind::MariaDb, Some("mw_")) {
        exercise(&wiki);
    }
}

#[test]
fn postgresql_in_the_mediawiki_schema() {
    if let Some(wiki) = install(MwKind::Postgres, None) {
        exercise(&wiki);
    }
}

#[test]
fn sqlite_with_a_table_prefix() {
    if let Some(wiki) = install(MwKind::Sqlite, Some("mw_")) {
        exercise(&wiki);
    }
}
