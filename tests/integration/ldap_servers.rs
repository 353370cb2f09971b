//! The test kit's private OpenLDAP slapd: start, seed, change, content sync, restart, drop.

use std::path::Path;
use std::time::Instant;

use idsync_testkit::servers::missing_server;
use idsync_testkit::slapd::{
    gen_directory, DirectoryShape, GenOptions, Overlay, Seed, Slapd, SlapdOptions, SYNC_CONTROL_OID,
};

/// True when slapd is installed; otherwise a loud skip (or a panic in CI).
fn available() -> bool {
    match Slapd::available() {
        Ok(()) => true,
        Err(why) => {
            missing_server("slapd", &why);
            false
        }
    }
}

/// Starts slapd with `options`, or returns None when it is not installed (see `available`).
fn start(options: SlapdOptions) -> Option<Slapd> {
    if !available() {
        return None;
    }
    let started = Instant::now();
    let slapd = Slapd::start(options).unwrap();
    eprintln!(
        "slapd started in {:?} at {}",
        started.elapsed(),
        slapd.url()
    );
    Some(slapd)
}

fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => status
            .lines()
            .any(|line| line.starts_with("State:") && line.contains('Z')),
        Err(_) => true,
    }
}

const ALICE: &str = "dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
mail: alice@example.org
";

#[test]
fn root_dse_lists_the_content_sync_control() {
    let Some(slapd) = start(SlapdOptions::default()) else {
        return;
    };
    let dse = slapd.root_dse().unwrap();
    assert!(
        dse.lines()
            .any(|line| line == format!("supportedControl: {SYNC_CONTROL_OID}")),
        "{dse}"
    );
    // The suffix-only seed: exactly one entry.
    assert_eq!(slapd.count(slapd.base(), "(objectClass=*)").unwrap(), 1);
    // ldapi with EXTERNAL reaches cn=config.
    let config = slapd
        .config_search("cn=config", "(olcOverlay=*)", &["olcOverlay"])
        .unwrap();
    for overlay in ["{0}syncprov", "{1}memberof", "{2}refint"] {
        assert!(
            config.contains(&format!("olcOverlay: {overlay}")),
            "{config}"
        );
    }
    assert!(slapd.ldapi_url().starts_with("ldapi://%2F"));
    assert!(slapd.url().ends_with(&format!(":{}/", slapd.port())));
}

#[test]
fn seeds_a_thousand_generated_users() {
    if !available() {
        return;
    }
    let started = Instant::now();
    let ldif = gen_directory(1000, &GenOptions::default());
    eprintln!(
        "1000-user LDIF ({} bytes) generated in {:?}",
        ldif.len(),
        started.elapsed()
    );
    let started = Instant::now();
    let slapd = start(SlapdOptions::default().seed(Seed::Ldif(ldif))).unwrap();
    eprintln!("slapd with a 1000-user seed up in {:?}", started.elapsed());
    let shape = DirectoryShape::for_users(1000);
    assert_eq!(
        slapd
            .count("ou=people,dc=example,dc=org", "(objectClass=posixAccount)")
            .unwrap(),
        1000
    );
    assert_eq!(
        slapd
            .count(slapd.base(), "(objectClass=posixGroup)")
            .unwrap(),
        shape.posix_groups
    );
    assert_eq!(
        slapd
            .count(slapd.base(), "(objectClass=groupOfNames)")
            .unwrap(),
        shape.group_of_names()
    );
    assert_eq!(
        slapd.count(slapd.base(), "(objectClass=*)").unwrap(),
        shape.entries(true)
    );
    // Non-ASCII names came through base64 intact.
    let user = slapd
        .search(slapd.base(), "(uid=user000007)", &["givenName"])
        .unwrap();
    assert!(user.contains("givenName:: "), "{user}");
    assert_eq!(
        slapd.count(slapd.base(), "(givenName=Jürgen)").unwrap(),
        2,
        "user000007 and user000507"
    );
}

