//! End to end: the member-index snapshot (`[runner] state_dir`) against a real slapd, the
//! `rfc2307` source (posixGroup `memberUid` groups and groupOfNames groups with nesting) and
//! the sql plugin on SQLite. A clean stop writes the snapshot; the restart uses it instead of
//! the index warm-up, and the sink must equal the directory after changes made while the
//! runner was stopped (a `memberUid` member renamed, a user deleted, a user added to a nested
//! group, a group removed). A snapshot of an older cookie is not used: the warm-up runs and
//! the result is the same.

use std::path::{Path, PathBuf};
use std::time::Duration;

use idsync_testkit::runner::RunnerProcess;
use idsync_testkit::servers::missing_server;
use idsync_testkit::slapd::{Seed, Slapd, SlapdOptions, BASE};
use nix::sys::signal::Signal;

use crate::ldap_e2e_support::{Expect, LdapWorkspace, OnDelete, SourceToml, State, View};

const PEOPLE: &str = "ou=people,dc=example,dc=org";
const GROUPS: &str = "ou=groups,dc=example,dc=org";

/// The log line of a restored index (crates/idsync/src/run/snapshot.rs).
const RESTORED: &str = "member index restored from the snapshot";
/// The log line of a snapshot that was not used.
const NOT_USED: &str = "member index snapshot not used";
/// The log line of a written snapshot.
const WRITTEN: &str = "member index snapshot written";

fn posix_user(uid: &str, number: usize) -> String {
    format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
         objectClass: shadowAccount\nuid: {uid}\ncn: {uid}\nsn: {uid}\ndisplayName: {uid} posix\n\
         mail: {uid}@example.org\nuidNumber: {number}\ngidNumber: 20001\nhomeDirectory: /home/{uid}\n\n"
    )
}

fn user(uid: &str) -> String {
    format!("uid={uid},{PEOPLE}")
}

fn group(cn: &str) -> String {
    format!("cn={cn},{GROUPS}")
}

/// Users alice…erin; `wheel` (posixGroup, memberUid alice bob), `users` (posixGroup, memberUid
/// everyone), `devs` (groupOfNames: alice), `ops` (groupOfNames: dave), `all` (groupOfNames:
/// devs, ops, carol — nested).
fn seed() -> String {
    let mut ldif = format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Org\n\n"
    );
    for ou in ["people", "groups"] {
        ldif.push_str(&format!(
            "dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        ));
    }
    for (number, uid) in ["alice", "bob", "carol", "dave", "erin"].iter().enumerate() {
        ldif.push_str(&posix_user(uid, 10_000 + number));
    }
    ldif.push_str(&format!(
        "dn: cn=wheel,{GROUPS}\nobjectClass: posixGroup\ncn: wheel\ngidNumber: 20000\n\
         description: Admins\nmemberUid: alice\nmemberUid: bob\n\n\
         dn: cn=users,{GROUPS}\nobjectClass: posixGroup\ncn: users\ngidNumber: 20001\n\
         memberUid: alice\nmemberUid: bob\nmemberUid: carol\nmemberUid: dave\nmemberUid: erin\n\n\
         dn: cn=devs,{GROUPS}\nobjectClass: groupOfNames\ncn: devs\ndescription: Developers\n\
         member: {}\n\n\
         dn: cn=ops,{GROUPS}\nobjectClass: groupOfNames\ncn: ops\ndescription: Operations\n\
         member: {}\n\n\
         dn: cn=all,{GROUPS}\nobjectClass: groupOfNames\ncn: all\ndescription: Everyone\n\
         member: {}\nmember: {}\nmember: {}\n\n",
        user("alice"),
        user("dave"),
        group("devs"),
        group("ops"),
        user("carol"),
    ));
    ldif
}

const GROUPS_FILTER: &str = "(|(objectClass=posixGroup)(objectClass=groupOfNames))";

fn server() -> Option<Slapd> {
    if let Err(why) = Slapd::available() {
        missing_server("slapd", &why);
        return None;
    }
    Some(Slapd::start(SlapdOptions::default().seed(Seed::Ldif(seed()))).unwrap())
}

/// `rfc2307` with groupOfNames groups too (rfc2307bis-style DN members), admin bind, and a
/// state directory `state/` in the workspace.
fn workspace(slapd: &Slapd) -> LdapWorkspace {
    let source = SourceToml::new("rfc2307", slapd.url())
        .set("base", BASE)
        .set("bind_dn", slapd.admin_dn())
        .set("password", slapd.admin_password())
        .raw("timeout_seconds", "10")
        .table("users", &[("base", PEOPLE)])
        .table("groups", &[("base", GROUPS), ("filter", GROUPS_FILTER)]);
    let ws = LdapWorkspace::new();
    ws.write_config(
        &source,
        OnDelete::Disable,
        "\n[runner]\nstate_dir = \"state\"\n",
    );
    ws
}

fn view() -> View {
    let mut view = View::rfc2307(PEOPLE, GROUPS);
    view.group_classes = vec!["posixGroup".into(), "groupOfNames".into()];
    view
}

fn directory(slapd: &Slapd) -> State {
    let filter = "(|(objectClass=posixAccount)(objectClass=posixGroup)(objectClass=groupOfNames))";
    let view = view();
    view.state(&slapd.search(BASE, filter, &view.operational()).unwrap())
}

fn modify(slapd: &Slapd, dn: &str, change: &str) {
    slapd
        .modify_ldif(&format!("dn: {dn}\nchangetype: modify\n{change}\n"))
        .unwrap();
}

fn rename(slapd: &Slapd, from: &str, to: &str) {
    slapd
        .modify_ldif(&format!(
            "dn: {}\nchangetype: modrdn\nnewrdn: uid={to}\ndeleteoldrdn: 1\n",
            user(from)
        ))
        .unwrap();
}

/// The snapshot files in the state directory.
fn snapshots(ws: &LdapWorkspace) -> Vec<PathBuf> {
    let dir = ws.path().join("state");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("index-") && name.ends_with(".bin"))
        })
        .collect();
    files.sort();
    files
}

