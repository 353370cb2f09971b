//! The test kit's private 389 Directory Server: golden + clone, FreeIPA-shaped data, content
//! sync as the non-admin account, restart, drop.

use std::path::Path;
use std::time::{Duration, Instant};

use idsync_testkit::ds389::{Bind, Ds389, Ds389Options, Ds389Seed, IpaSeed, SYNC_CONTROL_OID};
use idsync_testkit::servers::missing_server;

/// Starts an instance with `options`, or returns None when 389-ds cannot run here (a loud
/// skip, or a panic with IDSYNC_REQUIRE_SERVERS=1).
fn start(options: Ds389Options) -> Option<Ds389> {
    if let Err(why) = Ds389::available() {
        missing_server("389-ds", &why);
        return None;
    }
    let started = Instant::now();
    let ds = Ds389::start(options).unwrap();
    eprintln!("389-ds started in {:?} at {}", started.elapsed(), ds.url());
    Some(ds)
}

fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => status
            .lines()
            .any(|line| line.starts_with("State:") && line.contains('Z')),
        Err(_) => true,
    }
}

/// The values of `attr` in an LDIF text (unwrapped).
fn values<'a>(ldif: &'a str, attr: &str) -> Vec<&'a str> {
    let prefix = format!("{attr}: ");
    ldif.lines()
        .filter_map(|line| line.strip_prefix(prefix.as_str()))
        .collect()
}

#[test]
fn root_dse_lists_the_sync_control_and_the_changelog() {
    let Some(ds) = start(Ds389Options::default()) else {
        return;
    };
    let dse = ds.root_dse().unwrap();
    assert!(
        dse.lines()
            .any(|line| line == format!("supportedControl: {SYNC_CONTROL_OID}")),
        "{dse}"
    );
    assert!(dse.contains("namingContexts: cn=changelog"), "{dse}");
    assert!(dse.contains("namingContexts: dc=example,dc=org"), "{dse}");
    assert!(ds.url().starts_with("ldap://127.0.0.1:"));
    // Loopback only: the listen host in the live config.
    let config = ds
        .search("cn=config", "(objectClass=*)", &["nsslapd-listenhost"])
        .unwrap();
    assert!(config.contains("nsslapd-listenhost: 127.0.0.1"), "{config}");
    let plugins = ds
        .search(
            "cn=plugins,cn=config",
            "(|(cn=Retro Changelog Plugin)(cn=Content Synchronization)(cn=MemberOf Plugin))",
            &["nsslapd-pluginEnabled", "nsslapd-attribute"],
        )
        .unwrap();
    assert_eq!(
        values(&plugins, "nsslapd-pluginEnabled"),
        ["on", "on", "on"],
        "{plugins}"
    );
    assert!(
        plugins.contains("nsslapd-attribute: nsuniqueid:targetUniqueId"),
        "{plugins}"
    );
}

#[test]
fn sync_account_refresh_returns_the_seeded_users_with_nsuniqueid() {
    let Some(ds) = start(Ds389Options::default()) else {
        return;
    };
    let directory = ds.directory().unwrap().clone();
    let refresh = ds
        .sync_refresh_only(
            Bind::Sync,
            "cn=accounts,dc=example,dc=org",
            "(objectClass=posixAccount)",
            None,
            &["uid", "nsUniqueId", "nsAccountLock", "memberOf"],
        )
        .unwrap();
    let output = &refresh.output;
    let uids = values(output, "uid");
    assert_eq!(uids.len(), directory.users.len(), "{output}");
    for user in &directory.users {
        assert!(
            uids.contains(&user.uid.as_str()),
            "{} missing: {output}",
            user.uid
        );
    }
    assert_eq!(
        values(output, "nsUniqueId").len(),
        directory.users.len(),
        "{output}"
    );
    let locked = directory.users.iter().filter(|user| user.locked).count();
    assert_eq!(values(output, "nsAccountLock").len(), locked, "{output}");
    assert!(locked > 0);
    // memberOf was precomputed (nested closure) by the import.
    let staff = ds.group_dn("staff");
    assert!(
        values(output, "memberOf").contains(&staff.as_str()),
        "{output}"
    );
    let cookie = refresh
        .cookie
        .unwrap_or_else(|| panic!("no cookie: {output}"));
    assert!(
        cookie.contains("uid=idsync,cn=sysaccounts,cn=etc,dc=example,dc=org"),
        "{cookie}"
    );

    // Anonymous may not use the sync control; the admin may.
    assert!(ds
        .sync_refresh_only(Bind::Anonymous, ds.suffix(), "(uid=*)", None, &["uid"])
        .is_err());
    // The sync account reads no passwords and nothing outside its ACI.
    let own = ds
        .search_as(
            Bind::Sync,
            ds.sync_dn(),
            "(objectClass=*)",
            &["userPassword"],
        )
        .unwrap();
    assert!(!own.contains("userPassword"), "{own}");
}

