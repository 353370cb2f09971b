//! Following a file: every kind of edit arrives within a second; broken edits change nothing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use idsync_core::{Entry, EntryId, EntryKind, Event, MemberRef, Source, SourceError, SourceStart};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{derived_id, DummySource};

/// The promise: an edit reaches the engine within this time.
const DEADLINE: Duration = Duration::from_secs(1);

const BOB_ID: &str = "0b0b0b0b-0000-4000-8000-000000000001";

struct Follower {
    _dir: tempfile::TempDir,
    path: PathBuf,
    events: mpsc::Receiver<Event>,
    task: JoinHandle<Result<(), SourceError>>,
    edits: usize,
}

impl Follower {
    /// Starts a following source on a file with `text`; returns it and the refresh's events.
    async fn start(text: &str) -> (Self, Vec<Event>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dir.yaml");
        std::fs::write(&path, text).unwrap();
        let (sender, events) = mpsc::channel(16);
        let mut source = DummySource::from_file(&path);
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
        let mut follower = Self {
            _dir: dir,
            path,
            events,
            task,
            edits: 0,
        };
        let mut refresh = Vec::new();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(5), follower.events.recv())
                .await
                .unwrap()
                .unwrap();
            let done = matches!(event, Event::RefreshDone { .. });
            refresh.push(event);
            if done {
                break;
            }
        }
        (follower, refresh)
    }

    /// Saves the file as editors do: write a temporary file, rename it over the old one.
    fn save(&mut self, text: &str) {
        self.edits += 1;
        let temporary = self
            .path
            .with_file_name(format!(".dir.yaml.{}.tmp", self.edits));
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, &self.path).unwrap();
    }

    /// Saves an edit and returns its events (up to and including the cookie), asserting they
    /// all arrive within [`DEADLINE`].
    async fn edit(&mut self, text: &str) -> Vec<Event> {
        let started = Instant::now();
        self.save(text);
        self.receive_edit(started).await
    }

    async fn receive_edit(&mut self, started: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let left = DEADLINE.saturating_sub(started.elapsed());
            let event = match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => panic!("the source stopped: {:?}", self.task),
                Err(_) => panic!("no cookie within {DEADLINE:?}; events so far: {events:?}"),
            };
            let cookie = matches!(event, Event::Cookie(_));
            events.push(event);
            if cookie {
                return events;
            }
        }
    }

    /// Asserts that nothing arrives for a while.
    async fn assert_quiet(&mut self, how_long: Duration) {
        if let Ok(event) = tokio::time::timeout(how_long, self.events.recv()).await {
            panic!("unexpected event {event:?}");
        }
    }

    async fn stop(self) {
        let Self { events, task, .. } = self;
        drop(events);
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("the source ends when the channel closes")
            .unwrap()
            .unwrap();
    }
}

fn user(name: &str) -> EntryId {
    derived_id(EntryKind::User, name)
}

fn group(name: &str) -> EntryId {
    derived_id(EntryKind::Group, name)
}

fn bob() -> EntryId {
    BOB_ID.parse().unwrap()
}

