//! End to end against a real 389 Directory Server with FreeIPA-shaped data: `idsync sync` with
//! the `freeipa` source, bound as the non-admin FreeIPA system account (read ACI on
//! `cn=accounts`, no limits), into the sql plugin on SQLite. After every step the whole sink
//! must equal the directory as an independent `ldapsearch` shows it (`ldap_e2e_support`).
//!
//! Covered: initial refresh (FreeIPA's internal groups left out, `nsAccountLock` users
//! disabled, nested groups two levels deep); add, modify, rename (modrdn), move out of the view
//! and back (what `ipa user-del --preserve` / `ipa user-undel` do), delete, lock/unlock; member
//! add and remove, nested groups; the runner stopped while every kind of change is made, then
//! restarted; the server restarted during persist; unusable cookies (the retro changelog
//! trimmed past the stored cookie, a cookie without changenumber).

use std::time::{Duration, Instant};

use idsync_testkit::ds389::{Ds389, Ds389Options, SUFFIX, SYNC_DN, SYNC_PASSWORD};
use idsync_testkit::runner::{wait_until, RunnerProcess};
use idsync_testkit::servers::missing_server;
use nix::sys::signal::Signal;

use crate::ldap_e2e_support::{Expect, LdapWorkspace, OnDelete, SourceToml, State, View};

/// Where `ipa user-del --preserve` moves a user.
const DELETED_USERS: &str = "cn=deleted users,cn=accounts,cn=provisioning,dc=example,dc=org";

fn start(options: Ds389Options) -> Option<Ds389> {
    if let Err(why) = Ds389::available() {
        missing_server("389-ds", &why);
        return None;
    }
    Some(Ds389::start(options).unwrap())
}

/// The freeipa source bound as the sync account, and a workspace for it.
fn workspace(ds: &Ds389, on_delete: OnDelete, extra_sync: &str) -> LdapWorkspace {
    let ws = LdapWorkspace::new();
    let password = ws.password_file(SYNC_PASSWORD);
    let source = SourceToml::new("freeipa", ds.url())
        .set("domain", "example.org")
        .set("bind_dn", SYNC_DN)
        .path("password_file", &password)
        .raw("timeout_seconds", "10");
    ws.write_config(&source, on_delete, extra_sync);
    ws
}

/// The directory as the Directory Manager sees it.
fn directory(ds: &Ds389) -> State {
    let view = View::freeipa();
    let ldif = ds
        .search(
            "cn=accounts,dc=example,dc=org",
            "(|(objectClass=person)(objectClass=ipaUserGroup))",
            &view.operational(),
        )
        .unwrap();
    view.state(&ldif)
}

/// A FreeIPA-shaped user (ipaObject needs an ipaUniqueID; FreeIPA's uniqueid plugin would
/// generate it).
fn ipa_user(uid: &str, number: u32) -> String {
    format!(
        "dn: uid={uid},cn=users,cn=accounts,{SUFFIX}
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: inetUser
objectClass: posixAccount
objectClass: ipaObject
uid: {uid}
cn: New {uid}
givenName: New
sn: {uid}
displayName: New {uid}
mail: {uid}@example.org
uidNumber: {number}
gidNumber: {number}
homeDirectory: /home/{uid}
ipaUniqueID: 00000000-0000-4000-8000-{number:012}
"
    )
}

fn ipa_group(cn: &str, number: u32, members: &[String]) -> String {
    let mut ldif = format!(
        "dn: cn={cn},cn=groups,cn=accounts,{SUFFIX}
objectClass: top
objectClass: groupOfNames
objectClass: nestedGroup
objectClass: ipaUserGroup
objectClass: ipaObject
objectClass: posixGroup
cn: {cn}
description: Group {cn}
gidNumber: {number}
ipaUniqueID: 00000000-0000-4000-9000-{number:012}
"
    );
    for member in members {
        ldif.push_str(&format!("member: {member}\n"));
    }
    ldif
}