fn the_snapshot(ws: &LdapWorkspace, log: &str) -> PathBuf {
    let files = snapshots(ws);
    assert_eq!(
        files.len(),
        1,
        "one snapshot expected: {files:?}\nlog:\n{log}"
    );
    files.into_iter().next().unwrap()
}

fn stop(runner: &mut RunnerProcess) -> String {
    assert!(runner.is_running(), "the runner stopped:\n{}", runner.log());
    runner.signal(Signal::SIGTERM);
    let status = runner.wait_timeout(Duration::from_secs(20));
    let log = runner.log();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{log}");
    log
}

/// While the runner is stopped: a `memberUid` member renamed (wheel still names the old
/// name), a user deleted, a user added to a nested group, a group removed.
fn change_while_stopped(slapd: &Slapd, renamed: (&str, &str), deleted: &str, added: &str) {
    rename(slapd, renamed.0, renamed.1);
    slapd.delete(&user(deleted)).unwrap();
    modify(
        slapd,
        &group("devs"),
        &format!("add: member\nmember: {}", user(added)),
    );
}

#[test]
fn slapd_restart_uses_the_index_snapshot_of_a_clean_stop() {
    let Some(slapd) = server() else { return };
    let ws = workspace(&slapd);
    let mut expect = Expect::new(OnDelete::Disable);

    let mut runner = ws.follow();
    let initial = directory(&slapd);
    assert_eq!(initial.member_names("wheel"), ["alice", "bob"]);
    assert_eq!(initial.member_names("all"), ["alice", "carol", "dave"]);
    expect.wait_equal("initial refresh", &ws, &initial, || runner.log());
    assert!(snapshots(&ws).is_empty(), "written only at the stop");
    let log = stop(&mut runner);
    assert!(log.contains(WRITTEN), "{log}");
    let file = the_snapshot(&ws, &log);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    change_while_stopped(&slapd, ("bob", "robert"), "carol", "erin");
    slapd.delete(&group("ops")).unwrap();
    let changed = directory(&slapd);
    assert_eq!(
        changed.member_names("wheel"),
        ["alice"],
        "memberUid: bob dangles"
    );
    assert_eq!(changed.member_names("all"), ["alice", "erin"]);

    let mut runner = ws.follow();
    expect.wait_equal("restart with the snapshot", &ws, &changed, || runner.log());
    let log = runner.log();
    assert!(log.contains(RESTORED), "the snapshot was not used:\n{log}");
    assert!(log.contains("no warm-up"), "{log}");
    assert!(!log.contains(NOT_USED), "{log}");
    assert!(!file.exists(), "the snapshot is consumed when it is loaded");

    // Following goes on from the restored index: a change in persist lands too.
    modify(
        &slapd,
        &group("devs"),
        &format!("delete: member\nmember: {}", user("alice")),
    );
    modify(&slapd, &group("wheel"), "add: memberUid\nmemberUid: robert");
    expect.wait_equal("persist after the restore", &ws, &directory(&slapd), || {
        runner.log()
    });
    let log = stop(&mut runner);
    assert!(log.contains(WRITTEN), "{log}");
    the_snapshot(&ws, &log);

    // A crash (SIGKILL) after the restore: the consumed snapshot is gone, so the next start
    // warms up; nothing is written at a crash.
    let mut runner = ws.follow();
    assert!(
        idsync_testkit::runner::wait_until(crate::ldap_e2e_support::LAND, || runner
            .log()
            .contains("following changes")),
        "{}",
        runner.log()
    );
    assert!(runner.log().contains(RESTORED), "{}", runner.log());
    expect.wait_equal("restart again", &ws, &directory(&slapd), || runner.log());
    assert!(snapshots(&ws).is_empty());
    runner.signal(Signal::SIGKILL);
    let _ = runner.wait_timeout(Duration::from_secs(10));
    assert!(snapshots(&ws).is_empty(), "no snapshot after a crash");
    rename(&slapd, "alice", "alicia");
    let out = ws.sync_once();
    assert!(
        out.stderr.contains("no member index snapshot"),
        "{}",
        out.stderr
    );
    expect.assert_equal("after a crash", &ws, &directory(&slapd), &out.stderr);
    the_snapshot(&ws, &out.stderr);
}

