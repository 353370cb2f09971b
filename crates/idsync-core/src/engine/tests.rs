//! Engine semantics, pinned by feeding event sequences into an engine over the memory sink.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use uuid::Uuid;

use super::*;
use crate::memory::MemorySink;
use crate::model::{Entry, MemberRef};
use crate::policy::MatchPolicy;

const FP: &str = "test:view";

fn id(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(n))
}

fn user(n: u128, name: &str) -> Entry {
    Entry {
        id: id(n),
        kind: EntryKind::User,
        locator: format!("uid={name},ou=people,dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs: BTreeMap::from([("mail".to_owned(), vec![format!("{name}@example.org")])]),
        members: Vec::new(),
    }
}

fn group(n: u128, name: &str, members: Vec<MemberRef>) -> Entry {
    Entry {
        id: id(n),
        kind: EntryKind::Group,
        locator: format!("cn={name},ou=groups,dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs: BTreeMap::new(),
        members,
    }
}

fn dn(name: &str) -> MemberRef {
    MemberRef::Dn(format!("uid={name},ou=people,dc=example,dc=org"))
}

fn gdn(name: &str) -> MemberRef {
    MemberRef::Dn(format!("cn={name},ou=groups,dc=example,dc=org"))
}

fn open(sink: &MemorySink, config: EngineConfig) -> (Engine, Option<Vec<u8>>) {
    Engine::open(
        Box::new(sink.reopen()),
        config,
        &SourceFingerprint(FP.to_owned()),
    )
    .unwrap()
}

fn feed(engine: &mut Engine, events: Vec<Event>) {
    for event in events {
        engine.push(event).unwrap();
    }
    engine.on_idle().unwrap();
}

fn refresh(entries: Vec<Entry>, cookie: &[u8]) -> Vec<Event> {
    let mut events: Vec<Event> = entries.into_iter().map(Event::Changed).collect();
    events.push(Event::Cookie(cookie.to_vec()));
    events.push(Event::RefreshDone {
        delete_unmentioned: true,
    });
    events
}

fn base_directory() -> Vec<Entry> {
    vec![
        user(1, "alice"),
        user(2, "bob"),
        user(3, "carol"),
        group(10, "staff", vec![dn("alice"), dn("bob")]),
    ]
}

#[test]
fn full_refresh_upserts_in_batches_and_commits_cookie_last() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let config = EngineConfig {
        batch_size: 2,
        ..EngineConfig::default()
    };
    let (mut engine, resume) = open(&sink, config);
    assert_eq!(resume, None);
    let events = refresh(base_directory(), b"c1");
    let (head, tail) = events.split_at(3);
    for event in head.iter().cloned() {
        engine.push(event).unwrap();
    }
    // Two batches of 2 were due after four entries; after three only one is committed,
    // and no cookie went with it.
    {
        let state = sink.state();
        assert_eq!(state.commits, 1);
        assert_eq!(state.accounts.len(), 2);
        assert_eq!(state.cookie, None);
    }
    for event in tail.iter().cloned() {
        engine.push(event).unwrap();
    }
    let state = sink.state();
    assert_eq!(state.accounts.len(), 4);
    assert_eq!(state.cookie, Some((b"c1".to_vec(), FP.to_owned())));
    assert_eq!(state.member_names("staff"), vec!["alice", "bob"]);
}

#[test]
fn refresh_end_sweeps_unmentioned_entries_per_policy() {
    for (on_delete, expect_deleted) in [(OnDelete::Disable, false), (OnDelete::Delete, true)] {
        let sink = MemorySink::new(MembershipMode::Effective);
        let config = EngineConfig {
            policy: SyncPolicy {
                on_delete,
                ..SyncPolicy::default()
            },
            ..EngineConfig::default()
        };
        let (mut engine, _) = open(&sink, config.clone());
        feed(&mut engine, refresh(base_directory(), b"c1"));
        drop(engine);

        // A second full refresh (no cookie) that no longer mentions carol.
        let (mut engine, _) = open(&sink, config);
        let mut dir = base_directory();
        dir.retain(|entry| entry.name != "carol");
        feed(&mut engine, refresh(dir, b"c2"));
        let state = sink.state();
        match state.by_name("carol") {
            Some((_, account)) => {
                assert!(!expect_deleted);
                assert!(account.gone && !account.enabled);
            }
            None => assert!(expect_deleted),
        }
        assert!(state.by_name("alice").unwrap().1.enabled);
    }
}

#[test]
fn incremental_refresh_with_present_deleted_and_changed() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    drop(engine);

    let (mut engine, resume) = open(&sink, EngineConfig::default());
    assert_eq!(resume.as_deref(), Some(&b"c1"[..]));
    let mut bob = user(2, "bob");
    bob.attrs
        .insert("mail".into(), vec!["robert@example.org".into()]);
    feed(
        &mut engine,
        vec![
            // The warm-up: every entry in view, lightly.
            Event::Known(group(10, "staff", vec![dn("alice"), dn("bob")])),
            Event::Known(user(1, "alice")),
            Event::Known(user(2, "bob")),
            Event::Known(user(3, "carol")),
            Event::Present(vec![id(1), id(10)]),
            Event::Deleted(vec![id(3)]),
            Event::Changed(bob),
            Event::Cookie(b"c2".to_vec()),
            Event::RefreshDone {
                delete_unmentioned: false,
            },
        ],
    );
    let state = sink.state();
    assert!(state.by_name("carol").unwrap().1.gone);
    assert_eq!(
        state.by_name("bob").unwrap().1.attrs["mail"],
        vec!["robert@example.org"]
    );
    assert_eq!(state.cookie.as_ref().unwrap().0, b"c2");
    assert_eq!(state.member_names("staff"), vec!["alice", "bob"]);
}

