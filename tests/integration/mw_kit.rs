//! The test kit's MediaWiki: the real installer on SQLite, MariaDB and PostgreSQL (with and
//! without a table prefix), and the PHP checker proven against rows written the way
//! `apps.md` §1.5 describes (user + actor, groups, former groups, block, token).

use std::time::Instant;

use idsync_testkit::mediawiki::{MediaWiki, MwBackend, MwKind};
use idsync_testkit::servers::missing_server;

use crate::db_servers::{start_mariadb, start_postgres};

/// True when PHP and MediaWiki are installed; otherwise a loud skip (or a panic in CI).
fn available() -> bool {
    match MediaWiki::available() {
        Ok(()) => true,
        Err(why) => {
            missing_server("mediawiki", &why);
            false
        }
    }
}

fn install(backend: MwBackend<'_>, prefix: Option<&str>) -> MediaWiki {
    let started = Instant::now();
    let wiki = MediaWiki::install(backend, prefix).unwrap();
    eprintln!(
        "mediawiki on {:?} (prefix {prefix:?}) installed in {:?}: {}",
        wiki.kind(),
        started.elapsed(),
        wiki.url()
    );
    wiki
}

/// A timestamp literal for this backend (`YYYYMMDDHHMMSS` text; PostgreSQL: timestamptz).
fn now(wiki: &MediaWiki) -> &'static str {
    match wiki.kind() {
        MwKind::Postgres => "now()",
        _ => "'20240102030405'",
    }
}

/// The installer's users, as the checker sees them.
fn check_fresh_install(wiki: &MediaWiki) {
    let admin = wiki.check_user("Admin").unwrap();
    assert!(admin.exists, "{admin:?}");
    assert_eq!(admin.id, 1);
    assert_eq!(admin.name, "Admin");
    assert!(admin.actor_id > 0);
    assert!(admin.loads_by_name);
    assert_eq!(admin.groups, ["bureaucrat", "interface-admin", "sysop"]);
    for group in ["*", "user", "sysop", "bureaucrat", "interface-admin"] {
        assert!(
            admin.effective_groups.iter().any(|g| g == group),
            "{admin:?}"
        );
    }
    assert!(!admin.is_blocked());
    assert!(admin.token.is_some());
    let all = wiki.check_all().unwrap();
    let names: Vec<&str> = all.iter().map(|user| user.name.as_str()).collect();
    assert_eq!(names, ["Admin", "MediaWiki default"]);
    let system = all.get(1).unwrap();
    assert!(system.is_system && system.token_invalid && system.token.is_none());
    assert!(!wiki.check_user("Nobody here").unwrap().exists);
    assert!(!wiki.check_user("a#b").unwrap().exists);
}

