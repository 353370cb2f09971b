//! End to end against a real OpenLDAP slapd: `idsync sync` (the runner binary) with the `ldap`
//! and `rfc2307` sources into the sql plugin on SQLite. After every step the whole sink must
//! equal the directory as an independent `ldapsearch` shows it (`ldap_e2e_support`).
//!
//! Covered: initial refresh; add, modify, rename (modrdn), move out of the users' base and back,
//! delete, lock/unlock (ppolicy `pwdAccountLockedTime`; rfc2307 `shadowExpire`); member add and
//! remove, nested groups, `uniqueMember` with a UID suffix, `memberUid` groups (a rename makes
//! the old name dangle); the runner stopped while every kind of change is made, then restarted
//! (also with slapd restarted meanwhile, so its sessionlog is gone); slapd restarted during
//! persist; unusable cookies; the non-admin sync account; TLS (ldaps and StartTLS with a test
//! CA, SASL EXTERNAL with a client certificate) and the refusal of an untrusted server
//! certificate.

use std::time::Instant;

use idsync_testkit::servers::missing_server;
use idsync_testkit::slapd::{Overlay, Seed, Slapd, SlapdOptions, BASE, SYNC_DN, SYNC_PASSWORD};
use nix::sys::signal::Signal;

use crate::ldap_e2e_support::{Expect, LdapWorkspace, OnDelete, SourceToml, State, View};

const PEOPLE: &str = "ou=people,dc=example,dc=org";
const GROUPS: &str = "ou=groups,dc=example,dc=org";
const ALUMNI: &str = "ou=alumni,dc=example,dc=org";

fn start(options: SlapdOptions) -> Option<Slapd> {
    if let Err(why) = Slapd::available() {
        missing_server("slapd", &why);
        return None;
    }
    Some(Slapd::start(options).unwrap())
}

fn containers() -> String {
    let mut ldif = format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Org\n\n"
    );
    for ou in ["people", "groups", "alumni"] {
        ldif.push_str(&format!(
            "dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        ));
    }
    ldif
}

fn person(uid: &str, display: &str) -> String {
    format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {display}\nsn: {uid}\n\
         displayName: {display}\nmail: {uid}@example.org\n\n"
    )
}

/// inetOrgPerson users and groupOfNames/groupOfUniqueNames groups, one nested group, a
/// non-ASCII display name (base64 in LDIF) and a `uniqueMember` with a UID suffix.
fn ldap_seed() -> String {
    let mut ldif = containers();
    for (uid, display) in [
        ("alice", "Alice Liddell"),
        ("bob", "Bob Builder"),
        ("carol", "Carol Danvers"),
        ("dave", "Dave Lister"),
    ] {
        ldif.push_str(&person(uid, display));
    }
    // "Zoë Brontë", base64.
    ldif.push_str(&format!(
        "dn: uid=zoe,{PEOPLE}\nobjectClass: inetOrgPerson\nuid: zoe\ncn: Zoe\nsn: Bronte\n\
         displayName:: Wm/DqyBCcm9udMOr\nmail: zoe@example.org\n\n"
    ));
    ldif.push_str(&format!(
        "dn: cn=devs,{GROUPS}\nobjectClass: groupOfNames\ncn: devs\ndescription: Developers\n\
         member: uid=alice,{PEOPLE}\nmember: uid=bob,{PEOPLE}\n\n\
         dn: cn=ops,{GROUPS}\nobjectClass: groupOfUniqueNames\ncn: ops\ndescription: Operations\n\
         uniqueMember: uid=carol,{PEOPLE}\nuniqueMember: uid=dave,{PEOPLE}#'0101'B\n\n\
         dn: cn=all,{GROUPS}\nobjectClass: groupOfNames\ncn: all\ndescription: Everyone\n\
         member: cn=devs,{GROUPS}\nmember: cn=ops,{GROUPS}\nmember: uid=zoe,{PEOPLE}\n\n"
    ));
    ldif
}

/// The `ldap` source for `slapd` bound as the non-admin sync account, users below ou=people
/// and groups below ou=groups (the sync search covers the whole suffix).
fn ldap_source(slapd: &Slapd, ws_password: &std::path::Path) -> SourceToml {
    SourceToml::new("ldap", slapd.url())
        .set("base", BASE)
        .set("bind_dn", SYNC_DN)
        .path("password_file", ws_password)
        .raw("timeout_seconds", "10")
        .table("users", &[("base", PEOPLE)])
        .table("groups", &[("base", GROUPS)])
}