#[test]
fn adds_modifies_and_deletes_entries() {
    let Some(slapd) = start(SlapdOptions::default()) else {
        return;
    };
    slapd
        .add_ldif(
            "dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n\
             dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n",
        )
        .unwrap();
    slapd.add_ldif(ALICE).unwrap();
    slapd
        .add_ldif(
            "dn: cn=staff,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: staff\n\
             member: uid=alice,ou=people,dc=example,dc=org\n",
        )
        .unwrap();
    // The memberof overlay maintains memberOf on ldapadd.
    let alice = slapd
        .search(slapd.base(), "(uid=alice)", &["mail", "memberOf"])
        .unwrap();
    assert!(alice.contains("mail: alice@example.org"), "{alice}");
    assert!(
        alice.contains("memberOf: cn=staff,ou=groups,dc=example,dc=org"),
        "{alice}"
    );

    slapd
        .modify_ldif(
            "dn: uid=alice,ou=people,dc=example,dc=org\nchangetype: modify\n\
             replace: mail\nmail: alice@example.net\n",
        )
        .unwrap();
    let alice = slapd
        .search(slapd.base(), "(uid=alice)", &["mail"])
        .unwrap();
    assert!(alice.contains("mail: alice@example.net"), "{alice}");

    slapd
        .delete("uid=alice,ou=people,dc=example,dc=org")
        .unwrap();
    assert_eq!(slapd.count(slapd.base(), "(uid=alice)").unwrap(), 0);
    // refint replaced the dangling member with the placeholder.
    let staff = slapd
        .search(slapd.base(), "(cn=staff)", &["member"])
        .unwrap();
    assert!(!staff.contains("uid=alice"), "{staff}");

    // Errors carry the tool's stderr.
    let error = slapd.delete("uid=nobody,dc=example,dc=org").unwrap_err();
    assert!(error.to_string().contains("No such object"), "{error}");
    assert!(
        !error.to_string().contains(slapd.admin_password()),
        "{error}"
    );
}

#[test]
fn refresh_only_sync_returns_a_cookie() {
    let ldif = gen_directory(20, &GenOptions::default());
    let Some(slapd) = start(SlapdOptions::default().seed(Seed::Ldif(ldif))) else {
        return;
    };
    let first = slapd
        .sync_refresh_only("(objectClass=posixAccount)", None, &["uid"])
        .unwrap();
    let cookie = first
        .cookie
        .clone()
        .unwrap_or_else(|| panic!("{}", first.output));
    assert!(cookie.starts_with("rid=000,csn="), "{cookie}");
    assert_eq!(first.output.matches("\ndn: uid=user").count(), 20);

    // A change, then a refresh from the cookie: only the changed entry comes back.
    slapd
        .modify_ldif(
            "dn: uid=user000003,ou=people,dc=example,dc=org\nchangetype: modify\n\
             replace: displayName\ndisplayName: Changed\n",
        )
        .unwrap();
    let second = slapd
        .sync_refresh_only("(objectClass=posixAccount)", Some(&cookie), &["uid"])
        .unwrap();
    assert!(
        second.output.contains("dn: uid=user000003,"),
        "{}",
        second.output
    );
    assert_eq!(
        second.output.matches("\ndn: uid=user").count(),
        1,
        "{}",
        second.output
    );
    assert_ne!(second.cookie.as_deref(), Some(cookie.as_str()));

    // The sessionlog can be changed live over ldapi.
    slapd
        .config_modify(
            "dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config\nchangetype: modify\n\
             replace: olcSpSessionlog\nolcSpSessionlog: 10\n",
        )
        .unwrap();
    let config = slapd
        .config_search(
            "cn=config",
            "(olcOverlay={0}syncprov)",
            &["olcSpSessionlog"],
        )
        .unwrap();
    assert!(config.contains("olcSpSessionlog: 10"), "{config}");
}

#[test]
fn restart_keeps_the_data_and_the_port() {
    let Some(mut slapd) = start(SlapdOptions::default().sessionlog(50)) else {
        return;
    };
    slapd
        .add_ldif("dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n")
        .unwrap();
    let (port, old_pid) = (slapd.port(), slapd.pid().unwrap());
    let started = Instant::now();
    slapd.restart().unwrap();
    eprintln!("slapd restarted in {:?}", started.elapsed());
    assert!(gone(old_pid));
    assert_ne!(slapd.pid(), Some(old_pid));
    assert_eq!(slapd.port(), port);
    assert_eq!(slapd.count(slapd.base(), "(ou=people)").unwrap(), 1);

    slapd.stop().unwrap();
    assert!(!slapd.is_running());
    assert_eq!(slapd.pid(), None);
    assert!(matches!(
        slapd.count(slapd.base(), "(ou=people)"),
        Err(idsync_testkit::ServerError::NotRunning { .. })
    ));
    slapd.restart().unwrap();
    assert_eq!(slapd.count(slapd.base(), "(ou=people)").unwrap(), 1);
}