/// The changed entries of an edit, and its deleted ids; asserts it ends with a cookie.
fn split(events: Vec<Event>) -> (Vec<Entry>, Vec<EntryId>) {
    let mut changed = Vec::new();
    let mut deleted = Vec::new();
    let count = events.len();
    for (position, event) in events.into_iter().enumerate() {
        match event {
            Event::Changed(entry) => changed.push(entry),
            Event::Deleted(ids) => deleted.extend(ids),
            Event::Cookie(cookie) => {
                assert_eq!(position + 1, count);
                assert!(cookie.starts_with(b"dummy:v1:"));
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    (changed, deleted)
}

fn names(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|entry| entry.name.as_str()).collect()
}

const V1: &str = "
users:
  - name: alice
    attributes: { displayName: Alice }
  - name: bob
    id: 0b0b0b0b-0000-4000-8000-000000000001
groups:
  - name: staff
    members: [alice, bob]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_edit_arrives_within_a_second() {
    let (mut follower, refresh) = Follower::start(V1).await;
    assert_eq!(refresh.len(), 5);

    // Add a user.
    let v2 = V1.replace("groups:", "  - name: carol\ngroups:");
    let (changed, deleted) = split(follower.edit(&v2).await);
    assert_eq!(names(&changed), ["carol"]);
    assert_eq!(changed[0].id, user("carol"));
    assert!(deleted.is_empty());

    // Modify an attribute.
    let v3 = v2.replace("displayName: Alice", "displayName: Alice Liddell");
    let (changed, deleted) = split(follower.edit(&v3).await);
    assert_eq!(names(&changed), ["alice"]);
    assert_eq!(changed[0].attr("displayName"), Some("Alice Liddell"));
    assert!(deleted.is_empty());

    // Rename a user that has an id: the same id under a new name, the group unchanged.
    let v4 = v3
        .replace("  - name: bob\n", "  - name: robert\n")
        .replace("[alice, bob]", "[alice, robert]");
    let (changed, deleted) = split(follower.edit(&v4).await);
    assert_eq!(names(&changed), ["robert"]);
    assert_eq!(changed[0].id, bob());
    assert_eq!(changed[0].locator, "uid=robert,ou=users,dc=dummy");
    assert!(deleted.is_empty());

    // Disable a user.
    let v5 = v4.replace("  - name: carol\n", "  - name: carol\n    enabled: false\n");
    let (changed, _) = split(follower.edit(&v5).await);
    assert_eq!(names(&changed), ["carol"]);
    assert!(!changed[0].enabled);

    // Delete a user (and its membership).
    let v6 = v5
        .replace(
            "  - name: alice\n    attributes: { displayName: Alice Liddell }\n",
            "",
        )
        .replace("[alice, robert]", "[robert]");
    let (changed, deleted) = split(follower.edit(&v6).await);
    assert_eq!(deleted, [user("alice")]);
    assert_eq!(names(&changed), ["staff"]);
    assert_eq!(changed[0].members, [MemberRef::Id(bob())]);

    // Change a membership.
    let v7 = v6.replace("[robert]", "[robert, carol]");
    let (changed, deleted) = split(follower.edit(&v7).await);
    assert_eq!(names(&changed), ["staff"]);
    assert_eq!(
        changed[0].members,
        [MemberRef::Id(bob()), MemberRef::Id(user("carol"))]
    );
    assert!(deleted.is_empty());

    // Nested groups: a new group inside staff.
    let v8 = v7.replace("[robert, carol]", "[robert, carol, admins]")
        + "  - name: admins\n    members: [robert, staff]\n";
    let (changed, deleted) = split(follower.edit(&v8).await);
    assert_eq!(names(&changed), ["staff", "admins"]);
    assert_eq!(changed[0].members[2], MemberRef::Id(group("admins")));
    assert_eq!(
        changed[1].members,
        [MemberRef::Id(bob()), MemberRef::Id(group("staff"))]
    );
    assert!(deleted.is_empty());

    // Rename an entry without an id: a delete and a create.
    let v9 = v8
        .replace("  - name: carol\n", "  - name: caroline\n")
        .replace("[robert, carol, admins]", "[robert, caroline, admins]");
    let (changed, deleted) = split(follower.edit(&v9).await);
    assert_eq!(deleted, [user("carol")]);
    assert_eq!(names(&changed), ["caroline", "staff"]);
    assert_eq!(changed[0].id, user("caroline"));

    // A save that changes no entry sends nothing.
    follower.save(&format!("# a comment\n{v9}"));
    follower.assert_quiet(Duration::from_millis(700)).await;

    follower.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_edit_changes_nothing_and_the_next_good_edit_works() {
    let (mut follower, _) = Follower::start(V1).await;

    // Broken YAML, then a file with an invalid id, then an empty file: no events at all (in
    // particular no deletes).
    follower.save("users:\n  - name: alice\n    attributes: [\n");
    follower.assert_quiet(Duration::from_millis(600)).await;
    follower.save(&V1.replace("0b0b0b0b-0000-4000-8000-000000000001", "not-a-uuid"));
    follower.assert_quiet(Duration::from_millis(600)).await;
    follower.save("");
    follower.assert_quiet(Duration::from_millis(600)).await;

    // The next good edit is diffed against the last good version.
    let (changed, deleted) = split(
        follower
            .edit(&V1.replace("displayName: Alice", "displayName: Alice 2"))
            .await,
    );
    assert_eq!(names(&changed), ["alice"]);
    assert!(deleted.is_empty());

    follower.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_file_deletes_nothing_until_it_comes_back() {
    let (mut follower, _) = Follower::start(V1).await;
    std::fs::remove_file(&follower.path).unwrap();
    follower.assert_quiet(Duration::from_millis(600)).await;
    let started = Instant::now();
    let v2 = V1.replace("displayName: Alice", "displayName: Back");
    std::fs::write(&follower.path, &v2).unwrap();
    let (changed, deleted) = split(follower.receive_edit(started).await);
    assert_eq!(names(&changed), ["alice"]);
    assert!(deleted.is_empty());
    follower.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_writes_are_noticed_too() {
    let (mut follower, _) = Follower::start(V1).await;
    let started = Instant::now();
    std::fs::write(
        &follower.path,
        V1.replace(
            "  - name: bob\n    id: 0b0b0b0b-0000-4000-8000-000000000001\n",
            "",
        )
        .replace("[alice, bob]", "[alice]"),
    )
    .unwrap();
    let (changed, deleted) = split(follower.receive_edit(started).await);
    assert_eq!(deleted, [bob()]);
    assert_eq!(names(&changed), ["staff"]);
    // Unrelated files in the same directory wake nothing up.
    std::fs::write(follower.path.with_file_name("other.yaml"), "users: []\n").unwrap();
    follower.assert_quiet(Duration::from_millis(600)).await;
    follower.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_channel_ends_a_quiet_run() {
    let (follower, _) = Follower::start(V1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!follower.task.is_finished());
    follower.stop().await;
}