/// Writes users, groups and a block by SQL as apps.md §1.5 says, and checks that MediaWiki
/// sees each change (and does not see a user without an actor row).
fn check_sql_changes_are_seen(wiki: &MediaWiki) {
    let user = wiki.table("user");
    let actor = wiki.table("actor");
    let groups = wiki.table("user_groups");
    let former = wiki.table("user_former_groups");
    let comment = wiki.table("comment");
    let ipblocks = wiki.table("ipblocks");
    let now = now(wiki);
    let insert_user = |name: &str, real: &str, email: &str, token: &str| {
        format!(
            "INSERT INTO {user} (user_name, user_real_name, user_password, user_newpassword,
                 user_email, user_touched, user_token, user_registration, user_editcount)
             VALUES ('{name}', '{real}', '', '', '{email}', {now}, '{token}', {now}, 0);"
        )
    };
    let insert_actor = |name: &str| {
        format!(
            "INSERT INTO {actor} (actor_user, actor_name)
             SELECT user_id, user_name FROM {user} WHERE user_name = '{name}';"
        )
    };
    let sql = [
        insert_user(
            "Alice Example",
            "Alice E.",
            "alice@example.org",
            "0123456789abcdef0123456789abcdef",
        ),
        insert_actor("Alice Example"),
        format!(
            "INSERT INTO {groups} (ug_user, ug_group, ug_expiry)
             SELECT user_id, g, NULL FROM {user}, (SELECT 'staff' AS g UNION ALL SELECT 'sysop') gs
             WHERE user_name = 'Alice Example';"
        ),
        // A user row without an actor row: MediaWiki must not see it.
        insert_user("Ghost", "", "", "fedcba9876543210fedcba9876543210"),
    ]
    .join("\n");
    wiki.execute(&sql).unwrap();

    let alice = wiki.check_user("alice_Example").unwrap();
    assert!(alice.exists, "{alice:?}");
    assert_eq!(alice.name, "Alice Example");
    assert_eq!(alice.real_name, "Alice E.");
    assert_eq!(alice.email, "alice@example.org");
    assert!(alice.loads_by_name && alice.actor_id > 0);
    assert_eq!(alice.groups, ["staff", "sysop"]);
    assert!(alice.effective_groups.iter().any(|g| g == "user"));
    assert!(alice.former_groups.is_empty());
    assert!(!alice.is_blocked());
    let by_id = wiki.check_user_id(alice.id).unwrap();
    assert_eq!(by_id.name, "Alice Example");
    assert!(
        !wiki.check_user("Ghost").unwrap().exists,
        "a user without an actor row is invisible"
    );

    // Group removal (with the former-groups row MediaWiki writes), a new token, a block.
    let blocker = "LDAP sync";
    let reason = "Disabled in LDAP";
    let sql = [
        format!(
            "DELETE FROM {groups} WHERE ug_group = 'sysop'
               AND ug_user = (SELECT user_id FROM {user} WHERE user_name = 'Alice Example');"
        ),
        format!(
            "INSERT INTO {former} (ufg_user, ufg_group)
             SELECT user_id, 'sysop' FROM {user} WHERE user_name = 'Alice Example';"
        ),
        format!(
            "UPDATE {user} SET user_token = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
             WHERE user_name = 'Alice Example';"
        ),
        insert_user(blocker, "", "", "*** INVALID ***"),
        insert_actor(blocker),
        // comment_hash: CRC32 of the text as a signed 32-bit integer (apps.md §1.5).
        format!(
            "INSERT INTO {comment} (comment_hash, comment_text, comment_data)
             VALUES (-16115598, '{reason}', NULL);"
        ),
        format!(
            "INSERT INTO {ipblocks} (ipb_address, ipb_user, ipb_by_actor, ipb_reason_id,
                 ipb_timestamp, ipb_auto, ipb_anon_only, ipb_create_account, ipb_enable_autoblock,
                 ipb_expiry, ipb_range_start, ipb_range_end, ipb_deleted, ipb_block_email,
                 ipb_allow_usertalk, ipb_parent_block_id, ipb_sitewide)
             SELECT u.user_name, u.user_id,
                 (SELECT actor_id FROM {actor} WHERE actor_name = '{blocker}'),
                 (SELECT MAX(comment_id) FROM {comment} WHERE comment_text = '{reason}'),
                 {now}, 0, 0, 1, 0, 'infinity', '', '', 0, 0, 1, NULL, 1
             FROM {user} u WHERE u.user_name = 'Alice Example';"
        ),
    ]
    .join("\n");
    wiki.execute(&sql).unwrap();

    let after = wiki.check_user("Alice Example").unwrap();
    assert_eq!(after.groups, ["staff"]);
    assert_eq!(after.former_groups, ["sysop"]);
    assert_ne!(
        after.token, alice.token,
        "a new user_token is a new session token"
    );
    let block = after.block.as_ref().expect("the block is seen");
    assert_eq!(block.blocker.as_deref(), Some(blocker));
    assert_eq!(block.reason, reason);
    assert_eq!(block.expiry, "infinity");
    assert!(block.sitewide);
    assert_eq!(block.target, "Alice Example");

    let all = wiki.check_all().unwrap();
    let visible: Vec<&str> = all
        .iter()
        .filter(|user| user.exists)
        .map(|user| user.name.as_str())
        .collect();
    assert_eq!(
        visible,
        ["Admin", "MediaWiki default", "Alice Example", blocker]
    );
    assert!(
        all.iter()
            .any(|user| !user.query.is_empty() && !user.exists),
        "Ghost is listed as unknown"
    );
}

fn check_names(wiki: &MediaWiki) {
    assert_eq!(
        wiki.canonical_name("foo_bar").unwrap().as_deref(),
        Some("Foo bar")
    );
    assert_eq!(
        wiki.canonical_name("élan").unwrap().as_deref(),
        Some("Élan")
    );
    assert_eq!(wiki.canonical_name("a#b").unwrap(), None);
    assert_eq!(wiki.canonical_name("127.0.0.1").unwrap(), None);
    let names = wiki.check_names(&["x:y", "Bob"]).unwrap();
    assert!(names.first().unwrap().valid && !names.first().unwrap().creatable);
    assert!(names.get(1).unwrap().creatable);
}