/// The `cn=provisioning` containers of FreeIPA (outside the sync account's view).
fn add_provisioning(ds: &Ds389) {
    ds.add_ldif(&format!(
        "dn: cn=provisioning,{SUFFIX}\nobjectClass: top\nobjectClass: nsContainer\ncn: provisioning\n\n\
         dn: cn=accounts,cn=provisioning,{SUFFIX}\nobjectClass: top\nobjectClass: nsContainer\ncn: accounts\n\n\
         dn: {DELETED_USERS}\nobjectClass: top\nobjectClass: nsContainer\ncn: deleted users\n"
    ))
    .unwrap();
}

fn stop(runner: &mut RunnerProcess) {
    runner.signal(Signal::SIGTERM);
    let status = runner.wait_timeout(Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", runner.log());
}

#[test]
fn ds389_freeipa_follow_applies_every_kind_of_change() {
    let started = Instant::now();
    let Some(ds) = start(Ds389Options::default()) else {
        return;
    };
    add_provisioning(&ds);
    let ws = workspace(&ds, OnDelete::Disable, "");
    let mut expect = Expect::new(OnDelete::Disable);
    let runner = ws.follow();
    let log = || runner.log();

    let initial = directory(&ds);
    assert_eq!(initial.users.len(), 21);
    assert!(
        !initial.groups.values().any(|g| g.name == "ipausers"),
        "internal groups are out"
    );
    assert!(!initial.users[&initial.user_id("user00005")].enabled);
    // staff ∋ allteams ∋ team0001 ∋ user00002: two levels of nesting.
    assert!(initial
        .member_names("staff")
        .contains(&"user00002".to_owned()));
    expect.wait_equal("initial refresh", &ws, &initial, log);
    let user2 = initial.user_id("user00002");
    let user3 = initial.user_id("user00003");
    let user2_key = ws.user_key(&user2);
    let user3_key = ws.user_key(&user3);
    assert!(user2_key.is_some() && user3_key.is_some());

    ds.add_ldif(&ipa_user("newbie", 100_500)).unwrap();
    expect.wait_equal("add a user", &ws, &directory(&ds), log);

    ds.replace(&ds.user_dn("user00001"), "mail", &["first@new.example.org"])
        .unwrap();
    ds.replace(&ds.user_dn("user00001"), "displayName", &["The First"])
        .unwrap();
    expect.wait_equal("modify", &ws, &directory(&ds), log);

    ds.modrdn(&ds.user_dn("user00002"), "uid=renamed2", None)
        .unwrap();
    let renamed = directory(&ds);
    assert_eq!(renamed.users[&user2].name, "renamed2");
    assert!(
        renamed
            .member_names("team0001")
            .contains(&"renamed2".to_owned()),
        "referential integrity"
    );
    expect.wait_equal("rename (modrdn)", &ws, &renamed, log);
    assert_eq!(ws.user_key(&user2), user2_key, "a rename keeps the row");

    // `ipa user-del --preserve`: out of cn=accounts (and out of the sync account's reach).
    ds.modrdn(
        &ds.user_dn("user00003"),
        "uid=user00003",
        Some(DELETED_USERS),
    )
    .unwrap();
    let preserved = directory(&ds);
    assert!(!preserved.users.contains_key(&user3));
    expect.wait_equal("move out of the view", &ws, &preserved, log);
    // `ipa user-undel`.
    ds.modrdn(
        &format!("uid=user00003,{DELETED_USERS}"),
        "uid=user00003",
        Some(ds.users_dn()),
    )
    .unwrap();
    let back = directory(&ds);
    expect.wait_equal("move back into the view", &ws, &back, log);
    assert_eq!(ws.user_key(&user3), user3_key, "the same row comes back");

    ds.set_account_lock(&ds.user_dn("user00004"), true).unwrap();
    expect.wait_equal("lock (nsAccountLock)", &ws, &directory(&ds), log);
    ds.set_account_lock(&ds.user_dn("user00005"), false)
        .unwrap();
    let unlocked = directory(&ds);
    assert!(unlocked.users[&unlocked.user_id("user00005")].enabled);
    expect.wait_equal("unlock", &ws, &unlocked, log);

    ds.add_member(&ds.group_dn("team0002"), &ds.user_dn("newbie"))
        .unwrap();
    expect.wait_equal("member add", &ws, &directory(&ds), log);
    ds.remove_member(&ds.group_dn("team0001"), &ds.user_dn("user00001"))
        .unwrap();
    let removed = directory(&ds);
    assert!(
        removed
            .member_names("allteams")
            .contains(&"user00001".to_owned()),
        "still a direct member of allteams"
    );
    expect.wait_equal("member remove", &ws, &removed, log);

    ds.add_ldif(&ipa_group("leads", 100_600, &[ds.user_dn("newbie")]))
        .unwrap();
    ds.add_member(&ds.group_dn("staff"), &ds.group_dn("leads"))
        .unwrap();
    expect.wait_equal("a nested group added", &ws, &directory(&ds), log);
    ds.remove_member(&ds.group_dn("allteams"), &ds.group_dn("team0002"))
        .unwrap();
    expect.wait_equal("a nested group removed", &ws, &directory(&ds), log);

    ds.delete(&ds.user_dn("user00006")).unwrap();
    expect.wait_equal("delete a user", &ws, &directory(&ds), log);
    ds.delete(&ds.group_dn("team0003")).unwrap();
    expect.wait_equal("delete a group", &ws, &directory(&ds), log);

    let mut runner = runner;
    assert!(runner.is_running(), "the runner stopped:\n{}", runner.log());
    stop(&mut runner);
    eprintln!("389 follow scenario: {:?}", started.elapsed());
}

#[test]
fn ds389_changes_made_while_the_runner_was_stopped() {
    let Some(ds) = start(Ds389Options::default()) else {
        return;
    };
    add_provisioning(&ds);
    let ws = workspace(&ds, OnDelete::Disable, "");
    let mut expect = Expect::new(OnDelete::Disable);
    let mut runner = ws.follow();
    expect.wait_equal("initial refresh", &ws, &directory(&ds), || runner.log());
    stop(&mut runner);
    let cookie = ws.cookie();

    ds.add_ldif(&ipa_user("newbie", 100_500)).unwrap();
    ds.replace(
        &ds.user_dn("user00001"),
        "displayName",
        &["Changed Offline"],
    )
    .unwrap();
    ds.modrdn(&ds.user_dn("user00002"), "uid=renamed2", None)
        .unwrap();
    ds.modrdn(
        &ds.user_dn("user00003"),
        "uid=user00003",
        Some(DELETED_USERS),
    )
    .unwrap();
    ds.set_account_lock(&ds.user_dn("user00004"), true).unwrap();
    ds.set_account_lock(&ds.user_dn("user00005"), false)
        .unwrap();
    ds.delete(&ds.user_dn("user00006")).unwrap();
    ds.add_member(&ds.group_dn("team0002"), &ds.user_dn("newbie"))
        .unwrap();
    ds.remove_member(&ds.group_dn("team0003"), &ds.user_dn("user00011"))
        .unwrap();
    ds.remove_member(&ds.group_dn("allteams"), &ds.group_dn("team0004"))
        .unwrap();
    ds.delete(&ds.group_dn("team0001")).unwrap();

    let runner = ws.follow();
    let after = directory(&ds);
    expect.wait_equal("restarted after changes", &ws, &after, || runner.log());
    assert_ne!(ws.cookie(), cookie);
    drop(runner);

    // The runner killed (not stopped) this time; then the inverse changes.
    ds.modrdn(
        &format!("uid=user00003,{DELETED_USERS}"),
        "uid=user00003",
        Some(ds.users_dn()),
    )
    .unwrap();
    ds.set_account_lock(&ds.user_dn("user00004"), false)
        .unwrap();
    ds.add_member(&ds.group_dn("allteams"), &ds.group_dn("team0004"))
        .unwrap();
    ds.delete(&ds.user_dn("newbie")).unwrap();
    let runner = ws.follow();
    expect.wait_equal("restarted after a kill", &ws, &directory(&ds), || {
        runner.log()
    });
}

#[test]
fn ds389_restarted_during_persist() {
    let Some(mut ds) = start(Ds389Options::default().access_log(false)) else {
        return;
    };
    let ws = workspace(&ds, OnDelete::Disable, "");
    let mut expect = Expect::new(OnDelete::Disable);
    let runner = ws.follow();
    expect.wait_equal("initial refresh", &ws, &directory(&ds), || runner.log());
    ds.add_ldif(&ipa_user("before", 100_501)).unwrap();
    expect.wait_equal("before the restart", &ws, &directory(&ds), || runner.log());

    ds.restart().unwrap();
    ds.add_ldif(&ipa_user("after", 100_502)).unwrap();
    ds.delete(&ds.user_dn("before")).unwrap();
    ds.set_account_lock(&ds.user_dn("user00001"), true).unwrap();
    ds.add_member(&ds.group_dn("team0001"), &ds.user_dn("after"))
        .unwrap();
    expect.wait_equal("after a graceful restart", &ws, &directory(&ds), || {
        runner.log()
    });

    ds.kill_and_restart().unwrap();
    ds.delete(&ds.user_dn("after")).unwrap();
    ds.replace(&ds.user_dn("user00007"), "mail", &["seven@example.org"])
        .unwrap();
    expect.wait_equal("after a crash and restart", &ws, &directory(&ds), || {
        runner.log()
    });
    let mut runner = runner;
    assert!(runner.is_running(), "the runner gave up:\n{}", runner.log());
}

#[test]
fn ds389_unusable_cookies_lead_to_a_full_refresh_with_sweep() {
    let Some(ds) = start(
        Ds389Options::default()
            .changelog_max_age("2s")
            .access_log(false),
    ) else {
        return;
    };
    let ws = workspace(&ds, OnDelete::Disable, "");
    let mut expect = Expect::new(OnDelete::Disable);
    let out = ws.sync_once();
    expect.assert_equal("initial", &ws, &directory(&ds), &out.stderr);
    // A change, so that the stored cookie is a changelog position.
    ds.replace(&ds.user_dn("user00001"), "displayName", &["One"])
        .unwrap();
    let out = ws.sync_once();
    expect.assert_equal("one change", &ws, &directory(&ds), &out.stderr);
    let cookie = ws.cookie().unwrap();
    let number: u64 = cookie
        .rsplit_once('#')
        .and_then(|(_, n)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("not a 389-ds cookie: {cookie}"));

    // The runner is stopped; a delete and changes happen; the changelog is trimmed past the
    // stored cookie, so an incremental refresh would lose the delete.
    ds.delete(&ds.user_dn("user00008")).unwrap();
    ds.replace(&ds.user_dn("user00009"), "mail", &["nine@example.org"])
        .unwrap();
    let trimmed = wait_until(Duration::from_secs(20), || {
        // Keep the changelog non-empty so that firstchangenumber moves on.
        ds.replace(&ds.user_dn("user00010"), "description", &["tick"])
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        ds.changelog_numbers()
            .unwrap()
            .first
            .is_some_and(|first| first > number + 3)
    });
    assert!(
        trimmed,
        "the changelog was not trimmed: {:?}",
        ds.changelog_numbers()
    );
    let out = ws.sync_once();
    expect.assert_equal(
        "changelog trimmed past the cookie",
        &ws,
        &directory(&ds),
        &out.stderr,
    );

    // A cookie without changenumber (what 389-ds sends when its retro changelog does not
    // cover the view).
    ds.delete(&ds.user_dn("user00011")).unwrap();
    let cookie = ws.cookie().unwrap();
    let (head, _) = cookie.rsplit_once('#').unwrap();
    ws.set_cookie(&format!("{head}#4294967295"));
    let out = ws.sync_once();
    expect.assert_equal(
        "a cookie without changenumber",
        &ws,
        &directory(&ds),
        &out.stderr,
    );
}