#[test]
fn changes_show_up_in_a_cookie_refresh_and_the_changelog() {
    let Some(ds) = start(Ds389Options::default().seed(Ds389Seed::Ipa(IpaSeed {
        users: 60,
        locked_every: 0,
        team_size: 20,
    }))) else {
        return;
    };
    // 60 users + admin: more than 50, the FreeIPA shape holds.
    assert_eq!(
        ds.count(ds.users_dn(), "(objectClass=ipaObject)").unwrap(),
        61
    );
    assert_eq!(ds.count(ds.users_dn(), "(nsAccountLock=TRUE)").unwrap(), 0);
    let first = ds
        .sync_refresh_only(Bind::Sync, ds.users_dn(), "(objectClass=*)", None, &["uid"])
        .unwrap();
    let cookie = first.cookie.unwrap();
    let before = ds.changelog_numbers().unwrap();

    let user7 = ds.user_dn("user00007");
    ds.set_account_lock(&user7, true).unwrap();
    let locked = ds
        .search(&user7, "(objectClass=*)", &["nsAccountLock"])
        .unwrap();
    assert!(locked.contains("nsAccountLock: TRUE"), "{locked}");
    ds.add_member(&ds.group_dn("editors"), &user7).unwrap();
    let member_of = ds.search(&user7, "(objectClass=*)", &["memberOf"]).unwrap();
    assert!(member_of.contains("memberOf: cn=editors,"), "{member_of}");
    ds.remove_member(&ds.group_dn("editors"), &user7).unwrap();
    ds.modrdn(&ds.user_dn("user00008"), "uid=renamed8", None)
        .unwrap();
    ds.delete(&ds.user_dn("user00009")).unwrap();
    ds.set_account_lock(&user7, false).unwrap();
    let unlocked = ds
        .search(&user7, "(objectClass=*)", &["nsAccountLock"])
        .unwrap();
    assert!(!unlocked.contains("nsAccountLock"), "{unlocked}");

    let after = ds.changelog_numbers().unwrap();
    assert!(after.last > before.last, "{before:?} → {after:?}");
    let second = ds
        .sync_refresh_only(
            Bind::Sync,
            ds.users_dn(),
            "(objectClass=*)",
            Some(&cookie),
            &["uid"],
        )
        .unwrap();
    assert!(
        second.output.contains("dn: uid=renamed8,"),
        "{}",
        second.output
    );
    assert!(
        second.output.contains("dn: uid=user00007,"),
        "{}",
        second.output
    );
    assert!(
        !second.output.contains("dn: uid=user00020,"),
        "{}",
        second.output
    );
    assert_ne!(second.cookie.as_deref(), Some(cookie.as_str()));
}

#[test]
fn a_clone_starts_fast_and_restarts_keep_the_data() {
    let Some(_warm) = start(Ds389Options::default()) else {
        return;
    };
    // The golden exists now: a second instance is only a copy.
    let started = Instant::now();
    let mut ds = Ds389::start(Ds389Options::default()).unwrap();
    let clone_time = started.elapsed();
    eprintln!("389-ds clone started in {clone_time:?}");
    assert!(clone_time < Duration::from_secs(5), "{clone_time:?}");

    let user3 = ds.user_dn("user00003");
    ds.replace(&user3, "displayName", &["Before restart"])
        .unwrap();
    let (port, old_pid) = (ds.port(), ds.pid().unwrap());
    let started = Instant::now();
    ds.restart().unwrap();
    eprintln!("389-ds graceful restart in {:?}", started.elapsed());
    assert!(gone(old_pid), "pid {old_pid} still running");
    assert_ne!(ds.pid(), Some(old_pid));
    assert_eq!(ds.port(), port);
    let user = ds
        .search(&user3, "(objectClass=*)", &["displayName"])
        .unwrap();
    assert!(user.contains("displayName: Before restart"), "{user}");

    ds.replace(&user3, "displayName", &["Before kill"]).unwrap();
    let old_pid = ds.pid().unwrap();
    let started = Instant::now();
    ds.kill_and_restart().unwrap();
    eprintln!("389-ds kill + restart in {:?}", started.elapsed());
    assert!(gone(old_pid));
    let user = ds
        .search(&user3, "(objectClass=*)", &["displayName"])
        .unwrap();
    assert!(user.contains("displayName: Before kill"), "{user}");

    ds.stop().unwrap();
    assert!(!ds.is_running());
    assert!(matches!(
        ds.count(ds.suffix(), "(uid=*)"),
        Err(idsync_testkit::ServerError::NotRunning { .. })
    ));
    ds.restart().unwrap();
    assert!(ds.count(ds.users_dn(), "(uid=*)").unwrap() > 0);
}

#[test]
fn drop_kills_the_server_and_removes_its_dir() {
    let Some(ds) = start(Ds389Options::default()) else {
        return;
    };
    let pid = ds.pid().unwrap();
    let dir = ds.dir().to_path_buf();
    assert!(!gone(pid));
    let started = Instant::now();
    drop(ds);
    eprintln!("389-ds dropped in {:?}", started.elapsed());
    assert!(gone(pid), "pid {pid} still running");
    assert!(!Path::new(&dir).exists(), "{} still exists", dir.display());
}

#[test]
fn a_trimmed_changelog_moves_firstchangenumber() {
    let Some(ds) = start(
        Ds389Options::default()
            .changelog_max_age("2s")
            .access_log(false),
    ) else {
        return;
    };
    let user = ds.user_dn("user00001");
    for round in 0..3 {
        ds.replace(&user, "displayName", &[&format!("round {round}")])
            .unwrap();
    }
    let before = ds.changelog_numbers().unwrap();
    assert!(
        before.first.is_some() && before.last.is_some(),
        "{before:?}"
    );
    std::thread::sleep(Duration::from_secs(3));
    ds.replace(&user, "displayName", &["fresh"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = ds.changelog_numbers().unwrap();
        if now.first > before.first {
            assert!(now.last > before.last, "{now:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never trimmed: {before:?} → {now:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