#[test]
fn drop_stops_the_server_and_removes_its_dir() {
    let Some(slapd) = start(SlapdOptions::default()) else {
        return;
    };
    let pid = slapd.pid().unwrap();
    let dir = slapd.dir().to_path_buf();
    assert!(!gone(pid));
    let started = Instant::now();
    drop(slapd);
    eprintln!("slapd dropped in {:?}", started.elapsed());
    assert!(gone(pid), "pid {pid} still running");
    assert!(!Path::new(&dir).exists(), "{} still exists", dir.display());
}

#[test]
fn two_instances_run_side_by_side() {
    let Some(first) = start(SlapdOptions::default()) else {
        return;
    };
    let second = start(
        SlapdOptions::default()
            .seed(Seed::Empty)
            .admin_password("other"),
    )
    .unwrap();
    assert_ne!(first.port(), second.port());
    assert_ne!(first.dir(), second.dir());
    first
        .add_ldif(ALICE.replace("ou=people,", "").as_str())
        .unwrap();
    assert_eq!(first.count(first.base(), "(uid=alice)").unwrap(), 1);
    // The second one is empty (no suffix entry) and has its own password.
    assert!(second.count(second.base(), "(objectClass=*)").is_err());
    second
        .add_ldif("dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Other\n")
        .unwrap();
    assert_eq!(second.count(second.base(), "(uid=alice)").unwrap(), 0);
    assert!(second.pid() != first.pid());
}