#[test]
fn present_phase_sweeps_what_was_neither_present_nor_changed() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    drop(engine);

    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(
        &mut engine,
        vec![
            Event::Present(vec![id(1), id(10)]),
            Event::Changed(user(2, "bob")),
            Event::Cookie(b"c2".to_vec()),
            Event::RefreshDone {
                delete_unmentioned: true,
            },
        ],
    );
    let state = sink.state();
    assert!(state.by_name("carol").unwrap().1.gone);
    assert!(!state.by_name("alice").unwrap().1.gone);
}

#[test]
fn persist_commits_each_change_with_its_cookie_and_coalesces_bursts() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    assert_eq!(engine.phase(), Phase::Persist);
    let commits_before = sink.state().commits;

    // One change, then idle: committed at once with its cookie.
    engine.push(Event::Changed(user(4, "dave"))).unwrap();
    engine.push(Event::Cookie(b"c2".to_vec())).unwrap();
    assert_eq!(sink.state().commits, commits_before, "nothing before idle");
    engine.on_idle().unwrap();
    {
        let state = sink.state();
        assert_eq!(state.commits, commits_before + 1);
        assert!(state.by_name("dave").is_some());
        assert_eq!(state.cookie.as_ref().unwrap().0, b"c2");
    }

    // A burst of five changes before the source goes quiet: one transaction.
    for n in 0..5u128 {
        engine
            .push(Event::Changed(user(100 + n, &format!("burst{n}"))))
            .unwrap();
        engine
            .push(Event::Cookie(format!("c3-{n}").into_bytes()))
            .unwrap();
    }
    engine.on_idle().unwrap();
    let state = sink.state();
    assert_eq!(state.commits, commits_before + 2);
    assert_eq!(state.cookie.as_ref().unwrap().0, b"c3-4");
}

#[test]
fn cookie_never_moves_ahead_of_the_data_it_covers() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));

    engine.push(Event::Changed(user(4, "dave"))).unwrap();
    engine.push(Event::Cookie(b"c2".to_vec())).unwrap();
    sink.state().fail_next = 1;
    let error = engine.on_idle().unwrap_err();
    assert!(error.is_retryable());
    {
        let state = sink.state();
        assert!(state.by_name("dave").is_none());
        assert_eq!(state.cookie.as_ref().unwrap().0, b"c1");
    }
    assert_eq!(engine.committed_cookie(), Some(&b"c1"[..]));
    // Further events wait for the retry.
    assert!(matches!(
        engine.push(Event::Changed(user(5, "erin"))),
        Err(EngineError::RetryPending)
    ));
    engine.retry().unwrap();
    let state = sink.state();
    assert!(state.by_name("dave").is_some());
    assert_eq!(state.cookie.as_ref().unwrap().0, b"c2");
}

#[test]
fn cookies_seen_during_a_refresh_wait_for_its_end() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let config = EngineConfig {
        batch_size: 1,
        ..EngineConfig::default()
    };
    let (mut engine, _) = open(&sink, config);
    engine.push(Event::Cookie(b"mid".to_vec())).unwrap();
    engine.push(Event::Changed(user(1, "alice"))).unwrap();
    engine.on_idle().unwrap();
    engine.finish().unwrap();
    let state = sink.state();
    assert!(state.by_name("alice").is_some());
    assert_eq!(state.cookie, None, "an unfinished refresh stores no cookie");
}

