//! The live source over TLS against a private slapd with a test PKI (idsync-testkit):
//! ldaps:// and StartTLS with a CA file, verification on by default (an untrusted server is a
//! configuration error), `tls_verify = false`, and SASL EXTERNAL with a client certificate.
//!
//! Skipped (with a message) when slapd is not installed, unless `IDSYNC_REQUIRE_SERVERS=1`.

use std::time::Duration;

use idsync_core::{EntryKind, Event, Source, SourceError, SourceStart};
use idsync_ldap::flavour::FlavourKind;
use idsync_ldap::live::LdapSource;
use idsync_ldap::LdapSourceConfig;
use idsync_testkit::slapd::{gen_directory, GenOptions, Seed, Slapd, SlapdOptions};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);
const USERS: usize = 3;

fn start() -> Option<Slapd> {
    if let Err(why) = Slapd::available() {
        assert!(
            std::env::var_os("IDSYNC_REQUIRE_SERVERS").is_none(),
            "slapd is required: {why}"
        );
        eprintln!("skipped: {why}");
        return None;
    }
    let ldif = gen_directory(USERS, &GenOptions::default());
    let options = SlapdOptions::default()
        .seed(Seed::Ldif(ldif))
        .tls(true)
        .sync_account(true);
    Some(Slapd::start(options).unwrap_or_else(|e| panic!("{e}")))
}

fn admin(slapd: &Slapd, url: &str) -> LdapSourceConfig {
    LdapSourceConfig {
        url: url.to_owned(),
        base: Some(slapd.base().to_owned()),
        bind_dn: Some(slapd.admin_dn().to_owned()),
        password: Some(slapd.admin_password().to_owned()),
        ca_file: slapd.ca_cert(),
        timeout_seconds: Some(10),
        ..LdapSourceConfig::default()
    }
}

/// One refreshOnly run: its result and events.
async fn run_once(config: &LdapSourceConfig) -> (Result<(), SourceError>, Vec<Event>) {
    let mut source = LdapSource::new(FlavourKind::Ldap, config).unwrap_or_else(|p| panic!("{p:?}"));
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(async move { source.run(SourceStart::default(), tx).await });
    let mut events = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(WAIT, rx.recv()).await {
        events.push(event);
    }
    let result = tokio::time::timeout(WAIT, task)
        .await
        .unwrap_or_else(|_| panic!("the source did not end"))
        .unwrap_or_else(|e| panic!("{e}"));
    (result, events)
}

fn users(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Changed(entry) if entry.kind == EntryKind::User))
        .count()
}

#[tokio::test]
async fn ldaps_and_starttls_with_a_ca_file() {
    let Some(slapd) = start() else { return };
    let ldaps = slapd
        .ldaps_url()
        .unwrap_or_else(|| panic!("no ldaps listener"))
        .to_owned();
    let (result, events) = run_once(&admin(&slapd, &ldaps)).await;
    result.unwrap_or_else(|e| panic!("ldaps: {e}"));
    assert_eq!(users(&events), USERS);

    let mut starttls = admin(&slapd, slapd.url());
    starttls.starttls = true;
    let (result, events) = run_once(&starttls).await;
    result.unwrap_or_else(|e| panic!("starttls: {e}"));
    assert_eq!(users(&events), USERS);
}

#[tokio::test]
async fn verification_is_on_by_default_and_off_only_when_asked() {
    let Some(slapd) = start() else { return };
    let ldaps = slapd
        .ldaps_url()
        .unwrap_or_else(|| panic!("no ldaps listener"))
        .to_owned();
    // The system roots do not know the test CA: refused, as a configuration error.
    let mut untrusted = admin(&slapd, &ldaps);
    untrusted.ca_file = None;
    let (result, events) = run_once(&untrusted).await;
    let Err(SourceError::Config(message)) = result else {
        panic!("an untrusted server was accepted: {result:?}");
    };
    assert!(message.contains("certificate"), "{message}");
    assert!(events.is_empty());

    // Another CA: refused too.
    let mut wrong_ca = admin(&slapd, &ldaps);
    wrong_ca.ca_file = slapd.pki().map(|pki| pki.untrusted_ca_cert());
    let (result, _) = run_once(&wrong_ca).await;
    assert!(matches!(result, Err(SourceError::Config(_))), "{result:?}");

    let mut unverified = untrusted.clone();
    unverified.tls_verify = Some(false);
    let (result, events) = run_once(&unverified).await;
    result.unwrap_or_else(|e| panic!("tls_verify = false: {e}"));
    assert_eq!(users(&events), USERS);
}

#[tokio::test]
async fn sasl_external_with_a_client_certificate() {
    let Some(slapd) = start() else { return };
    let pki = slapd.pki().unwrap_or_else(|| panic!("no pki"));
    let config = LdapSourceConfig {
        url: slapd
            .ldaps_url()
            .unwrap_or_else(|| panic!("no ldaps listener"))
            .to_owned(),
        base: Some(slapd.base().to_owned()),
        sasl_mechanism: Some("EXTERNAL".to_owned()),
        ca_file: Some(pki.ca_cert()),
        client_cert_file: Some(pki.client_cert()),
        client_key_file: Some(pki.client_key()),
        ..LdapSourceConfig::default()
    };
    let (result, events) = run_once(&config).await;
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(users(&events), USERS);
}
