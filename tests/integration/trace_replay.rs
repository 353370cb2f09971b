//! `idsync trace` and the `replay` source, end to end: a trace → `idsync sync --once` with
//! `type = "replay"` → the sql plugin → SQLite; a trace recorded from a real slapd replays to
//! the same database as a direct sync from that slapd.

use std::path::{Path, PathBuf};

use idsync_testkit::runner::{wait_until, RunnerProcess};
use idsync_testkit::servers::missing_server;
use idsync_testkit::slapd::{Slapd, SlapdOptions};
use nix::sys::signal::Signal;

use crate::support::{standard_config, strings, Workspace, SETTLE};

/// The idiotrace-layout FreeIPA capture of the idsync-ldap crate.
fn idiotrace_sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/idsync-ldap/tests/traces/idiotrace-freeipa.ldif")
}

/// The standard sink configuration with `source` as the `[source]` table's keys.
fn config_with_source(source: &str) -> String {
    standard_config().replacen("type = \"dummy\"\npath = \"directory.yaml\"\n", source, 1)
}

fn replay_source(path: &str, flavour: &str) -> String {
    format!("type = \"replay\"\npath = \"{path}\"\nflavour = \"{flavour}\"\nbase = \"dc=example,dc=org\"\n")
}

fn row(name: &str, display: &str, mail: &str, active: &str) -> (String, String, String, String) {
    (name.into(), display.into(), mail.into(), active.into())
}

/// Everything the sink wrote, by name: users, groups, memberships.
type Snapshot = (
    Vec<(String, String, String, String)>,
    Vec<Vec<Option<String>>>,
    Vec<Vec<Option<String>>>,
);

fn snapshot(ws: &Workspace) -> Snapshot {
    let groups = ws
        .db()
        .query("select name, description from groups order by name");
    let members = ws.db().query(
        "select g.name, u.username from group_members m join users u on u.id = m.user_id \
         join groups g on g.id = m.group_id order by g.name, u.username",
    );
    (ws.users(), groups, members)
}

#[test]
fn an_idiotrace_capture_replays_into_sqlite() {
    let ws = Workspace::new("users: []\n");
    std::fs::copy(idiotrace_sample(), ws.path().join("capture.ldif")).unwrap();
    // `on_delete = "delete"`: carol is added (locked) and deleted in one burst of changes.
    // Whether the engine coalesces the two or commits the add first depends on timing; with
    // "disable" she would then stay as a disabled row, with "delete" she is gone either way.
    let config = config_with_source(&replay_source("capture.ldif", "freeipa"))
        + "\n[sync]\non_delete = \"delete\"\n";
    ws.write_raw_config(&config);
    ws.sync_once();
    assert_eq!(
        ws.users(),
        vec![
            row("alice", "Alice Liddell", "alice@example.org", "1"),
            row("bob", "Bob Baker", "bob@example.org", "1"),
        ]
    );
    assert_eq!(ws.members("staff"), strings(&["alice", "bob"]));
    // FreeIPA's internal groups are left out.
    assert_eq!(
        ws.db().column("select name from groups"),
        strings(&["staff"])
    );
    let first = snapshot(&ws);

    // Again, now that the sink holds the trace's cookie: the replay starts over as a full
    // refresh and changes nothing.
    let again = ws.sync_once();
    assert!(again.stderr.contains("full refresh"), "{}", again.stderr);
    assert_eq!(snapshot(&ws), first);
}

#[test]
fn replay_and_trace_configuration_errors_exit_2() {
    let ws = Workspace::new("users: []\n");
    ws.write_raw_config(&config_with_source(&replay_source(
        "capture.ldif",
        "activedirectory",
    )));
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("source.flavour"), "{}", out.stderr);

    // A missing trace file is a configuration error too.
    ws.write_raw_config(&config_with_source(&replay_source("missing.ldif", "ldap")));
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("missing.ldif"), "{}", out.stderr);

    // `idsync trace` records live LDAP sources only.
    ws.write_config("");
    let out = ws.run(&[
        "trace",
        "--once",
        "--config",
        "idsync.toml",
        "--output",
        "t.ldif",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("live LDAP source"), "{}", out.stderr);
}

#[test]
fn a_broken_trace_fails_the_sync_with_its_line() {
    let ws = Workspace::new("users: []\n");
    std::fs::write(
        ws.path().join("broken.ldif"),
        "# result: 100\n#\ndn: uid=x,dc=example,dc=org\ncontrol: 1.2.3 sometimes\n",
    )
    .unwrap();
    ws.write_raw_config(&config_with_source(&replay_source("broken.ldif", "ldap")));
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("line 4"), "{}", out.stderr);
}

// ----- with a real slapd -----

const DIRECTORY: &str = "\
dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Archer
sn: Archer
displayName: Alice Archer
mail: alice@example.org

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Baker
sn: Baker
displayName: Bob Baker
mail: bob@example.org

dn: uid=zoe,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: zoe
cn:: Wm/DqyBaw6lybw==
sn: Zero
displayName:: Wm/DqyBaw6lybw==
mail: zoe@example.org

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
description: Staff
member: uid=alice,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org

dn: cn=all,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: all
description: Everyone, through staff
member: cn=staff,ou=groups,dc=example,dc=org
member: uid=zoe,ou=people,dc=example,dc=org
";