#[test]
fn members_resolve_whatever_the_arrival_order() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    // The group arrives before its members.
    feed(
        &mut engine,
        refresh(
            vec![
                group(10, "staff", vec![dn("alice"), dn("bob")]),
                user(1, "alice"),
                user(2, "bob"),
            ],
            b"c1",
        ),
    );
    assert_eq!(sink.state().member_names("staff"), vec!["alice", "bob"]);

    // In persist, a group naming a member not seen yet is fixed up when the member arrives.
    feed(
        &mut engine,
        vec![Event::Changed(group(
            10,
            "staff",
            vec![dn("alice"), dn("bob"), dn("zoe")],
        ))],
    );
    assert_eq!(sink.state().member_names("staff"), vec!["alice", "bob"]);
    feed(&mut engine, vec![Event::Changed(user(26, "zoe"))]);
    assert_eq!(
        sink.state().member_names("staff"),
        vec!["alice", "bob", "zoe"]
    );
}

#[test]
fn member_uid_names_resolve_case_insensitively() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(
        &mut engine,
        refresh(
            vec![
                group(
                    10,
                    "posix",
                    vec![
                        MemberRef::Name("Alice".into()),
                        MemberRef::Name("bob".into()),
                    ],
                ),
                user(1, "alice"),
                user(2, "bob"),
            ],
            b"c1",
        ),
    );
    assert_eq!(sink.state().member_names("posix"), vec!["alice", "bob"]);
}

#[test]
fn nested_groups_expand_to_users_and_cycles_terminate() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(
        &mut engine,
        refresh(
            vec![
                user(1, "alice"),
                user(2, "bob"),
                user(3, "carol"),
                group(10, "all", vec![gdn("staff"), dn("carol")]),
                group(11, "staff", vec![dn("alice"), gdn("admins")]),
                // admins ⊃ all: a cycle.
                group(12, "admins", vec![dn("bob"), gdn("all")]),
            ],
            b"c1",
        ),
    );
    {
        let state = sink.state();
        for name in ["all", "staff", "admins"] {
            assert_eq!(
                state.member_names(name),
                vec!["alice", "bob", "carol"],
                "{name}"
            );
        }
    }
    // A change deep down reaches every ancestor.
    feed(
        &mut engine,
        vec![
            Event::Changed(user(4, "dave")),
            Event::Changed(group(12, "admins", vec![dn("dave")])),
        ],
    );
    let state = sink.state();
    assert_eq!(state.member_names("all"), vec!["alice", "carol", "dave"]);
    assert_eq!(state.member_names("staff"), vec!["alice", "dave"]);
    assert_eq!(state.member_names("admins"), vec!["dave"]);
}

#[test]
fn direct_mode_keeps_groups_as_members() {
    let sink = MemorySink::new(MembershipMode::Direct);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(
        &mut engine,
        refresh(
            vec![
                user(1, "alice"),
                group(10, "all", vec![gdn("staff")]),
                group(11, "staff", vec![dn("alice")]),
            ],
            b"c1",
        ),
    );
    let state = sink.state();
    assert_eq!(state.member_names("all"), vec!["staff"]);
    assert_eq!(state.member_names("staff"), vec!["alice"]);
}

#[test]
fn a_deleted_member_leaves_its_groups() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    feed(&mut engine, vec![Event::Deleted(vec![id(2)])]);
    assert_eq!(sink.state().member_names("staff"), vec!["alice"]);
}

#[test]
fn rename_keeps_the_id_and_never_deletes() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    let mut renamed = user(1, "alicia");
    renamed.locator = "uid=alicia,ou=people,dc=example,dc=org".into();
    feed(&mut engine, vec![Event::Changed(renamed)]);
    let stats = engine.stats().counts;
    assert_eq!(stats.renamed, 1);
    assert_eq!(stats.deleted, 0);
    assert_eq!(stats.created, 4);
    let state = sink.state();
    assert!(state.by_name("alice").is_none());
    let (renamed_id, account) = state.by_name("alicia").unwrap();
    assert_eq!(*renamed_id, id(1));
    assert!(account.enabled && !account.gone);
    assert_eq!(state.member_names("staff"), vec!["alicia", "bob"]);
}

