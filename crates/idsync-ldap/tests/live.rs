//! The live source against a real, private OpenLDAP slapd (idsync-testkit): initial refresh,
//! persist add/modify/modrdn/delete, resume from a cookie with the index warm-up, cookies the
//! server cannot honour, connection loss, ldapi + SASL EXTERNAL, the root DSE check, bind
//! failures and the periodic reconcile.
//!
//! Skipped (with a message) when slapd is not installed, unless `IDSYNC_REQUIRE_SERVERS=1`.

use std::time::Duration;

use idsync_core::{EntryId, EntryKind, Event, Source, SourceError, SourceStart};
use idsync_ldap::flavour::FlavourKind;
use idsync_ldap::live::LdapSource;
use idsync_ldap::LdapSourceConfig;
use idsync_testkit::slapd::{gen_directory, GenOptions, Overlay, Seed, Slapd, SlapdOptions};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long any expected event may take.
const WAIT: Duration = Duration::from_secs(20);

fn start_slapd(options: SlapdOptions) -> Option<Slapd> {
    if let Err(why) = Slapd::available() {
        assert!(
            std::env::var_os("IDSYNC_REQUIRE_SERVERS").is_none(),
            "slapd is required: {why}"
        );
        eprintln!("skipped: {why}");
        return None;
    }
    Some(Slapd::start(options).unwrap_or_else(|e| panic!("{e}")))
}

/// A directory of `users` generated users (groupOfNames and posixGroup groups).
fn seeded(users: usize) -> Option<Slapd> {
    let options = GenOptions {
        big_groups: false,
        max_members: 5,
        ..GenOptions::default()
    };
    start_slapd(SlapdOptions::default().seed(Seed::Ldif(gen_directory(users, &options))))
}

fn admin_config(slapd: &Slapd) -> LdapSourceConfig {
    LdapSourceConfig {
        url: slapd.url().to_owned(),
        base: Some(slapd.base().to_owned()),
        bind_dn: Some(slapd.admin_dn().to_owned()),
        password: Some(slapd.admin_password().to_owned()),
        timeout_seconds: Some(10),
        ..LdapSourceConfig::default()
    }
}

fn source(config: &LdapSourceConfig) -> LdapSource {
    LdapSource::new(FlavourKind::Ldap, config).unwrap_or_else(|p| panic!("{p:?}"))
}

/// A source run in the background and the events it sends.
struct Running {
    events: mpsc::Receiver<Event>,
    task: JoinHandle<(LdapSource, Result<(), SourceError>)>,
}

impl Running {
    fn start(mut source: LdapSource, start: SourceStart, capacity: usize) -> Self {
        let (tx, events) = mpsc::channel(capacity);
        let task = tokio::spawn(async move {
            let result = source.run(start, tx).await;
            (source, result)
        });
        Self { events, task }
    }

    /// Events up to and including the first one `stop` accepts.
    async fn until(&mut self, stop: impl Fn(&Event) -> bool) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            let event = tokio::time::timeout(WAIT, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching event within {WAIT:?}; saw {seen:#?}"))
                .unwrap_or_else(|| panic!("the source ended; saw {seen:#?}"));
            let done = stop(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }

    /// Drains the remaining events and returns the run's outcome.
    async fn finish(mut self) -> (LdapSource, Result<(), SourceError>, Vec<Event>) {
        let mut rest = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout(WAIT, self.events.recv()).await {
            rest.push(event);
        }
        let (source, result) = tokio::time::timeout(WAIT, self.task)
            .await
            .unwrap_or_else(|_| panic!("the source did not end"))
            .unwrap_or_else(|e| panic!("{e}"));
        (source, result, rest)
    }
}

fn is_refresh_done(event: &Event) -> bool {
    matches!(event, Event::RefreshDone { .. })
}

fn changed<'a>(events: &'a [Event], name: &str) -> Vec<&'a idsync_core::Entry> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Changed(entry) if entry.name == name => Some(entry),
            _ => None,
        })
        .collect()
}

fn count_changed(events: &[Event], kind: EntryKind) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Changed(entry) if entry.kind == kind))
        .count()
}

