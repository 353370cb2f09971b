//! The live `freeipa` source against a real, private 389-ds 2.3 (idsync-testkit): the 389-ds
//! rules of the protocol layer — a cookie refresh is a delete phase whatever syncDone says, its
//! changed entries are re-read so `nsAccountLock` is not lost, the sync UUID is nsUniqueId.
//!
//! Skipped (with a message) when 389-ds cannot run here, unless `IDSYNC_REQUIRE_SERVERS=1`.

use std::time::Duration;

use idsync_core::{Event, Source, SourceStart};
use idsync_ldap::flavour::FlavourKind;
use idsync_ldap::live::LdapSource;
use idsync_ldap::LdapSourceConfig;
use idsync_testkit::ds389::{Ds389, Ds389Options, SUFFIX, SYNC_DN, SYNC_PASSWORD};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(60);

fn start() -> Option<Ds389> {
    if let Err(why) = Ds389::available() {
        assert!(
            std::env::var_os("IDSYNC_REQUIRE_SERVERS").is_none(),
            "389-ds is required: {why}"
        );
        eprintln!("skipped: {why}");
        return None;
    }
    Some(Ds389::start(Ds389Options::default()).unwrap_or_else(|e| panic!("{e}")))
}

/// Runs a refreshOnly search to its end and returns every event.
async fn run_once(config: &LdapSourceConfig, cookie: Option<Vec<u8>>) -> Vec<Event> {
    let mut source =
        LdapSource::new(FlavourKind::FreeIpa, config).unwrap_or_else(|p| panic!("{p:?}"));
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(async move {
        source
            .run(
                SourceStart {
                    cookie,
                    follow: false,
                    index_warm: false,
                },
                tx,
            )
            .await
    });
    let mut events = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(WAIT, rx.recv()).await {
        events.push(event);
    }
    tokio::time::timeout(WAIT, task)
        .await
        .unwrap_or_else(|_| panic!("the source did not end"))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    events
}

fn user<'a>(events: &'a [Event], uid: &str) -> Option<&'a idsync_core::Entry> {
    events.iter().find_map(|e| match e {
        Event::Changed(entry) if entry.name == uid => Some(entry),
        _ => None,
    })
}

#[tokio::test]
async fn a_cookie_refresh_rereads_changed_entries_and_does_not_sweep() {
    let Some(ds) = start() else { return };
    let config = LdapSourceConfig {
        url: ds.url().to_owned(),
        domain: Some("example.org".to_owned()),
        bind_dn: Some(SYNC_DN.to_owned()),
        password: Some(SYNC_PASSWORD.to_owned()),
        ..LdapSourceConfig::default()
    };
    let first = run_once(&config, None).await;
    let alice = user(&first, "user00001").unwrap_or_else(|| panic!("no user00001: {first:#?}"));
    assert!(alice.enabled);
    assert_eq!(
        first.iter().find_map(|e| match e {
            Event::RefreshDone { delete_unmentioned } => Some(*delete_unmentioned),
            _ => None,
        }),
        Some(true)
    );
    let cookie = first
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Cookie(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no cookie"));

    let dn = format!("uid=user00001,cn=users,cn=accounts,{SUFFIX}");
    ds.set_account_lock(&dn, true)
        .unwrap_or_else(|e| panic!("{e}"));

    let second = run_once(&config, Some(cookie)).await;
    let known = second
        .iter()
        .filter(|e| matches!(e, Event::Known(_)))
        .count();
    assert!(known > 0, "the index is warmed before a cookie refresh");
    let locked = user(&second, "user00001")
        .unwrap_or_else(|| panic!("the locked user is not among the changes: {second:#?}"));
    assert_eq!(locked.id, alice.id, "the same nsUniqueId-based id");
    assert!(
        !locked.enabled,
        "nsAccountLock survives the incremental refresh (re-read)"
    );
    assert_eq!(
        second.iter().find_map(|e| match e {
            Event::RefreshDone { delete_unmentioned } => Some(*delete_unmentioned),
            _ => None,
        }),
        Some(false),
        "389-ds's cookie refresh is a delete phase whatever syncDone says"
    );
}