#[test]
fn match_by_name_adopts_and_match_by_id_refuses() {
    for (match_by, adopted) in [(MatchPolicy::Name, true), (MatchPolicy::Id, false)] {
        let sink = MemorySink::new(MembershipMode::Effective);
        sink.state().unmanaged.insert("alice".into());
        let config = EngineConfig {
            policy: SyncPolicy {
                match_by,
                ..SyncPolicy::default()
            },
            ..EngineConfig::default()
        };
        let (mut engine, _) = open(&sink, config);
        feed(&mut engine, refresh(vec![user(1, "alice")], b"c1"));
        let stats = engine.stats();
        if adopted {
            assert_eq!(stats.counts.adopted, 1);
            assert!(sink.state().by_name("alice").is_some());
        } else {
            assert_eq!(stats.counts.quarantined, 1);
            assert!(stats.quarantined[0].reason.contains("does not manage"));
            assert!(sink.state().by_name("alice").is_none());
        }
    }
}

fn many_users(count: u128) -> Vec<Entry> {
    (0..count)
        .map(|n| user(1000 + n, &format!("u{n}")))
        .collect()
}

#[test]
fn mass_delete_guard_stops_a_large_sweep_unless_allowed() {
    for allow in [false, true] {
        let sink = MemorySink::new(MembershipMode::Effective);
        let (mut engine, _) = open(&sink, EngineConfig::default());
        feed(&mut engine, refresh(many_users(2000), b"c1"));
        drop(engine);

        // 600 of 2000 gone: more than max(10% = 200, 500).
        let config = EngineConfig {
            guard: MassDeleteGuard {
                allow,
                ..MassDeleteGuard::default()
            },
            ..EngineConfig::default()
        };
        let (mut engine, _) = open(&sink, config);
        let mut events: Vec<Event> = many_users(1400).into_iter().map(Event::Changed).collect();
        events.push(Event::Cookie(b"c2".to_vec()));
        let mut result = Ok(());
        for event in events {
            engine.push(event).unwrap();
        }
        if let Err(error) = engine.push(Event::RefreshDone {
            delete_unmentioned: true,
        }) {
            result = Err(error);
        }
        let state = sink.state();
        let gone = state.accounts.values().filter(|a| a.gone).count();
        if allow {
            assert!(result.is_ok());
            assert_eq!(gone, 600);
            assert_eq!(state.cookie.as_ref().unwrap().0, b"c2");
        } else {
            let error = result.unwrap_err();
            assert!(matches!(
                error,
                EngineError::MassDelete {
                    removals: 600,
                    synced: 2000,
                    limit: 500
                }
            ));
            assert!(error.to_string().contains("--allow-mass-delete"));
            assert_eq!(gone, 0);
            assert_eq!(state.cookie.as_ref().unwrap().0, b"c1");
        }
    }
}

#[test]
fn removals_below_the_guard_limit_pass() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(many_users(2000), b"c1"));
    drop(engine);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(many_users(1500), b"c2"));
    assert_eq!(
        sink.state().accounts.values().filter(|a| a.gone).count(),
        500
    );
}

#[test]
fn dry_run_plans_everything_and_writes_nothing() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    drop(engine);
    let before = sink.state().clone();

    let config = EngineConfig {
        dry_run: true,
        batch_size: 1,
        ..EngineConfig::default()
    };
    let (mut engine, _) = open(&sink, config);
    let mut dir = base_directory();
    dir.retain(|entry| entry.name != "carol");
    dir[0].name = "alicia".into();
    dir.push(user(4, "dave"));
    dir.push(group(10, "staff", vec![dn("alice"), dn("dave")]));
    feed(&mut engine, refresh(dir, b"c2"));
    engine.finish().unwrap();
    assert_eq!(
        *sink.state(),
        before,
        "a dry run writes nothing, cookie included"
    );
    let changes = &engine.stats().changes;
    assert!(changes
        .iter()
        .any(|c| matches!(c, PlannedChange::Create { name, .. } if name == "dave")));
    assert!(changes
        .iter()
        .any(|c| matches!(c, PlannedChange::Rename { to, .. } if to == "alicia")));
    assert!(changes
        .iter()
        .any(|c| matches!(c, PlannedChange::Disable { name, .. } if name == "carol")));
    assert!(changes
        .iter()
        .any(|c| matches!(c, PlannedChange::RemoveMember { member, .. } if *member == id(2))));
}