fn cookie_of(events: &[Event]) -> Option<Vec<u8>> {
    events.iter().rev().find_map(|e| match e {
        Event::Cookie(c) => Some(c.clone()),
        _ => None,
    })
}

fn refresh_done(events: &[Event]) -> Option<bool> {
    events.iter().find_map(|e| match e {
        Event::RefreshDone { delete_unmentioned } => Some(*delete_unmentioned),
        _ => None,
    })
}

/// The id of `name` among the changed entries.
fn id_of(events: &[Event], name: &str) -> EntryId {
    changed(events, name)
        .first()
        .map(|e| e.id)
        .unwrap_or_else(|| panic!("`{name}` not among the events"))
}

fn user_ldif(uid: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: {uid}\n\
         cn: {uid}\nsn: Test\n"
    )
}

#[tokio::test]
async fn refresh_then_persist_add_modify_rename_delete() {
    let Some(slapd) = seeded(20) else { return };
    let mut run = Running::start(
        source(&admin_config(&slapd)),
        SourceStart {
            cookie: None,
            follow: true,
            index_warm: false,
        },
        64,
    );
    let refresh = run.until(is_refresh_done).await;
    assert_eq!(count_changed(&refresh, EntryKind::User), 20);
    assert!(count_changed(&refresh, EntryKind::Group) > 0);
    assert_eq!(refresh_done(&refresh), Some(true), "a full refresh sweeps");
    assert!(
        cookie_of(&refresh).is_some(),
        "the refresh ends with a cookie"
    );
    // The cookie comes before RefreshDone, so the engine commits it with the refresh.
    assert!(matches!(
        refresh.get(refresh.len() - 2),
        Some(Event::Cookie(_))
    ));
    let groups: Vec<_> = refresh
        .iter()
        .filter_map(|e| match e {
            Event::Changed(entry) if entry.kind == EntryKind::Group => Some(entry),
            _ => None,
        })
        .collect();
    assert!(
        groups.iter().any(|g| !g.members.is_empty()),
        "groups carry members"
    );

    slapd
        .add_ldif(&user_ldif("newbie"))
        .unwrap_or_else(|e| panic!("{e}"));
    let added = run.until(|e| matches!(e, Event::Cookie(_))).await;
    let newbie = id_of(&added, "newbie");
    assert!(
        matches!(added.as_slice(), [Event::Changed(_), Event::Cookie(_)]),
        "{added:#?}"
    );

    slapd
        .modify_ldif(
            "dn: uid=newbie,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: sn\n\
             sn: Changed\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let modified = run.until(|e| matches!(e, Event::Cookie(_))).await;
    assert_eq!(id_of(&modified, "newbie"), newbie);

    slapd
        .modify_ldif(
            "dn: uid=newbie,ou=people,dc=example,dc=org\nchangetype: modrdn\n\
             newrdn: uid=renamed\ndeleteoldrdn: 1\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let renamed = run.until(|e| matches!(e, Event::Cookie(_))).await;
    let entry = changed(&renamed, "renamed")
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no rename: {renamed:#?}"));
    assert_eq!(entry.id, newbie, "a rename keeps the id");
    assert_eq!(entry.locator, "uid=renamed,ou=people,dc=example,dc=org");

    slapd
        .delete("uid=renamed,ou=people,dc=example,dc=org")
        .unwrap_or_else(|e| panic!("{e}"));
    let deleted = run.until(|e| matches!(e, Event::Cookie(_))).await;
    assert!(
        deleted
            .iter()
            .any(|e| matches!(e, Event::Deleted(ids) if ids == &vec![newbie])),
        "{deleted:#?}"
    );
    run.task.abort();
}

#[tokio::test]
async fn resume_from_a_cookie_warms_the_index_then_sends_only_changes() {
    let Some(slapd) = seeded(20) else { return };
    let config = admin_config(&slapd);
    let first = Running::start(
        source(&config),
        SourceStart {
            cookie: None,
            follow: false,
            index_warm: false,
        },
        64,
    );
    let (_, result, events) = first.finish().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let cookie = cookie_of(&events).unwrap_or_else(|| panic!("no cookie: {events:#?}"));
    let doomed = id_of(&events, "user000003");

    slapd
        .modify_ldif(
            "dn: uid=user000001,ou=people,dc=example,dc=org\nchangetype: modify\n\
             replace: displayName\ndisplayName: Someone Else\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    slapd
        .delete("uid=user000003,ou=people,dc=example,dc=org")
        .unwrap_or_else(|e| panic!("{e}"));

    // A new source (a restarted process): its engine index is empty, so it is warmed first.
    let second = Running::start(
        source(&config),
        SourceStart {
            cookie: Some(cookie.clone()),
            follow: false,
            index_warm: false,
        },
        64,
    );
    let (_, result, events) = second.finish().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let known = events
        .iter()
        .take_while(|e| matches!(e, Event::Known(_)))
        .count();
    assert!(
        known >= 20,
        "the warm-up comes first and covers the view ({known})"
    );
    let after: Vec<&Event> = events.iter().skip(known).collect();
    assert!(
        after.iter().all(|e| !matches!(e, Event::Known(_))),
        "no warm-up entries after the sync results"
    );
    let changed_names: Vec<&str> = after
        .iter()
        .filter_map(|e| match e {
            Event::Changed(entry) => Some(entry.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(changed_names, ["user000001"], "only the change: {after:#?}");
    assert!(after
        .iter()
        .any(|e| matches!(e, Event::Deleted(ids) if ids.contains(&doomed))));
    assert_eq!(
        refresh_done(&events),
        Some(false),
        "a delete phase: no sweep"
    );
    let new_cookie = cookie_of(&events).unwrap_or_else(|| panic!("no new cookie"));
    assert_ne!(new_cookie, cookie);

    // Nothing changed since: no cookie comes back, the old one stays.
    let third = Running::start(
        source(&config),
        SourceStart {
            cookie: Some(new_cookie),
            follow: false,
            index_warm: false,
        },
        64,
    );
    let (_, result, events) = third.finish().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    assert!(!events.iter().any(|e| matches!(e, Event::Changed(_))));
    assert_eq!(refresh_done(&events), Some(false));
}

#[tokio::test]
async fn cookies_the_server_cannot_honour_restart_without_cookie() {
    let Some(slapd) = seeded(5) else { return };
    let config = admin_config(&slapd);
    for cookie in [
        b"garbage".to_vec(),
        b"rid=000,csn=29991231000000.000000Z#000000#000#000000".to_vec(),
    ] {
        let run = Running::start(
            source(&config),
            SourceStart {
                cookie: Some(cookie.clone()),
                follow: false,
                index_warm: false,
            },
            256,
        );
        let (_, result, events) = run.finish().await;
        result.unwrap_or_else(|e| panic!("{e}"));
        let label = String::from_utf8_lossy(&cookie).into_owned();
        let required = events
            .iter()
            .position(|e| matches!(e, Event::RefreshRequired))
            .unwrap_or_else(|| panic!("{label}: no RefreshRequired: {events:#?}"));
        let tail = events.get(required..).unwrap_or(&[]);
        assert_eq!(count_changed(tail, EntryKind::User), 5, "{label}");
        assert_eq!(
            refresh_done(tail),
            Some(true),
            "{label}: the full refresh sweeps"
        );
        let fresh = cookie_of(tail).unwrap_or_else(|| panic!("{label}: no cookie"));
        assert!(!fresh.is_empty());
    }
}

#[tokio::test]
async fn connection_loss_is_unavailable() {
    let Some(mut slapd) = seeded(3) else { return };
    let mut run = Running::start(
        source(&admin_config(&slapd)),
        SourceStart {
            cookie: None,
            follow: true,
            index_warm: false,
        },
        64,
    );
    run.until(is_refresh_done).await;
    slapd.stop().unwrap_or_else(|e| panic!("{e}"));
    let (_, result, _) = run.finish().await;
    let error = result
        .err()
        .unwrap_or_else(|| panic!("the run ended without error"));
    assert!(error.is_retryable(), "{error}");

    // And a server that is not there at all is unavailable too.
    let run = Running::start(source(&admin_config(&slapd)), SourceStart::default(), 8);
    let (_, result, _) = run.finish().await;
    assert!(
        matches!(result, Err(SourceError::Unavailable { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn ldapi_with_sasl_external() {
    let Some(slapd) = seeded(4) else { return };
    let config = LdapSourceConfig {
        url: slapd.ldapi_url().to_owned(),
        base: Some(slapd.base().to_owned()),
        sasl_mechanism: Some("EXTERNAL".to_owned()),
        ..LdapSourceConfig::default()
    };
    let mut source = source(&config);
    let checks = source.check().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        checks
            .iter()
            .all(|c| c.status != idsync_core::CheckStatus::Failed),
        "{checks:#?}"
    );
    let run = Running::start(source, SourceStart::default(), 64);
    let (_, result, events) = run.finish().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count_changed(&events, EntryKind::User), 4);
}

#[tokio::test]
async fn a_server_without_content_sync_is_refused_clearly() {
    let Some(slapd) =
        start_slapd(SlapdOptions::default().overlays(&[Overlay::Memberof, Overlay::Refint]))
    else {
        return;
    };
    let mut source = source(&admin_config(&slapd));
    let checks = source.check().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(checks
        .iter()
        .any(|c| c.status == idsync_core::CheckStatus::Failed
            && c.message.contains("1.3.6.1.4.1.4203.1.9.1.1")));
    let run = Running::start(source, SourceStart::default(), 8);
    let (_, result, events) = run.finish().await;
    let Err(SourceError::Unsupported(message)) = result else {
        panic!("not refused: {result:?}");
    };
    assert!(message.contains("1.3.6.1.4.1.4203.1.9.1.1"), "{message}");
    assert!(message.contains("syncprov"), "{message}");
    assert!(events.is_empty());
}

#[tokio::test]
async fn a_wrong_password_is_a_configuration_error_that_does_not_show_the_password() {
    let Some(slapd) = seeded(1) else { return };
    let mut config = admin_config(&slapd);
    config.password = Some("not-the-password".to_owned());
    let run = Running::start(source(&config), SourceStart::default(), 8);
    let (_, result, _) = run.finish().await;
    let Err(SourceError::Config(message)) = result else {
        panic!("not a config error: {result:?}");
    };
    assert!(message.contains("49"), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");
}

#[tokio::test]
async fn reconcile_every_restarts_a_full_refresh_while_persisting() {
    let Some(slapd) = seeded(5) else { return };
    let mut config = admin_config(&slapd);
    config.reconcile_every = Some("1s".to_owned());
    let mut run = Running::start(
        source(&config),
        SourceStart {
            cookie: None,
            follow: true,
            index_warm: false,
        },
        64,
    );
    run.until(is_refresh_done).await;
    let events = run.until(|e| matches!(e, Event::RefreshStarted)).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let again = run.until(is_refresh_done).await;
    assert_eq!(count_changed(&again, EntryKind::User), 5);
    assert_eq!(refresh_done(&again), Some(true), "a reconcile sweeps");
    run.task.abort();
}

#[tokio::test]
async fn a_one_slot_channel_still_carries_a_whole_refresh() {
    let Some(slapd) = seeded(300) else { return };
    let run = Running::start(source(&admin_config(&slapd)), SourceStart::default(), 1);
    let (_, result, events) = run.finish().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count_changed(&events, EntryKind::User), 300);
    assert_eq!(refresh_done(&events), Some(true));
}

#[tokio::test]
async fn with_trace_records_the_search_header_and_every_message() {
    let Some(slapd) = seeded(4) else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("sync.trace");
    let writer = idsync_ldap::trace::TraceWriter::create(&path).unwrap_or_else(|e| panic!("{e}"));
    let traced = source(&admin_config(&slapd)).with_trace(writer);
    let run = Running::start(traced, SourceStart::default(), 64);
    let (_, result, events) = run.finish().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(text.contains("# idsync-mode: refreshOnly"), "{text}");
    assert!(text.contains("# idsync-cookie: none"), "{text}");
    let entries = text.matches("# result: 100").count();
    assert_eq!(
        entries,
        count_changed(&events, EntryKind::User) + count_changed(&events, EntryKind::Group)
    );
    assert_eq!(text.matches("# result: 101").count(), 1, "one done message");
    assert!(
        !text.contains(slapd.admin_password()),
        "no secret in the trace"
    );
}