/// Installs with and without a prefix on `backend`, then checks both wikis.
fn check_backend(backend: MwBackend<'_>) {
    let plain = install(backend, None);
    let prefixed = install(backend, Some("mw_"));
    let again = install(backend, Some("mw_"));
    assert_eq!(plain.prefix(), "");
    assert_eq!(prefixed.prefix(), "mw_");
    assert_ne!(
        prefixed.url(),
        again.url(),
        "every wiki has its own database"
    );
    let settings = std::fs::read_to_string(prefixed.local_settings()).unwrap();
    assert!(
        settings.contains("$wgDBprefix = \"mw_\";") || settings.contains("$wgDBprefix = 'mw_';"),
        "{settings}"
    );
    // The tables really carry the prefix.
    let tables = match prefixed.kind() {
        MwKind::Sqlite => "SELECT name FROM sqlite_master WHERE name = 'mw_actor'".to_owned(),
        MwKind::MariaDb => format!(
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = '{}' AND table_name = 'mw_actor'",
            prefixed.database()
        ),
        MwKind::Postgres => {
            "SELECT tablename FROM pg_tables WHERE schemaname = 'mediawiki' AND tablename = 'mw_actor'"
                .to_owned()
        }
    };
    assert_eq!(prefixed.query(&tables).unwrap().len(), 1);
    check_fresh_install(&plain);
    check_fresh_install(&prefixed);
    check_sql_changes_are_seen(&prefixed);
    check_sql_changes_are_seen(&plain);
    // The copies are independent: the other prefixed wiki is still fresh.
    check_fresh_install(&again);
}

#[test]
fn mediawiki_on_sqlite() {
    if !available() {
        return;
    }
    check_backend(MwBackend::Sqlite);
    let wiki = install(MwBackend::Sqlite, None);
    check_names(&wiki);
    let path = wiki.sqlite_path().unwrap();
    assert!(path.is_file());
    assert_eq!(wiki.url(), format!("sqlite://{}", path.display()));
}

#[test]
fn mediawiki_on_mariadb() {
    if !available() {
        return;
    }
    let Some(server) = start_mariadb() else {
        return;
    };
    check_backend(MwBackend::MariaDb(&server));
    assert!(install(MwBackend::MariaDb(&server), None)
        .url()
        .starts_with(&format!(
            "mysql://wikiuser:wikipass@127.0.0.1:{}/wiki_",
            server.port()
        )));
}

#[test]
fn mediawiki_on_postgres() {
    if !available() {
        return;
    }
    let Some(server) = start_postgres() else {
        return;
    };
    let plain = install(MwBackend::Postgres(&server), None);
    let again = install(MwBackend::Postgres(&server), None);
    assert_ne!(plain.url(), again.url(), "every wiki has its own database");
    check_fresh_install(&plain);
    check_sql_changes_are_seen(&plain);
    check_fresh_install(&again);
    // MediaWiki refuses table prefixes on PostgreSQL (MWLBFactory::reportIfPrefixSet).
    let error = MediaWiki::install(MwBackend::Postgres(&server), Some("mw_")).unwrap_err();
    assert!(error.to_string().contains("prefix"), "{error}");
    let wiki = install(MwBackend::Postgres(&server), None);
    assert_eq!(wiki.schema(), Some("mediawiki"));
    assert!(wiki.url().starts_with(&format!(
        "postgres://wikiuser:wikipass@127.0.0.1:{}/wiki_",
        server.port()
    )));
}

#[test]
fn mediawiki_with_its_own_server() {
    if !available() {
        return;
    }
    for kind in MwKind::ALL {
        let started = Instant::now();
        let wiki = MediaWiki::install_with_own_server(kind, None).unwrap();
        eprintln!("{kind:?} server + wiki in {:?}", started.elapsed());
        let started = Instant::now();
        let admin = wiki.check_user("Admin").unwrap();
        eprintln!("check_user in {:?}", started.elapsed());
        assert!(admin.exists && admin.groups.iter().any(|g| g == "sysop"));
        // MediaWiki's own maintenance scripts run on the copy.
        let out = wiki.maintenance("showSiteStats", &[]).unwrap();
        assert!(out.contains("Number of users"), "{out}");
    }
}