#[test]
fn a_different_fingerprint_means_a_full_refresh() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    drop(engine);
    let (_engine, resume) = Engine::open(
        Box::new(sink.reopen()),
        EngineConfig::default(),
        &SourceFingerprint("another:view".into()),
    )
    .unwrap();
    assert_eq!(resume, None);
}

#[test]
fn refresh_required_restarts_the_refresh_and_sweeps_at_its_end() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    drop(engine);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    let mut events = vec![Event::Present(vec![id(3)]), Event::RefreshRequired];
    let mut dir = base_directory();
    dir.retain(|entry| entry.name != "carol");
    events.extend(refresh(dir, b"fresh"));
    feed(&mut engine, events);
    let state = sink.state();
    assert!(
        state.by_name("carol").unwrap().1.gone,
        "present before the restart no longer counts"
    );
    assert_eq!(state.cookie.as_ref().unwrap().0, b"fresh");
}

#[test]
fn resync_of_unchanged_directory_writes_nothing() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    drop(engine);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    let counts = engine.stats().counts;
    assert!(counts.is_noop(), "{counts:?}");
    assert_eq!(counts.unchanged, 4);
    assert!(sink.state().accounts.values().all(|a| a.writes == 1));
}

#[test]
fn a_change_then_a_delete_in_one_burst_is_a_delete() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    feed(&mut engine, refresh(base_directory(), b"c1"));
    feed(
        &mut engine,
        vec![
            Event::Changed(user(4, "dave")),
            Event::Deleted(vec![id(4)]),
            Event::Deleted(vec![id(3)]),
            Event::Changed(user(3, "carol")),
        ],
    );
    let state = sink.state();
    assert!(state.by_name("dave").is_none());
    assert!(!state.by_name("carol").unwrap().1.gone);
}

#[test]
fn many_deleted_members_leave_their_groups_in_one_pass() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    let mut entries = many_users(40);
    let members: Vec<MemberRef> = (0..40).map(|n| dn(&format!("u{n}"))).collect();
    entries.push(group(10, "all", members.clone()));
    entries.push(group(11, "outer", vec![gdn("all")]));
    feed(&mut engine, refresh(entries, b"c1"));
    assert_eq!(sink.state().member_names("outer").len(), 40);
    // 30 at once (the set-based path) and then 1 (the binary-search path).
    feed(
        &mut engine,
        vec![Event::Deleted((0..30).map(|n| id(1000 + n)).collect())],
    );
    feed(&mut engine, vec![Event::Deleted(vec![id(1030)])]);
    let state = sink.state();
    let expected: Vec<String> = (31..40).map(|n| format!("u{n}")).collect();
    assert_eq!(state.member_names("all"), expected);
    assert_eq!(state.member_names("outer"), expected);
}

#[test]
fn a_member_that_leaves_the_view_and_returns_rejoins_unchanged_groups() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    let mut directory = base_directory();
    directory.push(group(11, "all", vec![gdn("staff")]));
    feed(&mut engine, refresh(directory, b"c1"));
    assert_eq!(sink.state().member_names("all"), vec!["alice", "bob"]);
    // bob is moved out of the view and back; the groups never change (refint rewrites are
    // not replicated).
    feed(&mut engine, vec![Event::Deleted(vec![id(2)])]);
    assert_eq!(sink.state().member_names("staff"), vec!["alice"]);
    assert_eq!(sink.state().member_names("all"), vec!["alice"]);
    feed(&mut engine, vec![Event::Changed(user(2, "bob"))]);
    assert_eq!(sink.state().member_names("staff"), vec!["alice", "bob"]);
    assert_eq!(sink.state().member_names("all"), vec!["alice", "bob"]);
    // The same for a nested group that leaves and comes back.
    feed(&mut engine, vec![Event::Deleted(vec![id(10)])]);
    assert!(sink.state().member_names("all").is_empty());
    feed(
        &mut engine,
        vec![Event::Changed(group(
            10,
            "staff",
            vec![dn("alice"), dn("bob")],
        ))],
    );
    assert_eq!(sink.state().member_names("all"), vec!["alice", "bob"]);
}

