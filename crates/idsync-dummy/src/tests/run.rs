//! One run of the source: the event sequence, check, configuration and the generator.

use std::path::PathBuf;
use std::time::Duration;

use idsync_core::{CheckStatus, Event, EventSender, Source, SourceError, SourceStart};
use tokio::sync::mpsc;

use crate::parse::sha256_hex;
use crate::{generate, DummyConfig, DummySource, GenerateConfig, GenerateParams};

const SAMPLE_YAML: &str = include_str!("../../examples/directory.yaml");

/// Runs the source to its end, collecting every event.
async fn run_once(source: &mut DummySource, start: SourceStart) -> Result<Vec<Event>, SourceError> {
    let (sender, mut receiver) = mpsc::channel(8);
    let collector = tokio::spawn(async move {
        let mut events = Vec::new();
        while let Some(event) = receiver.recv().await {
            events.push(event);
        }
        events
    });
    let result = source.run(start, sender).await;
    let events = collector.await.unwrap();
    result.map(|()| events)
}

fn sample_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("directory.yaml");
    std::fs::write(&path, SAMPLE_YAML).unwrap();
    (dir, path)
}

#[tokio::test]
async fn a_run_sends_every_entry_then_the_cookie_then_refresh_done() {
    let (_dir, path) = sample_file();
    let mut source = DummySource::from_file(&path);
    let events = run_once(&mut source, SourceStart::default()).await.unwrap();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            Event::Changed(entry) => Some(entry.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["alice", "bob", "mallory", "staff", "admins"]);
    assert_eq!(events.len(), 7);
    let cookie = format!("dummy:v1:{}", sha256_hex(SAMPLE_YAML.as_bytes())).into_bytes();
    assert_eq!(events[5], Event::Cookie(cookie));
    assert_eq!(
        events[6],
        Event::RefreshDone {
            delete_unmentioned: true
        }
    );
    // A stored cookie changes nothing: every start is a full refresh.
    let again = run_once(
        &mut source,
        SourceStart {
            cookie: Some(b"dummy:v1:old".to_vec()),
            follow: false,
            index_warm: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(again, events);
}

#[tokio::test]
async fn the_fingerprint_is_the_canonical_path() {
    let (dir, path) = sample_file();
    let source = DummySource::from_file(&path);
    let canonical = std::fs::canonicalize(dir.path())
        .unwrap()
        .join("directory.yaml");
    assert_eq!(
        source.fingerprint().0,
        format!("dummy:file:{}", canonical.display())
    );
    let generated = DummySource::generated(GenerateParams {
        users: 10,
        groups: 2,
        memberships: 5,
        nested: 0,
        seed: 42,
    });
    assert_eq!(generated.fingerprint().0, "dummy:generate:10:2:5:0:42");
}

#[tokio::test]
async fn a_broken_or_missing_file_at_start_is_a_config_error() {
    let (_dir, path) = sample_file();
    std::fs::write(&path, "users:\n  - name: a\n    id: xyz\n").unwrap();
    let error = run_once(&mut DummySource::from_file(&path), SourceStart::default())
        .await
        .unwrap_err();
    let SourceError::Config(message) = &error else {
        panic!("{error:?}")
    };
    assert!(
        message.contains("directory.yaml`: users[0].id: invalid UUID `xyz`"),
        "{message}"
    );

    let missing = path.with_file_name("missing.yaml");
    let error = run_once(
        &mut DummySource::from_file(&missing),
        SourceStart {
            cookie: None,
            follow: true,
            index_warm: false,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, SourceError::Config(m) if m.contains("missing.yaml")),
        "{error:?}"
    );

    // Also when the directory that would be watched does not exist.
    let nowhere = path.with_file_name("no-such-dir").join("dir.yaml");
    let error = run_once(
        &mut DummySource::from_file(&nowhere),
        SourceStart {
            cookie: None,
            follow: true,
            index_warm: false,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, SourceError::Config(m) if m.contains("no-such-dir")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_closed_channel_ends_the_run_quietly() {
    let (_dir, path) = sample_file();
    let (sender, receiver) = mpsc::channel(1);
    drop(receiver);
    DummySource::from_file(&path)
        .run(SourceStart::default(), sender)
        .await
        .unwrap();
    let (sender, receiver) = mpsc::channel(1);
    drop(receiver);
    DummySource::generated(GenerateParams {
        users: 1000,
        groups: 10,
        memberships: 100,
        nested: 2,
        seed: 1,
    })
    .run(
        SourceStart {
            cookie: None,
            follow: true,
            index_warm: false,
        },
        sender,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn check_reports_counts_warnings_and_failures() {
    let (_dir, path) = sample_file();
    let items = DummySource::from_file(&path).check().await.unwrap();
    assert_eq!(items[0].status, CheckStatus::Ok);
    assert!(
        items[0]
            .message
            .ends_with("3 users, 2 groups, 4 member references"),
        "{items:?}"
    );
    assert!(
        items.iter().all(|item| item.status == CheckStatus::Ok),
        "{items:?}"
    );

    std::fs::write(&path, "groups:\n  - name: g\n    members: [ghost]\n").unwrap();
    let items = DummySource::from_file(&path).check().await.unwrap();
    assert_eq!(items[1].status, CheckStatus::Warning);
    assert!(items[1].message.contains("`ghost`"), "{items:?}");

    std::fs::write(&path, "users: [").unwrap();
    let items = DummySource::from_file(&path).check().await.unwrap();
    assert_eq!(items[0].status, CheckStatus::Failed);
    assert!(items[0].message.contains("directory.yaml"), "{items:?}");

    let mut generated = DummySource::generated(GenerateParams {
        users: 10,
        groups: 3,
        memberships: 7,
        nested: 1,
        seed: 5,
    });
    let items = generated.check().await.unwrap();
    assert_eq!(
        items[0].message,
        "synthetic directory: 10 users, 3 groups, 7 memberships, 1 nested groups, seed 5"
    );
}

#[test]
fn new_validates_the_configuration() {
    let error = DummySource::new(DummyConfig::default()).unwrap_err();
    assert!(
        matches!(&error, SourceError::Config(m) if m.contains("source.path: missing")),
        "{error:?}"
    );
    let error = DummySource::new(DummyConfig {
        path: Some(PathBuf::from("x.yaml")),
        generate: Some(GenerateConfig::default()),
    })
    .unwrap_err();
    assert!(matches!(error, SourceError::Config(_)));
    let source = DummySource::new(DummyConfig {
        path: None,
        generate: Some(GenerateConfig {
            users: 10,
            groups: 3,
            memberships: 30,
            nested: None,
            seed: 9,
        }),
    })
    .unwrap();
    assert_eq!(source.fingerprint().0, "dummy:generate:10:3:30:1:9");
}

#[tokio::test]
async fn a_generated_run_sends_the_synthetic_directory() {
    let params = GenerateParams {
        users: 300,
        groups: 30,
        memberships: 2000,
        nested: 5,
        seed: 42,
    };
    let mut source = DummySource::generated(params);
    let events = run_once(&mut source, SourceStart::default()).await.unwrap();
    assert_eq!(events.len(), 330 + 2);
    let expected: Vec<Event> = generate(&params).map(Event::Changed).collect();
    assert_eq!(events[..330], expected[..]);
    let cookie = format!(
        "dummy:v1:{}",
        sha256_hex(b"dummy:generate:300:30:2000:5:42")
    );
    assert_eq!(events[330], Event::Cookie(cookie.into_bytes()));
    assert_eq!(
        events[331],
        Event::RefreshDone {
            delete_unmentioned: true
        }
    );
}

#[tokio::test]
async fn a_following_generated_run_waits_for_the_channel_to_close() {
    let (sender, mut receiver): (EventSender, _) = mpsc::channel(64);
    let mut source = DummySource::generated(GenerateParams {
        users: 5,
        groups: 2,
        memberships: 4,
        nested: 0,
        seed: 0,
    });
    let task = tokio::spawn(async move {
        source
            .run(
                SourceStart {
                    cookie: None,
                    follow: true,
                    index_warm: false,
                },
                sender,
            )
            .await
    });
    for _ in 0..9 {
        receiver.recv().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!task.is_finished());
    drop(receiver);
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