fn ldap_view() -> View {
    View::ldap(PEOPLE, GROUPS)
}

/// The directory as the admin sees it.
fn directory(slapd: &Slapd, view: &View) -> State {
    let filter =
        "(|(objectClass=inetOrgPerson)(objectClass=posixAccount)(objectClass=groupOfNames)\
                  (objectClass=groupOfUniqueNames)(objectClass=posixGroup))";
    view.state(&slapd.search(BASE, filter, &view.operational()).unwrap())
}

/// A slapd with the ldap seed, ppolicy and the non-admin sync account.
fn ldap_server() -> Option<Slapd> {
    start(
        SlapdOptions::default()
            .with_overlay(Overlay::Ppolicy)
            .sync_account(true)
            .seed(Seed::Ldif(ldap_seed())),
    )
}

fn modify(slapd: &Slapd, dn: &str, change: &str) {
    slapd
        .modify_ldif(&format!("dn: {dn}\nchangetype: modify\n{change}\n"))
        .unwrap();
}

fn modrdn(slapd: &Slapd, dn: &str, new_rdn: &str, superior: Option<&str>) {
    let mut ldif = format!("dn: {dn}\nchangetype: modrdn\nnewrdn: {new_rdn}\ndeleteoldrdn: 1\n");
    if let Some(superior) = superior {
        ldif.push_str(&format!("newsuperior: {superior}\n"));
    }
    slapd.modify_ldif(&ldif).unwrap();
}

fn user(uid: &str) -> String {
    format!("uid={uid},{PEOPLE}")
}

fn group(cn: &str) -> String {
    format!("cn={cn},{GROUPS}")
}

