//! End-to-end runs of the `idsync` binary: the dummy source → the sql plugin (.so) → SQLite.

use std::time::Duration;

use idsync_testkit::runner::{wait_until, RunnerProcess};
use nix::sys::signal::Signal;

use crate::support::{strings, Workspace, BASE, SETTLE};

/// A check that an edit reached the database.
type Landed = Box<dyn Fn(&Workspace) -> bool>;

fn row(name: &str, display: &str, mail: &str, active: &str) -> (String, String, String, String) {
    (name.into(), display.into(), mail.into(), active.into())
}

#[test]
fn e2e_initial_sync_writes_users_groups_and_memberships() {
    let ws = Workspace::new(BASE);
    ws.sync_once();
    assert_eq!(
        ws.users(),
        vec![
            row("alice", "Alice", "alice@example.org", "1"),
            row("bob", "Bob", "bob@example.org", "1"),
            row("carol", "Carol", "carol@example.org", "1"),
        ]
    );
    assert_eq!(ws.members("staff"), strings(&["alice", "bob"]));
    assert_eq!(
        ws.db()
            .scalar("select description from groups where name = 'staff'"),
        Some("Staff".into())
    );
    // The cookie and the fingerprint are stored with the data.
    assert_eq!(
        ws.db()
            .column("select count(*) from idsync_state where cookie is not null"),
        vec!["1"]
    );
}

#[test]
fn e2e_restart_resumes_without_rewriting_unchanged_rows() {
    let ws = Workspace::new(BASE);
    ws.sync_once();
    // Count every write to the application tables from now on.
    ws.db().execute(
        "create table writes (n integer);
         create trigger u_ins after insert on users begin insert into writes values (1); end;
         create trigger u_upd after update on users begin insert into writes values (1); end;
         create trigger u_del after delete on users begin insert into writes values (1); end;
         create trigger g_ins after insert on groups begin insert into writes values (1); end;
         create trigger g_upd after update on groups begin insert into writes values (1); end;
         create trigger m_ins after insert on group_members begin insert into writes values (1); end;
         create trigger m_del after delete on group_members begin insert into writes values (1); end;",
    );
    ws.sync_once();
    assert_eq!(ws.db().column("select count(*) from writes"), vec!["0"]);

    // One change: exactly one row written.
    ws.write_directory(&BASE.replace("Carol, mail", "Caroline, mail"));
    ws.sync_once();
    assert_eq!(ws.db().column("select count(*) from writes"), vec!["1"]);
    assert_eq!(
        ws.db()
            .scalar("select display_name from users where username = 'carol'"),
        Some("Caroline".into())
    );
}

#[test]
fn e2e_follow_mode_applies_every_kind_of_file_edit() {
    let ws = Workspace::new(BASE);
    let mut runner = RunnerProcess::spawn(&["sync", "--config", "idsync.toml"], ws.path());
    let ready = wait_until(SETTLE, || {
        ws.try_members("staff").is_some_and(|m| m.len() == 2)
    });
    assert!(ready, "initial sync did not land:\n{}", runner.log());
    let alice_key = ws
        .db()
        .scalar("select id from users where username = 'alice'");

    let steps: Vec<(&str, String, Landed)> = vec![
        (
            "add a user",
            BASE.replace(
                "groups:",
                "  - name: dave\n    id: 00000000-0000-4000-8000-000000000004\n    attributes: { displayName: Dave, mail: dave@example.org }\ngroups:",
            ),
            Box::new(|ws| ws.users().iter().any(|u| u.0 == "dave")),
        ),
        (
            "modify an attribute",
            BASE.replace("alice@example.org", "alice@new.example.org"),
            Box::new(|ws| ws.users().iter().any(|u| u.2 == "alice@new.example.org")),
        ),
        (
            "rename with an id",
            BASE.replace("name: alice", "name: alicia"),
            Box::new(|ws| ws.users().iter().any(|u| u.0 == "alicia")),
        ),
        (
            "disable",
            BASE.replace(
                "  - name: bob\n",
                "  - name: bob\n    enabled: false\n",
            ),
            Box::new(|ws| ws.users().iter().any(|u| u.0 == "bob" && u.3 == "0")),
        ),
        (
            "enable again and delete carol",
            BASE.replace(
                "  - name: carol\n    id: 00000000-0000-4000-8000-000000000003\n    attributes: { displayName: Carol, mail: carol@example.org }\n",
                "",
            ),
            Box::new(|ws| {
                let users = ws.users();
                users.iter().any(|u| u.0 == "carol" && u.3 == "0")
                    && users.iter().any(|u| u.0 == "bob" && u.3 == "1")
            }),
        ),
        (
            "membership change",
            BASE.replace("members: [alice, bob]", "members: [carol]"),
            Box::new(|ws| ws.members("staff") == strings(&["carol"])),
        ),
        (
            "nested groups",
            format!(
                "{BASE}  - name: all\n    id: 00000000-0000-4000-8000-000000000011\n    members: [staff, carol]\n"
            ),
            Box::new(|ws| ws.members("all") == strings(&["alice", "bob", "carol"])),
        ),
    ];
    for (what, yaml, landed) in steps {
        ws.write_directory(&yaml);
        assert!(
            wait_until(SETTLE, || landed(&ws)),
            "step `{what}` did not land; users: {:?}\nlog:\n{}",
            ws.users(),
            runner.log()
        );
    }
    // The rename kept the row: same key, new name.
    ws.write_directory(&BASE.replace("name: alice", "name: alicia"));
    assert!(wait_until(SETTLE, || ws
        .users()
        .iter()
        .any(|u| u.0 == "alicia")));
    assert_eq!(
        ws.db()
            .scalar("select id from users where username = 'alicia'"),
        alice_key
    );
    assert!(runner.is_running(), "the runner stopped:\n{}", runner.log());
    runner.signal(Signal::SIGTERM);
    let status = runner.wait_timeout(Duration::from_secs(5));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "log:\n{}",
        runner.log()
    );
}