#[test]
fn a_renamed_user_leaves_member_uid_groups_that_name_the_old_name() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    let directory = vec![
        user(1, "alice"),
        user(2, "bob"),
        group(10, "wheel", vec![MemberRef::Name("bob".into())]),
        group(11, "staff", vec![dn("alice"), dn("robert")]),
    ];
    feed(&mut engine, refresh(directory, b"c1"));
    assert_eq!(sink.state().member_names("wheel"), vec!["bob"]);
    assert_eq!(sink.state().member_names("staff"), vec!["alice"]);
    // uid=bob becomes uid=robert; wheel still says memberUid: bob.
    let mut robert = user(2, "robert");
    robert.locator = "uid=robert,ou=people,dc=example,dc=org".into();
    feed(&mut engine, vec![Event::Changed(robert)]);
    assert!(sink.state().member_names("wheel").is_empty());
    assert_eq!(sink.state().member_names("staff"), vec!["alice", "robert"]);
    // A new user named bob takes the old name's place in wheel.
    feed(&mut engine, vec![Event::Changed(user(3, "bob"))]);
    assert_eq!(sink.state().member_names("wheel"), vec!["bob"]);
}

mod snapshot {
    //! The member-index snapshot: round trip, mismatches and damaged files.

    use super::*;

    /// alice, bob (memberUid in wheel), carol, staff (DN members), all (nests staff).
    fn directory() -> Vec<Entry> {
        vec![
            user(1, "alice"),
            user(2, "bob"),
            user(3, "carol"),
            group(10, "staff", vec![dn("alice"), dn("bob")]),
            group(11, "all", vec![gdn("staff"), dn("carol")]),
            group(12, "wheel", vec![MemberRef::Name("bob".into())]),
        ]
    }

    /// A synced sink at cookie c2 (a refresh at c1, one persist change at c2) and a snapshot
    /// of the engine's index taken at its clean stop.
    fn synced_with_snapshot() -> (MemorySink, Vec<u8>) {
        let sink = MemorySink::new(MembershipMode::Effective);
        let (mut engine, _) = open(&sink, EngineConfig::default());
        feed(&mut engine, refresh(directory(), b"c1"));
        feed(
            &mut engine,
            vec![
                Event::Changed(user(4, "dave")),
                Event::Cookie(b"c2".to_vec()),
            ],
        );
        engine.finish().unwrap();
        let bytes = engine.index_snapshot().unwrap();
        (sink, bytes)
    }

    /// While the runner was stopped: bob renamed to robert (wheel still says memberUid: bob),
    /// carol deleted, dave added to staff (nested in all), wheel... stays; the incremental
    /// refresh (delete phase) at c3.
    fn changes_while_stopped() -> Vec<Event> {
        let mut robert = user(2, "robert");
        robert.locator = "uid=robert,ou=people,dc=example,dc=org".into();
        vec![
            Event::Changed(robert),
            Event::Deleted(vec![id(3)]),
            Event::Changed(group(
                10,
                "staff",
                vec![dn("alice"), dn("robert"), dn("dave")],
            )),
            Event::Cookie(b"c3".to_vec()),
            Event::RefreshDone {
                delete_unmentioned: false,
            },
        ]
    }

    fn assert_after_changes(sink: &MemorySink) {
        let state = sink.state();
        assert_eq!(state.member_names("staff"), vec!["alice", "dave", "robert"]);
        assert_eq!(state.member_names("all"), vec!["alice", "dave", "robert"]);
        assert!(
            state.member_names("wheel").is_empty(),
            "wheel names bob, who is robert now"
        );
        assert!(state.by_name("carol").unwrap().1.gone);
        assert_eq!(state.cookie.as_ref().unwrap().0, b"c3");
    }

    #[test]
    fn a_snapshot_round_trips_and_replaces_the_warm_up() {
        let (sink, bytes) = synced_with_snapshot();
        let (mut engine, resume) = open(&sink, EngineConfig::default());
        assert_eq!(resume.as_deref(), Some(b"c2".as_slice()));
        assert_eq!(engine.restore_index_snapshot(&bytes).unwrap(), 7);
        feed(&mut engine, changes_while_stopped());
        assert_after_changes(&sink);
        // The restored engine snapshots to the same index at its own stop (re-encoding the
        // maps may order them differently, so compare decoded sizes).
        engine.finish().unwrap();
        let again = engine.index_snapshot().unwrap();
        let (_, resume) = open(&sink, EngineConfig::default());
        assert_eq!(resume.as_deref(), Some(b"c3".as_slice()));
        let (mut reopened, _) = open(&sink, EngineConfig::default());
        assert_eq!(reopened.restore_index_snapshot(&again).unwrap(), 6);
    }