#[test]
fn slapd_ldap_follow_applies_every_kind_of_change() {
    let started = Instant::now();
    let Some(slapd) = ldap_server() else { return };
    // The sync account is not the admin and reads nothing it does not need.
    let readable = slapd
        .search_as_sync(PEOPLE, "(uid=alice)", &["*", "+"])
        .unwrap();
    assert!(
        readable.contains("uid: alice") && !readable.contains("creatorsName"),
        "{readable}"
    );
    let ws = LdapWorkspace::new();
    let password = ws.password_file(SYNC_PASSWORD);
    ws.write_config(&ldap_source(&slapd, &password), OnDelete::Disable, "");
    let view = ldap_view();
    let mut expect = Expect::new(OnDelete::Disable);
    let runner = ws.follow();
    let log = || runner.log();

    let initial = directory(&slapd, &view);
    assert_eq!(initial.users.len(), 5);
    assert_eq!(
        initial.member_names("all"),
        ["alice", "bob", "carol", "dave", "zoe"]
    );
    expect.wait_equal("initial refresh", &ws, &initial, log);
    let bob = initial.user_id("bob");
    let carol = initial.user_id("carol");
    let bob_key = ws.user_key(&bob);
    let carol_key = ws.user_key(&carol);
    assert!(bob_key.is_some() && carol_key.is_some());

    slapd.add_ldif(&person("erin", "Erin Example")).unwrap();
    expect.wait_equal("add a user", &ws, &directory(&slapd, &view), log);

    modify(
        &slapd,
        &user("alice"),
        "replace: mail\nmail: alice@new.example.org\n-\nreplace: displayName\ndisplayName: Alice L.",
    );
    expect.wait_equal("modify", &ws, &directory(&slapd, &view), log);

    modrdn(&slapd, &user("bob"), "uid=robert", None);
    let renamed = directory(&slapd, &view);
    assert_eq!(renamed.users[&bob].name, "robert");
    assert!(
        renamed.member_names("devs").contains(&"robert".to_owned()),
        "refint follows the rename"
    );
    expect.wait_equal("rename (modrdn)", &ws, &renamed, log);
    assert_eq!(ws.user_key(&bob), bob_key, "a rename keeps the row");

    modrdn(&slapd, &user("carol"), "uid=carol", Some(ALUMNI));
    let moved = directory(&slapd, &view);
    assert!(!moved.users.contains_key(&carol));
    expect.wait_equal("move out of the users' base", &ws, &moved, log);
    modrdn(
        &slapd,
        &format!("uid=carol,{ALUMNI}"),
        "uid=carol",
        Some(PEOPLE),
    );
    let back = directory(&slapd, &view);
    assert!(
        back.member_names("ops").contains(&"carol".to_owned()),
        "the dangling uniqueMember resolves again"
    );
    expect.wait_equal("move back", &ws, &back, log);
    assert_eq!(
        ws.user_key(&carol),
        carol_key,
        "moving back re-enables the same row"
    );

    slapd.set_account_lock(&user("dave"), true).unwrap();
    let locked = directory(&slapd, &view);
    assert!(!locked.users[&locked.user_id("dave")].enabled);
    expect.wait_equal("lock (disable)", &ws, &locked, log);
    slapd.set_account_lock(&user("dave"), false).unwrap();
    expect.wait_equal("unlock (enable)", &ws, &directory(&slapd, &view), log);

    modify(
        &slapd,
        &group("devs"),
        &format!("add: member\nmember: {}", user("erin")),
    );
    expect.wait_equal("member add", &ws, &directory(&slapd, &view), log);
    modify(
        &slapd,
        &group("devs"),
        &format!("delete: member\nmember: {}", user("alice")),
    );
    expect.wait_equal("member remove", &ws, &directory(&slapd, &view), log);

    slapd
        .add_ldif(&format!(
            "dn: {}\nobjectClass: groupOfNames\ncn: leads\ndescription: Leads\nmember: {}\n",
            group("leads"),
            user("alice")
        ))
        .unwrap();
    modify(
        &slapd,
        &group("all"),
        &format!("add: member\nmember: {}", group("leads")),
    );
    let nested = directory(&slapd, &view);
    assert!(nested.member_names("all").contains(&"alice".to_owned()));
    expect.wait_equal("a nested group added", &ws, &nested, log);
    modify(
        &slapd,
        &group("all"),
        &format!("delete: member\nmember: {}", group("devs")),
    );
    expect.wait_equal(
        "a nested group removed",
        &ws,
        &directory(&slapd, &view),
        log,
    );
    // A group nested two levels deep: leads ∋ ops ∋ carol, dave.
    modify(
        &slapd,
        &group("leads"),
        &format!("add: member\nmember: {}", group("ops")),
    );
    expect.wait_equal("nested two levels", &ws, &directory(&slapd, &view), log);

    slapd.delete(&user("zoe")).unwrap();
    expect.wait_equal("delete a user", &ws, &directory(&slapd, &view), log);
    slapd.delete(&group("leads")).unwrap();
    expect.wait_equal("delete a group", &ws, &directory(&slapd, &view), log);

    let mut runner = runner;
    assert!(runner.is_running(), "the runner stopped:\n{}", runner.log());
    runner.signal(Signal::SIGTERM);
    let status = runner.wait_timeout(std::time::Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", runner.log());
    eprintln!("slapd follow scenario: {:?}", started.elapsed());
}

/// Every kind of change, made while no runner is running.
fn change_everything_ldap(slapd: &Slapd, round: &str) {
    slapd
        .add_ldif(&person(&format!("new{round}"), "New One"))
        .unwrap();
    modify(
        slapd,
        &user("alice"),
        &format!("replace: displayName\ndisplayName: Alice {round}"),
    );
    modrdn(slapd, &user("bob"), &format!("uid=bob{round}"), None);
    modrdn(slapd, &user("carol"), "uid=carol", Some(ALUMNI));
    slapd.set_account_lock(&user("dave"), true).unwrap();
    slapd.delete(&user("zoe")).unwrap();
    modify(
        slapd,
        &group("devs"),
        &format!("add: member\nmember: {}", user(&format!("new{round}"))),
    );
    modify(
        slapd,
        &group("devs"),
        &format!("delete: member\nmember: {}", user("alice")),
    );
    modify(
        slapd,
        &group("all"),
        &format!("delete: member\nmember: {}", group("ops")),
    );
}

/// The inverse kinds, for the second round (unlock, move back, nested group added back).
fn change_back_ldap(slapd: &Slapd, round: &str) {
    slapd.set_account_lock(&user("dave"), false).unwrap();
    modrdn(
        slapd,
        &format!("uid=carol,{ALUMNI}"),
        "uid=carol",
        Some(PEOPLE),
    );
    modify(
        slapd,
        &group("all"),
        &format!("add: member\nmember: {}", group("ops")),
    );
    modify(
        slapd,
        &group("devs"),
        &format!("add: member\nmember: {}", user("alice")),
    );
    slapd
        .add_ldif(&person(&format!("new{round}"), "Newer One"))
        .unwrap();
    slapd.delete(&user("new1")).unwrap();
}

#[test]
fn slapd_ldap_changes_made_while_the_runner_was_stopped() {
    let Some(mut slapd) = ldap_server() else {
        return;
    };
    let ws = LdapWorkspace::new();
    let password = ws.password_file(SYNC_PASSWORD);
    ws.write_config(&ldap_source(&slapd, &password), OnDelete::Disable, "");
    let view = ldap_view();
    let mut expect = Expect::new(OnDelete::Disable);

    let mut runner = ws.follow();
    expect.wait_equal("initial refresh", &ws, &directory(&slapd, &view), || {
        runner.log()
    });
    let stop = |runner: &mut idsync_testkit::runner::RunnerProcess| {
        runner.signal(Signal::SIGTERM);
        let status = runner.wait_timeout(std::time::Duration::from_secs(10));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", runner.log());
    };
    stop(&mut runner);
    let cookie = ws.cookie();
    assert!(cookie.is_some(), "a cookie was stored");

    // Round 1: slapd keeps running (its sessionlog knows the deletes).
    change_everything_ldap(&slapd, "1");
    let runner = ws.follow();
    let after = directory(&slapd, &view);
    expect.wait_equal("restart after changes", &ws, &after, || runner.log());
    assert_ne!(ws.cookie(), cookie, "the new cookie was stored");
    drop(runner);

    // Round 2: the inverse changes, and slapd restarted meanwhile (sessionlog lost: the
    // server answers with a present phase from which deletes are deduced).
    change_back_ldap(&slapd, "2");
    slapd.restart().unwrap();
    let runner = ws.follow();
    expect.wait_equal(
        "restart after changes and a server restart",
        &ws,
        &directory(&slapd, &view),
        || runner.log(),
    );
}

#[test]
fn slapd_restarted_during_persist() {
    let Some(mut slapd) = ldap_server() else {
        return;
    };
    let ws = LdapWorkspace::new();
    let password = ws.password_file(SYNC_PASSWORD);
    ws.write_config(&ldap_source(&slapd, &password), OnDelete::Disable, "");
    let view = ldap_view();
    let mut expect = Expect::new(OnDelete::Disable);
    let mut runner = ws.follow();
    expect.wait_equal("initial refresh", &ws, &directory(&slapd, &view), || {
        runner.log()
    });
    // A change that lands before the restart, so the cookie is a persist one.
    slapd.add_ldif(&person("before", "Before Restart")).unwrap();
    expect.wait_equal("before the restart", &ws, &directory(&slapd, &view), || {
        runner.log()
    });

    slapd.restart().unwrap();
    slapd.add_ldif(&person("after", "After Restart")).unwrap();
    slapd.delete(&user("before")).unwrap();
    slapd.set_account_lock(&user("alice"), true).unwrap();
    modify(
        &slapd,
        &group("devs"),
        &format!("add: member\nmember: {}", user("after")),
    );
    expect.wait_equal("after the restart", &ws, &directory(&slapd, &view), || {
        runner.log()
    });
    assert!(runner.is_running(), "the runner gave up:\n{}", runner.log());

    // The server goes away for a while: the runner keeps retrying and resumes.
    slapd.stop().unwrap();
    assert!(
        idsync_testkit::runner::wait_until(std::time::Duration::from_secs(10), || runner
            .log()
            .contains("reconnecting")),
        "no reconnect attempt logged:\n{}",
        runner.log()
    );
    slapd.restart().unwrap();
    slapd.delete(&user("after")).unwrap();
    expect.wait_equal("after an outage", &ws, &directory(&slapd, &view), || {
        runner.log()
    });
    assert!(runner.is_running(), "the runner gave up:\n{}", runner.log());
}

#[test]
fn slapd_unusable_cookies_lead_to_a_full_refresh_with_sweep() {
    let Some(slapd) = ldap_server() else { return };
    let ws = LdapWorkspace::new();
    let password = ws.password_file(SYNC_PASSWORD);
    ws.write_config(&ldap_source(&slapd, &password), OnDelete::Disable, "");
    let view = ldap_view();
    let mut expect = Expect::new(OnDelete::Disable);
    let out = ws.sync_once();
    expect.assert_equal("initial", &ws, &directory(&slapd, &view), &out.stderr);

    for (round, cookie) in [
        // A CSN from the future: "consumer state is newer than provider".
        (1, "rid=000,csn=29991231000000.000000Z#000000#000#000000"),
        // Not a cookie at all.
        (2, "garbage"),
    ] {
        // Deletes and changes the server would only report relative to a valid cookie.
        slapd
            .delete(&user(if round == 1 { "zoe" } else { "dave" }))
            .unwrap();
        modify(
            &slapd,
            &user("alice"),
            &format!("replace: displayName\ndisplayName: Round {round}"),
        );
        ws.set_cookie(cookie);
        let out = ws.sync_once();
        expect.assert_equal(
            &format!("unusable cookie {cookie}"),
            &ws,
            &directory(&slapd, &view),
            &out.stderr,
        );
        let stored = ws.cookie().unwrap_or_default();
        assert!(
            stored.contains("csn=") && stored != cookie,
            "a fresh cookie: {stored}"
        );
    }
}

/// posixAccount + shadowAccount users and posixGroup groups with `memberUid`.
fn rfc2307_seed() -> String {
    let mut ldif = containers();
    for (number, uid) in ["alice", "bob", "carol"].iter().enumerate() {
        ldif.push_str(&posix_user(uid, 10_000 + number));
    }
    ldif.push_str(&format!(
        "dn: cn=wheel,{GROUPS}\nobjectClass: posixGroup\ncn: wheel\ngidNumber: 20000\n\
         description: Admins\nmemberUid: alice\nmemberUid: bob\n\n\
         dn: cn=users,{GROUPS}\nobjectClass: posixGroup\ncn: users\ngidNumber: 20001\n\
         memberUid: alice\nmemberUid: bob\nmemberUid: carol\nmemberUid: ghost\n\n"
    ));
    ldif
}

fn posix_user(uid: &str, number: usize) -> String {
    format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
         objectClass: shadowAccount\nuid: {uid}\ncn: {uid}\nsn: {uid}\ndisplayName: {uid} posix\n\
         mail: {uid}@example.org\nuidNumber: {number}\ngidNumber: 20001\nhomeDirectory: /home/{uid}\n\n"
    )
}