#[test]
fn e2e_sigterm_during_a_large_refresh_exits_cleanly_and_loses_nothing() {
    let ws = Workspace::new(BASE);
    ws.write_raw_config(&crate::support::standard_config().replace(
        "path = \"directory.yaml\"",
        "[source.generate]\nusers = 60000\ngroups = 2000\nmemberships = 300000\nseed = 7",
    ));
    let mut runner = RunnerProcess::spawn(&["sync", "--config", "idsync.toml"], ws.path());
    // Stop it while the refresh is running (some rows are in, the refresh is not done).
    let started = wait_until(SETTLE, || {
        ws.db()
            .try_query("select count(*) from users")
            .is_ok_and(|rows| rows[0][0].as_deref().unwrap_or("0") != "0")
    });
    assert!(started, "the refresh never started:\n{}", runner.log());
    runner.signal(Signal::SIGTERM);
    let status = runner.wait_timeout(Duration::from_secs(5));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "log:\n{}",
        runner.log()
    );

    // Whatever was committed is whole; a rerun completes the sync.
    ws.sync_once();
    assert_eq!(ws.db().column("select count(*) from users"), vec!["60000"]);
    assert_eq!(ws.db().column("select count(*) from groups"), vec!["2000"]);
    let members: u64 = ws.db().column("select count(*) from group_members")[0]
        .parse()
        .unwrap();
    assert!(members >= 300_000, "{members}");
}

#[test]
fn e2e_dry_run_prints_the_plan_and_writes_nothing() {
    let ws = Workspace::new(BASE);
    ws.sync_once();
    let before = ws.users();
    let edited = BASE
        .replace("name: alice", "name: alicia")
        .replace("bob@example.org", "robert@example.org")
        .replace("members: [alice, bob]", "members: [alice, carol]")
        .replace(
            "  - name: carol\n    id: 00000000-0000-4000-8000-000000000003\n    attributes: { displayName: Carol, mail: carol@example.org }\n",
            "",
        );
    ws.write_directory(&edited);
    let out = ws.run(&["sync", "--dry-run", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("rename alice → alicia"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("robert@example.org"), "{}", out.stdout);
    assert!(out.stdout.contains("disable carol"), "{}", out.stdout);
    assert!(
        out.stdout.contains("remove bob from group staff"),
        "{}",
        out.stdout
    );
    assert_eq!(ws.users(), before);
    assert_eq!(ws.members("staff"), strings(&["alice", "bob"]));
}

#[test]
fn e2e_mass_delete_guard_stops_and_can_be_overridden() {
    let mut big = String::from("users:\n");
    for n in 0..1000 {
        big.push_str(&format!("  - name: u{n:04}\n"));
    }
    let ws = Workspace::new(&big);
    ws.sync_once();
    let mut small = String::from("users:\n");
    for n in 0..400 {
        small.push_str(&format!("  - name: u{n:04}\n"));
    }
    ws.write_directory(&small);
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("--allow-mass-delete"), "{}", out.stderr);
    assert_eq!(
        ws.db()
            .column("select count(*) from users where active = '0'"),
        vec!["0"]
    );

    let out = ws.run(&[
        "sync",
        "--once",
        "--allow-mass-delete",
        "--config",
        "idsync.toml",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        ws.db()
            .column("select count(*) from users where active = '0'"),
        vec!["600"]
    );
}

#[test]
fn e2e_on_delete_delete_removes_rows() {
    let ws = Workspace::new(BASE);
    ws.write_config("\n[sync]\non_delete = \"delete\"\n");
    ws.sync_once();
    ws.write_directory(&BASE.replace(
        "  - name: carol\n    id: 00000000-0000-4000-8000-000000000003\n    attributes: { displayName: Carol, mail: carol@example.org }\n",
        "",
    ));
    ws.sync_once();
    assert_eq!(
        ws.db()
            .column("select username from users order by username"),
        strings(&["alice", "bob"])
    );
}