    #[test]
    fn re_sent_changes_already_in_the_snapshot_are_idempotent() {
        // The snapshot holds a persist change committed without a newer cookie: the server
        // re-sends it after the restart from the older cookie.
        let sink = MemorySink::new(MembershipMode::Effective);
        let (mut engine, _) = open(&sink, EngineConfig::default());
        feed(&mut engine, refresh(directory(), b"c1"));
        let mut robert = user(2, "robert");
        robert.locator = "uid=robert,ou=people,dc=example,dc=org".into();
        feed(
            &mut engine,
            vec![Event::Changed(robert.clone()), Event::Deleted(vec![id(3)])],
        );
        engine.finish().unwrap();
        let bytes = engine.index_snapshot().unwrap();
        drop(engine);
        let (mut engine, resume) = open(&sink, EngineConfig::default());
        assert_eq!(resume.as_deref(), Some(b"c1".as_slice()));
        engine.restore_index_snapshot(&bytes).unwrap();
        feed(
            &mut engine,
            vec![
                Event::Changed(robert),
                Event::Deleted(vec![id(3)]),
                Event::Cookie(b"c2".to_vec()),
                Event::RefreshDone {
                    delete_unmentioned: false,
                },
            ],
        );
        let state = sink.state();
        assert!(state.member_names("wheel").is_empty());
        assert_eq!(state.member_names("staff"), vec!["alice", "robert"]);
        assert_eq!(state.member_names("all"), vec!["alice", "robert"]);
        assert!(state.by_name("carol").unwrap().1.gone);
        assert_eq!(engine.stats().counts.members_added, 0);
        assert_eq!(engine.stats().counts.members_removed, 0);
    }

    #[test]
    fn a_snapshot_is_only_taken_when_everything_is_committed() {
        let sink = MemorySink::new(MembershipMode::Effective);
        let (mut engine, _) = open(&sink, EngineConfig::default());
        assert!(matches!(
            engine.index_snapshot(),
            Err(SnapshotError::NotSettled(_))
        ));
        let mut events = refresh(directory(), b"c1");
        let done = events.pop().unwrap();
        feed(&mut engine, events);
        assert!(
            matches!(engine.index_snapshot(), Err(SnapshotError::NotSettled(_))),
            "a refresh is unfinished"
        );
        feed(&mut engine, vec![done]);
        assert!(engine.index_snapshot().is_ok());
        engine.push(Event::Changed(user(4, "dave"))).unwrap();
        assert!(
            matches!(engine.index_snapshot(), Err(SnapshotError::NotSettled(_))),
            "a change is pending"
        );
        engine.finish().unwrap();
        assert!(engine.index_snapshot().is_ok());

        let dry = MemorySink::new(MembershipMode::Effective);
        let config = EngineConfig {
            dry_run: true,
            ..EngineConfig::default()
        };
        let (mut engine, _) = open(&dry, config);
        feed(&mut engine, refresh(directory(), b"c1"));
        engine.finish().unwrap();
        assert!(matches!(
            engine.index_snapshot(),
            Err(SnapshotError::NotSettled(_))
        ));
    }

    #[test]
    fn another_fingerprint_cookie_or_version_is_refused() {
        let (sink, bytes) = synced_with_snapshot();

        // Another view: a sink at the same cookie under another fingerprint.
        let other = MemorySink::new(MembershipMode::Effective);
        let fingerprint = SourceFingerprint("another:view".into());
        let (mut engine, _) = Engine::open(
            Box::new(other.reopen()),
            EngineConfig::default(),
            &fingerprint,
        )
        .unwrap();
        feed(&mut engine, refresh(directory(), b"c2"));
        drop(engine);
        let (mut engine, resume) = Engine::open(
            Box::new(other.reopen()),
            EngineConfig::default(),
            &fingerprint,
        )
        .unwrap();
        assert_eq!(resume.as_deref(), Some(b"c2".as_slice()));
        assert!(matches!(
            engine.restore_index_snapshot(&bytes),
            Err(SnapshotError::Fingerprint { found }) if found == FP
        ));
        assert_eq!(engine.index.len(), 0);

        // The sink moved on to c3: the snapshot at c2 is stale.
        let (mut engine, _) = open(&sink, EngineConfig::default());
        feed(
            &mut engine,
            vec![Event::RefreshDone {
                delete_unmentioned: false,
            }],
        );
        feed(
            &mut engine,
            vec![
                Event::Changed(user(5, "erin")),
                Event::Cookie(b"c3".to_vec()),
            ],
        );
        drop(engine);
        let (mut engine, _) = open(&sink, EngineConfig::default());
        assert!(matches!(
            engine.restore_index_snapshot(&bytes),
            Err(SnapshotError::Cookie)
        ));

        // No cookie at all (a full refresh follows).
        let empty = MemorySink::new(MembershipMode::Effective);
        let (mut engine, _) = open(&empty, EngineConfig::default());
        assert!(matches!(
            engine.restore_index_snapshot(&bytes),
            Err(SnapshotError::Cookie)
        ));

        // Another format version.
        let (sink, mut bytes) = synced_with_snapshot();
        bytes[8..12].copy_from_slice(&(INDEX_SNAPSHOT_VERSION + 1).to_le_bytes());
        let (mut engine, _) = open(&sink, EngineConfig::default());
        assert!(matches!(
            engine.restore_index_snapshot(&bytes),
            Err(SnapshotError::Version { found, .. }) if found == INDEX_SNAPSHOT_VERSION + 1
        ));
    }