#[test]
fn slapd_rfc2307_member_uid_groups_and_shadow_expire() {
    let Some(slapd) = start(SlapdOptions::default().seed(Seed::Ldif(rfc2307_seed()))) else {
        return;
    };
    // Admin bind (the other tests use the sync account); on_delete = delete.
    let source = SourceToml::new("rfc2307", slapd.url())
        .set("base", BASE)
        .set("bind_dn", slapd.admin_dn())
        .set("password_env", "IDSYNC_E2E_LDAP_PASSWORD")
        .table("users", &[("base", PEOPLE)])
        .table("groups", &[("base", GROUPS)]);
    let ws = LdapWorkspace::new();
    ws.write_config(&source, OnDelete::Delete, "");
    let view = View::rfc2307(PEOPLE, GROUPS);
    let mut expect = Expect::new(OnDelete::Delete);
    let runner = idsync_testkit::runner::RunnerProcess::spawn_with_env(
        &["sync", "--config", "idsync.toml"],
        ws.path(),
        &[("IDSYNC_E2E_LDAP_PASSWORD", slapd.admin_password())],
    );
    let log = || runner.log();
    let initial = directory(&slapd, &view);
    assert_eq!(
        initial.member_names("users"),
        ["alice", "bob", "carol"],
        "`ghost` is no user"
    );
    expect.wait_equal("initial refresh", &ws, &initial, log);

    slapd.add_ldif(&posix_user("dave", 10_003)).unwrap();
    modify(&slapd, &group("wheel"), "add: memberUid\nmemberUid: dave");
    expect.wait_equal(
        "add a user and a memberUid",
        &ws,
        &directory(&slapd, &view),
        log,
    );
    modify(
        &slapd,
        &group("wheel"),
        "delete: memberUid\nmemberUid: alice",
    );
    expect.wait_equal("memberUid removed", &ws, &directory(&slapd, &view), log);

    // A rename leaves `memberUid: bob` dangling: bob's account leaves both groups…
    modrdn(&slapd, &user("bob"), "uid=robert", None);
    let renamed = directory(&slapd, &view);
    assert!(!renamed.member_names("wheel").contains(&"robert".to_owned()));
    expect.wait_equal("rename of a memberUid member", &ws, &renamed, log);
    // …and a new user called `ghost` is found by the name the group held all along.
    slapd.add_ldif(&posix_user("ghost", 10_004)).unwrap();
    let ghost = directory(&slapd, &view);
    assert!(ghost.member_names("users").contains(&"ghost".to_owned()));
    expect.wait_equal("a user appears for a dangling memberUid", &ws, &ghost, log);

    // shadowExpire in the past disables; -1 (never) enables again.
    modify(
        &slapd,
        &user("carol"),
        "replace: shadowExpire\nshadowExpire: 1",
    );
    let expired = directory(&slapd, &view);
    assert!(!expired.users[&expired.user_id("carol")].enabled);
    expect.wait_equal("shadowExpire reached", &ws, &expired, log);
    modify(
        &slapd,
        &user("carol"),
        "replace: shadowExpire\nshadowExpire: -1",
    );
    expect.wait_equal("shadowExpire never", &ws, &directory(&slapd, &view), log);

    slapd.delete(&user("alice")).unwrap();
    expect.wait_equal(
        "delete a user (on_delete = delete)",
        &ws,
        &directory(&slapd, &view),
        log,
    );
    slapd.delete(&group("wheel")).unwrap();
    expect.wait_equal("delete a group", &ws, &directory(&slapd, &view), log);
}

