//! The sink compliance suite against the reference memory sink and the real sql and
//! mediawiki plugins, loaded as dynamic libraries like the runner loads them.

use idsync::plugin::load_sink;
use idsync_core::memory::MemorySink;
use idsync_core::{MembershipMode, Sink};
use idsync_testkit::compliance;
use idsync_testkit::mediawiki::{MediaWiki, MwBackend};
use idsync_testkit::paths::plugin_library;
use idsync_testkit::servers::missing_server;

use crate::db_servers::{start_mariadb, start_postgres};

#[test]
fn compliance_memory_sink() {
    let sink = MemorySink::new(MembershipMode::Effective);
    compliance::run(&|| Box::new(sink.reopen()) as Box<dyn Sink>);
}

/// The sql plugin's configuration for the compliance suite on the database at `url`.
fn sql_config(url: &str) -> serde_json::Value {
    serde_json::json!({
        "url": url,
        "create_tables": true,
        "users": {
            "table": "users", "key": "id",
            "disable": { "column": "active", "disabled_value": "0", "enabled_value": "1" },
            "columns": { "username": "name", "display_name": "displayName", "email": "mail" }
        },
        "groups": {
            "table": "groups", "key": "id",
            "columns": { "name": "name", "description": "description" }
        },
        "memberships": { "table": "group_members", "group": "group_id", "member": "user_id" }
    })
}

/// Runs the suite against the sql plugin loaded as a library, on the database at `url`.
fn run_sql_plugin(url: &str) {
    let config = sql_config(url);
    let library = plugin_library("sql");
    compliance::run(&|| Box::new(load_sink(&library, "sql", &config).unwrap()) as Box<dyn Sink>);
}

#[test]
fn compliance_sql_plugin_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    run_sql_plugin(&format!("sqlite://{}", db.display()));
}

#[test]
fn compliance_sql_plugin_on_postgres() {
    let Some(server) = start_postgres() else {
        return;
    };
    run_sql_plugin(&server.create_database("app").unwrap());
}

#[test]
fn compliance_sql_plugin_on_mariadb() {
    let Some(server) = start_mariadb() else {
        return;
    };
    run_sql_plugin(&server.create_database("app").unwrap());
}

#[test]
fn compliance_mediawiki_plugin_on_sqlite() {
    if let Err(why) = MediaWiki::available() {
        missing_server("mediawiki", &why);
        return;
    }
    let wiki = MediaWiki::install(MwBackend::Sqlite, None).unwrap();
    let config = serde_json::json!({ "url": wiki.url(), "groups": { "staff": "staff" } });
    let library = plugin_library("mediawiki");
    compliance::run(&|| {
        Box::new(load_sink(&library, "mediawiki", &config).unwrap()) as Box<dyn Sink>
    });
    // What the suite left behind, as MediaWiki's own code sees it: alicia (renamed from
    // alice) in staff, the old name free, bob blocked.
    let alicia = wiki.check_user("Alicia").unwrap();
    assert!(alicia.exists && alicia.loads_by_name, "{alicia:?}");
    assert_eq!(alicia.groups, vec!["staff".to_owned()]);
    assert!(!wiki.check_user("Alice").unwrap().exists);
    assert!(
        wiki.check_user("Bob").unwrap().is_blocked(),
        "bob was disabled"
    );
}