    #[test]
    fn damaged_snapshots_are_refused_and_the_warm_up_still_works() {
        let (sink, bytes) = synced_with_snapshot();
        let mut flipped = bytes.clone();
        let last = flipped.len() - 10;
        flipped[last] ^= 0x55;
        let mut damaged: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("garbage", b"not a snapshot at all".to_vec()),
            ("magic only", bytes[..8].to_vec()),
            ("inside the header", bytes[..20].to_vec()),
            ("truncated body", bytes[..bytes.len() - 1].to_vec()),
            ("half", bytes[..bytes.len() / 2].to_vec()),
            ("flipped byte", flipped),
        ];
        let mut longer = bytes.clone();
        longer.push(0);
        damaged.push(("trailing byte", longer));
        for (what, data) in damaged {
            let (mut engine, _) = open(&sink, EngineConfig::default());
            let error = engine.restore_index_snapshot(&data).unwrap_err();
            assert!(
                !matches!(
                    error,
                    SnapshotError::NotSettled(_) | SnapshotError::NoCookie
                ),
                "{what}: {error}"
            );
            assert_eq!(engine.index.len(), 0, "{what}: the index is untouched");
            // The normal path: the source warms the index, then resumes.
            let mut events: Vec<Event> = directory().into_iter().map(Event::Known).collect();
            events.push(Event::Known(user(4, "dave")));
            events.push(Event::RefreshDone {
                delete_unmentioned: false,
            });
            feed(&mut engine, events);
            assert_eq!(
                sink.state().member_names("staff"),
                vec!["alice", "bob"],
                "{what}"
            );
            assert_eq!(engine.index.len(), 7, "{what}");
        }
    }

    #[test]
    fn file_names_depend_on_the_fingerprint_only() {
        let a = index_snapshot_file_name(&SourceFingerprint("ldap:v1:a".into()));
        let b = index_snapshot_file_name(&SourceFingerprint("ldap:v1:b".into()));
        assert_ne!(a, b);
        assert_eq!(
            a,
            index_snapshot_file_name(&SourceFingerprint("ldap:v1:a".into()))
        );
        assert!(
            a.starts_with("index-") && a.ends_with(".bin") && a.len() == 18,
            "{a}"
        );
    }
}

/// uid=bob became uid=robert while the runner was stopped; wheel still says memberUid: bob.
#[test]
fn a_user_renamed_before_a_warm_up_leaves_member_uid_groups() {
    let sink = MemorySink::new(MembershipMode::Effective);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    let dir = vec![
        user(1, "alice"),
        user(2, "bob"),
        group(12, "wheel", vec![MemberRef::Name("bob".into())]),
    ];
    feed(&mut engine, refresh(dir, b"c1"));
    drop(engine);
    let (mut engine, _) = open(&sink, EngineConfig::default());
    let mut robert = user(2, "robert");
    robert.locator = "uid=robert,ou=people,dc=example,dc=org".into();
    let events = vec![
        Event::Known(user(1, "alice")),
        Event::Known(robert.clone()),
        Event::Known(group(12, "wheel", vec![MemberRef::Name("bob".into())])),
        Event::Changed(robert),
        Event::Cookie(b"c2".to_vec()),
        Event::RefreshDone {
            delete_unmentioned: false,
        },
    ];
    feed(&mut engine, events);
    // The warm-up already knows robert, so the change is no rename for the index; the sink
    // still holds him in wheel, which names bob.
    assert!(sink.state().member_names("wheel").is_empty());
}