#[test]
fn slapd_tls_with_a_test_ca_and_refusal_of_an_untrusted_certificate() {
    let Some(slapd) = start(
        SlapdOptions::default()
            .tls(true)
            .sync_account(true)
            .seed(Seed::Ldif(ldap_seed())),
    ) else {
        return;
    };
    let pki = slapd.pki().unwrap().clone();
    let ldaps = slapd.ldaps_url().unwrap().to_owned();
    let view = ldap_view();
    let password_dir = tempfile::tempdir().unwrap();
    let password = password_dir.path().join("pw");
    std::fs::write(&password, SYNC_PASSWORD).unwrap();
    let with_url = |url: &str| {
        SourceToml::new("ldap", url)
            .set("base", BASE)
            .table("users", &[("base", PEOPLE)])
            .table("groups", &[("base", GROUPS)])
    };
    let password_bind = |toml: SourceToml| {
        toml.set("bind_dn", SYNC_DN)
            .path("password_file", &password)
    };
    let fail_fast = "retry_max_attempts = 1\n";

    // Refused: a server certificate from a CA we do not trust, over ldaps and StartTLS, and
    // with the system roots (no ca_file). Nothing is written.
    for (what, toml) in [
        (
            "ldaps, untrusted CA",
            password_bind(with_url(&ldaps)).path("ca_file", &pki.untrusted_ca_cert()),
        ),
        (
            "StartTLS, untrusted CA",
            password_bind(with_url(slapd.url()))
                .raw("starttls", "true")
                .path("ca_file", &pki.untrusted_ca_cert()),
        ),
        ("ldaps, system roots", password_bind(with_url(&ldaps))),
    ] {
        let ws = LdapWorkspace::new();
        ws.write_config(&toml, OnDelete::Disable, fail_fast);
        let out = ws.try_sync_once();
        assert_ne!(out.code, Some(0), "{what}: accepted:\n{}", out.stderr);
        let text = out.stderr.to_lowercase();
        assert!(
            text.contains("certificate") || text.contains("tls"),
            "{what}: the error does not name the certificate problem:\n{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains(SYNC_PASSWORD),
            "{what}: the password was logged"
        );
        let users = ws
            .db()
            .try_query("select count(*) from users")
            .map(|rows| rows[0][0].clone().unwrap_or_default())
            .unwrap_or_else(|_| "0".into());
        assert_eq!(users, "0", "{what}: something was written");
    }

    // Accepted with the test CA and verification on (the default): ldaps, StartTLS, and
    // SASL EXTERNAL with a client certificate (mapped to the sync account).
    for (what, toml) in [
        (
            "ldaps",
            password_bind(with_url(&ldaps)).path("ca_file", &pki.ca_cert()),
        ),
        (
            "StartTLS",
            password_bind(with_url(slapd.url()))
                .raw("starttls", "true")
                .path("ca_file", &pki.ca_cert()),
        ),
        (
            "ldaps + SASL EXTERNAL",
            with_url(&ldaps)
                .path("ca_file", &pki.ca_cert())
                .set("sasl_mechanism", "EXTERNAL")
                .path("client_cert_file", &pki.client_cert())
                .path("client_key_file", &pki.client_key()),
        ),
    ] {
        let ws = LdapWorkspace::new();
        ws.write_config(&toml, OnDelete::Disable, fail_fast);
        let mut expect = Expect::new(OnDelete::Disable);
        let out = ws.try_sync_once();
        assert_eq!(out.code, Some(0), "{what}: failed:\n{}", out.stderr);
        expect.assert_equal(what, &ws, &directory(&slapd, &view), &out.stderr);
    }
}