/// An OpenLDAP client tool with no ldap.conf, and `env` (LDAPTLS_* settings) on top.
fn ldap_tool(program: &str, env: &[(&str, &Path)]) -> std::process::Command {
    let mut command = idsync_testkit::tls::ldap_client(program);
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Runs a command and returns (success, stdout + stderr).
fn outcome(mut command: std::process::Command) -> (bool, String) {
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn tls_ldaps_and_starttls_trust_only_the_test_ca() {
    let Some(slapd) = start(SlapdOptions::default().tls(true)) else {
        return;
    };
    let pki = slapd.pki().unwrap().clone();
    let ldaps = slapd.ldaps_url().unwrap().to_owned();
    assert!(ldaps.starts_with("ldaps://127.0.0.1:"), "{ldaps}");
    assert_ne!(ldaps, slapd.url());
    let root_dse = |url: &str, starttls: bool, ca: &Path| {
        let mut command = ldap_tool("ldapsearch", &[("LDAPTLS_CACERT", ca)]);
        command.args([
            "-x",
            "-H",
            url,
            "-LLL",
            "-b",
            "",
            "-s",
            "base",
            "namingContexts",
        ]);
        if starttls {
            command.arg("-ZZ");
        }
        outcome(command)
    };
    let (ok, text) = root_dse(&ldaps, false, &pki.ca_cert());
    assert!(
        ok && text.contains("namingContexts: dc=example,dc=org"),
        "{text}"
    );
    let (ok, text) = root_dse(&ldaps, false, &pki.untrusted_ca_cert());
    assert!(!ok, "ldaps with the untrusted CA succeeded: {text}");
    let (ok, text) = root_dse(slapd.url(), true, &pki.ca_cert());
    assert!(
        ok && text.contains("namingContexts: dc=example,dc=org"),
        "{text}"
    );
    let (ok, text) = root_dse(slapd.url(), true, &pki.untrusted_ca_cert());
    assert!(!ok, "StartTLS with the untrusted CA succeeded: {text}");
    // TLS survives a restart (same ports, same certificates).
    let mut slapd = slapd;
    slapd.restart().unwrap();
    assert_eq!(slapd.ldaps_url(), Some(ldaps.as_str()));
    let (ok, text) = root_dse(&ldaps, false, &pki.ca_cert());
    assert!(ok, "{text}");
}

#[test]
fn sasl_external_over_tls_maps_the_client_certificate() {
    let Some(slapd) = start(SlapdOptions::default().tls(true)) else {
        return;
    };
    let pki = slapd.pki().unwrap().clone();
    let whoami = |url: &str, starttls: bool, cert: &Path, key: &Path| {
        let ca = pki.ca_cert();
        let mut command = ldap_tool(
            "ldapwhoami",
            &[
                ("LDAPTLS_CACERT", ca.as_path()),
                ("LDAPTLS_CERT", cert),
                ("LDAPTLS_KEY", key),
            ],
        );
        command.args(["-Q", "-Y", "EXTERNAL", "-H", url]);
        if starttls {
            command.arg("-ZZ");
        }
        outcome(command)
    };
    let expected = format!("dn:{}", slapd.sync_dn());
    let (ok, text) = whoami(
        slapd.ldaps_url().unwrap(),
        false,
        &pki.client_cert(),
        &pki.client_key(),
    );
    assert!(ok && text.trim() == expected, "{text}");
    let (ok, text) = whoami(slapd.url(), true, &pki.client_cert(), &pki.client_key());
    assert!(ok && text.trim() == expected, "{text}");
    // olcTLSVerifyClient try: a certificate from the untrusted CA ends the session.
    let (ok, text) = whoami(
        slapd.ldaps_url().unwrap(),
        false,
        &pki.untrusted_client_cert(),
        &pki.untrusted_client_key(),
    );
    assert!(!ok, "the untrusted client certificate was accepted: {text}");
}

#[test]
fn the_sync_account_reads_identities_and_nothing_else() {
    let ldif = gen_directory(
        20,
        &GenOptions {
            user_password: Some("user-secret".to_owned()),
            ..GenOptions::default()
        },
    );
    let options = SlapdOptions::default()
        .seed(Seed::Ldif(ldif))
        .sync_account(true)
        .size_limit(Some(5))
        .with_overlay(Overlay::Ppolicy);
    let Some(slapd) = start(options) else {
        return;
    };
    // Unlimited for the sync account although the database's limit is 5.
    let users = slapd
        .search_as_sync(
            slapd.base(),
            "(objectClass=posixAccount)",
            &["uid", "mail", "entryUUID"],
        )
        .unwrap();
    assert_eq!(
        users.matches("\nuid: ").count() + usize::from(users.starts_with("uid: ")),
        20,
        "{users}"
    );
    assert_eq!(users.matches("entryUUID: ").count(), 20, "{users}");
    // No passwords of others (its own: `by self write`), no telephone numbers (not in its
    // read list).
    let passwords = slapd
        .search_as_sync(
            slapd.base(),
            "(objectClass=posixAccount)",
            &["userPassword"],
        )
        .unwrap();
    assert!(!passwords.contains("userPassword"), "{passwords}");
    let admin_view = slapd
        .search(slapd.base(), "(uid=user000001)", &["userPassword"])
        .unwrap();
    assert!(admin_view.contains("userPassword"), "{admin_view}");
    let phones = slapd
        .search_as_sync(
            slapd.base(),
            "(uid=user000001)",
            &["telephoneNumber", "uid"],
        )
        .unwrap();
    assert!(
        phones.contains("uid: user000001") && !phones.contains("telephoneNumber"),
        "{phones}"
    );
    let admin_view = slapd
        .search(slapd.base(), "(uid=user000001)", &["telephoneNumber"])
        .unwrap();
    assert!(admin_view.contains("telephoneNumber"), "{admin_view}");
    // Anonymous reads nothing.
    let mut anonymous = ldap_tool("ldapsearch", &[]);
    anonymous.args([
        "-x",
        "-H",
        slapd.url(),
        "-LLL",
        "-b",
        slapd.base(),
        "(uid=*)",
        "uid",
    ]);
    let (_, text) = outcome(anonymous);
    assert!(!text.contains("uid: user"), "{text}");

    // The sync account may run a content sync.
    let mut sync = ldap_tool("ldapsearch", &[]);
    sync.args([
        "-x",
        "-H",
        slapd.url(),
        "-D",
        slapd.sync_dn(),
        "-w",
        slapd.sync_password(),
        "-b",
        slapd.base(),
        "-E",
        "sync=ro",
        "(objectClass=posixAccount)",
        "uid",
    ]);
    let (ok, text) = outcome(sync);
    assert!(ok && text.contains("# cookie: rid="), "{text}");
    assert_eq!(text.matches("\ndn: uid=user").count(), 20, "{text}");

    // ppolicy: a locked account carries pwdAccountLockedTime, readable by the sync account.
    let dn = "uid=user000003,ou=people,dc=example,dc=org";
    slapd.set_account_lock(dn, true).unwrap();
    let locked = slapd
        .search_as_sync(dn, "(objectClass=*)", &["pwdAccountLockedTime"])
        .unwrap();
    assert!(
        locked.contains("pwdAccountLockedTime: 000001010000Z"),
        "{locked}"
    );
    slapd.set_account_lock(dn, false).unwrap();
    let unlocked = slapd
        .search_as_sync(dn, "(objectClass=*)", &["pwdAccountLockedTime"])
        .unwrap();
    assert!(!unlocked.contains("pwdAccountLockedTime"), "{unlocked}");
}