fn start_slapd() -> Option<Slapd> {
    if let Err(why) = Slapd::available() {
        missing_server("slapd", &why);
        return None;
    }
    let slapd = Slapd::start(SlapdOptions::default()).unwrap();
    slapd.add_ldif(DIRECTORY).unwrap();
    Some(slapd)
}

fn live_source(slapd: &Slapd) -> String {
    format!(
        "type = \"ldap\"\nurl = \"{}\"\nbase = \"dc=example,dc=org\"\nbind_dn = \"{}\"\n\
         password = \"{}\"\n",
        slapd.url(),
        slapd.admin_dn(),
        slapd.admin_password()
    )
}

#[test]
fn a_trace_of_slapd_replays_to_what_a_direct_sync_writes() {
    let Some(slapd) = start_slapd() else {
        return;
    };
    // Record.
    let recorded = Workspace::new("users: []\n");
    recorded.write_raw_config(&config_with_source(&live_source(&slapd)));
    let out = recorded.run(&[
        "trace",
        "--once",
        "--config",
        "idsync.toml",
        "--output",
        "slapd.ldif",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("trace written to `slapd.ldif`"),
        "{}",
        out.stdout
    );
    let trace = std::fs::read_to_string(recorded.path().join("slapd.ldif")).unwrap();
    assert!(
        trace.starts_with("# result: 100\n#\n# idsync-version: "),
        "{trace}"
    );
    assert!(
        trace.contains(&format!("# idsync-url: {}\n", slapd.url())),
        "{trace}"
    );
    assert!(trace.contains("# idsync-cookie: none\n"), "{trace}");
    assert!(trace.contains("# idsync-mode: refreshOnly\n"), "{trace}");
    assert!(
        trace.contains("\n# result: 101\n# control: 1.3.6.1.4.1.4203.1.9.1.3 "),
        "{trace}"
    );
    assert!(
        !trace.contains(slapd.admin_password()),
        "the trace holds the password"
    );
    // No sink was touched.
    assert!(!recorded.path().join("app.db").exists());

    // Sync directly from the server…
    let direct = Workspace::new("users: []\n");
    direct.write_raw_config(&config_with_source(&live_source(&slapd)));
    direct.sync_once();
    // …and from the trace, with the server gone.
    drop(slapd);
    let replayed = Workspace::new("users: []\n");
    std::fs::copy(
        recorded.path().join("slapd.ldif"),
        replayed.path().join("slapd.ldif"),
    )
    .unwrap();
    replayed.write_raw_config(&config_with_source(&replay_source("slapd.ldif", "ldap")));
    replayed.sync_once();

    let expected = snapshot(&direct);
    assert_eq!(
        expected.0,
        vec![
            row("alice", "Alice Archer", "alice@example.org", "1"),
            row("bob", "Bob Baker", "bob@example.org", "1"),
            row("zoe", "Zoë Zéro", "zoe@example.org", "1"),
        ]
    );
    assert_eq!(direct.members("all"), strings(&["alice", "bob", "zoe"]));
    assert_eq!(snapshot(&replayed), expected);
    // The same entries, with the same ids.
    let ids = "select entry_id from idsync_entries order by entry_id";
    assert_eq!(replayed.db().column(ids), direct.db().column(ids));
}

#[test]
fn a_following_trace_records_changes_until_sigterm() {
    let Some(slapd) = start_slapd() else {
        return;
    };
    let ws = Workspace::new("users: []\n");
    ws.write_raw_config(&config_with_source(&live_source(&slapd)));
    let mut tracer = RunnerProcess::spawn(
        &[
            "trace",
            "--config",
            "idsync.toml",
            "--output",
            "follow.ldif",
        ],
        ws.path(),
    );
    let trace_path = ws.path().join("follow.ldif");
    let read = || std::fs::read_to_string(&trace_path).unwrap_or_default();
    assert!(
        wait_until(SETTLE, || read().contains("# result: 121")),
        "the refresh did not end:\n{}",
        tracer.log()
    );
    slapd
        .add_ldif(
            "dn: uid=dave,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: dave\n\
             cn: Dave Diver\nsn: Diver\ndisplayName: Dave Diver\nmail: dave@example.org\n",
        )
        .unwrap();
    slapd
        .modify_ldif(
            "dn: cn=staff,ou=groups,dc=example,dc=org\nchangetype: modify\nadd: member\n\
             member: uid=dave,ou=people,dc=example,dc=org\n",
        )
        .unwrap();
    assert!(
        wait_until(SETTLE, || read().matches("dn: cn=staff,").count() >= 2),
        "the changes were not recorded:\n{}\n{}",
        read(),
        tracer.log()
    );
    tracer.signal(Signal::SIGTERM);
    let status = tracer
        .wait_timeout(SETTLE)
        .expect("idsync trace did not stop");
    assert_eq!(status.code(), Some(0), "{}", tracer.log());
    assert!(tracer.log().contains("trace finished"), "{}", tracer.log());
    assert!(read().contains("# idsync-mode: refreshAndPersist\n"));

    // The replay holds the refresh and the changes.
    drop(slapd);
    ws.write_raw_config(&config_with_source(&replay_source("follow.ldif", "ldap")));
    ws.sync_once();
    assert_eq!(ws.members("staff"), strings(&["alice", "bob", "dave"]));
    assert_eq!(
        ws.db()
            .scalar("select display_name from users where username = 'dave'"),
        Some("Dave Diver".into())
    );
}