#[test]
fn slapd_a_snapshot_of_an_older_cookie_is_not_used() {
    let Some(slapd) = server() else { return };
    let ws = workspace(&slapd);
    let mut expect = Expect::new(OnDelete::Disable);

    let out = ws.sync_once();
    expect.assert_equal("initial", &ws, &directory(&slapd), &out.stderr);
    assert!(
        out.stderr.contains(WRITTEN),
        "--once writes it too:\n{}",
        out.stderr
    );
    let file = the_snapshot(&ws, &out.stderr);
    let aside = ws.path().join("old-snapshot.bin");
    std::fs::copy(&file, &aside).unwrap();
    let first_cookie = ws.cookie();

    modify(
        &slapd,
        &user("alice"),
        "replace: displayName\ndisplayName: Alice 2",
    );
    let out = ws.sync_once();
    assert!(out.stderr.contains(RESTORED), "{}", out.stderr);
    expect.assert_equal("second run", &ws, &directory(&slapd), &out.stderr);
    assert_ne!(ws.cookie(), first_cookie, "the cookie moved");
    the_snapshot(&ws, &out.stderr);

    // The older snapshot replaces the current one.
    std::fs::rename(&aside, &file).unwrap();
    change_while_stopped(&slapd, ("alice", "alicia"), "dave", "bob");
    slapd.delete(&group("ops")).unwrap();
    let changed = directory(&slapd);
    assert_eq!(
        changed.member_names("wheel"),
        ["bob"],
        "memberUid: alice dangles"
    );
    let out = ws.sync_once();
    assert!(out.stderr.contains(NOT_USED), "{}", out.stderr);
    assert!(
        out.stderr.contains("another cookie"),
        "the reason is given:\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains(RESTORED), "{}", out.stderr);
    expect.assert_equal("older snapshot ignored", &ws, &changed, &out.stderr);

    // A damaged snapshot: a warning naming the file, the warm-up, the right result.
    let file = the_snapshot(&ws, &out.stderr);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    modify(&slapd, &group("wheel"), "add: memberUid\nmemberUid: alicia");
    let out = ws.sync_once();
    assert!(out.stderr.contains(NOT_USED), "{}", out.stderr);
    assert!(out.stderr.contains(&file_name(&file)), "{}", out.stderr);
    expect.assert_equal(
        "damaged snapshot ignored",
        &ws,
        &directory(&slapd),
        &out.stderr,
    );
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}
