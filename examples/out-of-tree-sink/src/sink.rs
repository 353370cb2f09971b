//! The sink: plans each batch against its state, appends the lines, then commits the state.

use std::path::{Path, PathBuf};

use idsync_plugin::{
    ApplyOptions, ApplyReport, Batch, CheckItem, PluginSink, Sink, SinkCapabilities, SinkError,
    SinkErrorKind, StoredState, SyncPolicy,
};

use crate::change::Line;
use crate::config::JsonlConfig;
use crate::output;
use crate::plan::plan;
use crate::state::{self, State};
use crate::time::now_rfc3339;

/// Appends one JSON line per change to a file.
#[derive(Debug)]
pub struct JsonlSink {
    config: JsonlConfig,
    state_path: PathBuf,
    /// Loaded by `prepare` (or the first call that needs it).
    state: Option<State>,
    closed: bool,
}

impl PluginSink for JsonlSink {
    type Config = JsonlConfig;

    fn new(config: JsonlConfig) -> Result<Self, SinkError> {
        if config.path.file_name().is_none() {
            return Err(SinkError::new(
                SinkErrorKind::Config,
                format!(
                    "jsonl sink: `path` must name a file, not `{}`",
                    config.path.display()
                ),
            ));
        }
        Ok(Self {
            state_path: state::state_path(&config.path),
            config,
            state: None,
            closed: false,
        })
    }
}

impl JsonlSink {
    fn state(&mut self) -> Result<&mut State, SinkError> {
        if self.closed {
            return Err(SinkError::new(SinkErrorKind::Other, "jsonl sink: closed"));
        }
        let state = match self.state.take() {
            Some(state) => state,
            None => state::load(&self.state_path)?,
        };
        Ok(self.state.insert(state))
    }

    fn path(&self) -> &Path {
        &self.config.path
    }

    fn io_error(&self, action: &str, error: &std::io::Error) -> SinkError {
        SinkError::new(
            SinkErrorKind::Unavailable,
            format!(
                "jsonl sink: cannot {action} `{}`: {error}",
                self.path().display()
            ),
        )
    }
}

impl Sink for JsonlSink {
    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            membership: self.config.membership,
        }
    }

    /// Loads the state and cuts off a torn last line. Policies do not matter here: a log has
    /// no pre-existing accounts to adopt, and `delete` vs `disable` shows in the lines.
    fn prepare(&mut self, _policy: &SyncPolicy) -> Result<(), SinkError> {
        self.state()?;
        output::repair(self.path()).map_err(|error| self.io_error("repair", &error))?;
        Ok(())
    }

    fn load_state(&mut self) -> Result<StoredState, SinkError> {
        let state = self.state()?;
        Ok(StoredState {
            cookie: state.cookie()?,
            synced: state
                .entries
                .iter()
                .filter(|(_, known)| !known.removed)
                .map(|(id, known)| (*id, known.kind))
                .collect(),
        })
    }

    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
        let fsync = self.config.fsync;
        let output_path = self.config.path.clone();
        let state_path = self.state_path.clone();
        let state = self.state()?;
        let plan = plan(&state.entries, batch);

        let mut report = ApplyReport::default();
        report.counts.unchanged = plan.unchanged;
        for change in &plan.changes {
            change.count(&mut report.counts);
        }
        if options.record_changes || options.dry_run {
            report.changes = plan.changes.iter().map(|change| change.planned()).collect();
        }
        if options.dry_run || !plan.touches_state() {
            return Ok(report);
        }

        let mut next = state.clone();
        if !plan.changes.is_empty() {
            next.batches += 1;
            let ts = now_rfc3339();
            let mut buffer = Vec::new();
            for change in &plan.changes {
                let line = Line {
                    ts: &ts,
                    batch: next.batches,
                    change,
                };
                serde_json::to_writer(&mut buffer, &line).map_err(|error| {
                    SinkError::new(
                        SinkErrorKind::Other,
                        format!("jsonl sink: cannot encode a line: {error}"),
                    )
                })?;
                buffer.push(b'\n');
            }
            output::append(&output_path, &buffer, fsync).map_err(|error| {
                SinkError::new(
                    SinkErrorKind::Unavailable,
                    format!(
                        "jsonl sink: cannot append to `{}`: {error}",
                        output_path.display()
                    ),
                )
            })?;
        }
        // The lines are durable; now the state (a crash in between replays this batch).
        plan.commit(&mut next);
        state::save(&state_path, &next)?;
        *state = next;
        Ok(report)
    }

    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> {
        let mut items = Vec::new();
        let path = self.path().to_path_buf();
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match std::fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() && !meta.permissions().readonly() => {
                items.push(CheckItem::ok(format!(
                    "directory `{}` is writable",
                    dir.display()
                )));
            }
            Ok(meta) if meta.is_dir() => {
                items.push(CheckItem::failed(format!(
                    "directory `{}` is read-only",
                    dir.display()
                )));
            }
            Ok(_) => items.push(CheckItem::failed(format!(
                "`{}` is not a directory",
                dir.display()
            ))),
            Err(error) => items.push(CheckItem::failed(format!(
                "directory `{}`: {error}",
                dir.display()
            ))),
        }
        match std::fs::metadata(&path) {
            Ok(meta) if meta.permissions().readonly() => {
                items.push(CheckItem::failed(format!(
                    "`{}` is read-only",
                    path.display()
                )));
            }
            Ok(_) => items.push(CheckItem::ok(format!("output `{}` exists", path.display()))),
            Err(_) => items.push(CheckItem::warning(format!(
                "output `{}` does not exist yet; the first batch creates it",
                path.display()
            ))),
        }
        match state::load(&self.state_path) {
            Ok(state) => items.push(CheckItem::ok(format!(
                "state `{}`: {} entries, {}",
                self.state_path.display(),
                state.entries.len(),
                if state.cookie.is_some() {
                    "with a cookie"
                } else {
                    "no cookie yet"
                }
            ))),
            Err(error) => items.push(CheckItem::failed(error.message)),
        }
        Ok(items)
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.state = None;
        self.closed = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::BTreeMap;

    use idsync_plugin::{
        CookieUpdate, Entry, EntryId, EntryKind, GroupMembers, MembershipMode, Removal,
        RemovalAction,
    };

    use super::*;

    struct Dir(PathBuf);

    impl Dir {
        fn new(label: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("idsync-jsonl-{label}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open(dir: &Dir) -> JsonlSink {
        let mut sink = JsonlSink::new(JsonlConfig {
            path: dir.0.join("changes.jsonl"),
            membership: MembershipMode::Effective,
            fsync: false,
        })
        .unwrap();
        sink.prepare(&SyncPolicy::default()).unwrap();
        sink
    }

    fn lines(dir: &Dir) -> Vec<serde_json::Value> {
        std::fs::read_to_string(dir.0.join("changes.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn id(n: u8) -> EntryId {
        EntryId::from_bytes([n; 16])
    }

    fn user(n: u8, name: &str, mail: &str) -> Entry {
        Entry {
            id: id(n),
            kind: EntryKind::User,
            locator: format!("uid={name},dc=x"),
            name: name.to_owned(),
            enabled: true,
            attrs: BTreeMap::from([("mail".to_owned(), vec![mail.to_owned()])]),
            members: Vec::new(),
        }
    }

    fn group(n: u8, name: &str) -> Entry {
        Entry {
            kind: EntryKind::Group,
            attrs: BTreeMap::new(),
            ..user(n, name, "")
        }
    }

    fn cookie(n: u8) -> Option<CookieUpdate> {
        Some(CookieUpdate {
            cookie: vec![n],
            fingerprint: "fp".to_owned(),
        })
    }

    fn changes(values: &[serde_json::Value]) -> Vec<String> {
        values
            .iter()
            .map(|line| line["change"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn changes_become_lines_and_survive_a_restart() {
        let dir = Dir::new("lifecycle");
        let mut sink = open(&dir);
        let first = Batch {
            upserts: vec![
                user(1, "alice", "a@x"),
                user(2, "bob", "b@x"),
                group(9, "staff"),
            ],
            memberships: vec![GroupMembers {
                group: id(9),
                members: vec![id(1), id(2)],
            }],
            cookie: cookie(1),
            ..Batch::default()
        };
        let report = sink.apply(&first, &ApplyOptions::default()).unwrap();
        assert_eq!(report.counts.created, 3);
        assert_eq!(report.counts.members_added, 2);
        let written = lines(&dir);
        assert_eq!(
            changes(&written),
            [
                "created",
                "created",
                "created",
                "member_added",
                "member_added"
            ]
        );
        assert_eq!(written[0]["batch"], 1);
        assert_eq!(written[0]["name"], "alice");
        assert_eq!(written[0]["kind"], "user");
        assert_eq!(written[0]["attrs"]["mail"][0], "a@x");
        assert_eq!(written[3]["group_name"], "staff");
        assert_eq!(written[3]["member_name"], "alice");

        // The same batch again: nothing changed, nothing written.
        let report = sink.apply(&first, &ApplyOptions::default()).unwrap();
        assert_eq!(report.counts.unchanged, 3);
        assert_eq!(lines(&dir).len(), 5);

        // A restart reads the state back.
        sink.close().unwrap();
        let mut sink = open(&dir);
        let state = sink.load_state().unwrap();
        assert_eq!(state.cookie, Some((vec![1], "fp".to_owned())));
        assert_eq!(state.synced.len(), 3);

        let second = Batch {
            upserts: vec![user(1, "alice2", "a2@x")],
            removals: vec![Removal {
                id: id(2),
                kind: Some(EntryKind::User),
                action: RemovalAction::Delete,
            }],
            cookie: cookie(2),
            ..Batch::default()
        };
        let report = sink
            .apply(
                &second,
                &ApplyOptions {
                    dry_run: false,
                    record_changes: true,
                },
            )
            .unwrap();
        assert_eq!(report.changes.len(), 4);
        let written = lines(&dir);
        assert_eq!(
            changes(&written[5..]),
            ["renamed", "updated", "member_removed", "deleted"]
        );
        assert_eq!(written[5]["batch"], 2);
        assert_eq!(written[6]["fields"]["mail"]["old"][0], "a@x");
        assert_eq!(written[6]["fields"]["mail"]["new"][0], "a2@x");
        assert_eq!(
            sink.load_state().unwrap().cookie,
            Some((vec![2], "fp".to_owned()))
        );
    }

    #[test]
    fn a_dry_run_writes_nothing() {
        let dir = Dir::new("dry-run");
        let mut sink = open(&dir);
        let batch = Batch {
            upserts: vec![user(1, "alice", "a@x")],
            cookie: cookie(1),
            ..Batch::default()
        };
        let options = ApplyOptions {
            dry_run: true,
            record_changes: false,
        };
        let report = sink.apply(&batch, &options).unwrap();
        assert_eq!(report.counts.created, 1);
        assert_eq!(report.changes.len(), 1);
        assert!(lines(&dir).is_empty());
        assert!(!dir.0.join("changes.jsonl.state.json").exists());
        assert_eq!(sink.load_state().unwrap(), StoredState::default());
    }

    #[test]
    fn disabling_then_returning_enables_again() {
        let dir = Dir::new("disable");
        let mut sink = open(&dir);
        let add = Batch {
            upserts: vec![user(1, "alice", "a@x")],
            ..Batch::default()
        };
        sink.apply(&add, &ApplyOptions::default()).unwrap();
        let gone = Batch {
            removals: vec![Removal {
                id: id(1),
                kind: None,
                action: RemovalAction::Disable,
            }],
            ..Batch::default()
        };
        sink.apply(&gone, &ApplyOptions::default()).unwrap();
        assert!(sink.load_state().unwrap().synced.is_empty());
        // Disabling twice changes nothing.
        sink.apply(&gone, &ApplyOptions::default()).unwrap();
        sink.apply(&add, &ApplyOptions::default()).unwrap();
        assert_eq!(changes(&lines(&dir)), ["created", "disabled", "enabled"]);
        assert_eq!(sink.load_state().unwrap().synced.len(), 1);
    }

    #[test]
    fn a_cookie_alone_updates_the_state_without_lines() {
        let dir = Dir::new("cookie");
        let mut sink = open(&dir);
        let batch = Batch {
            cookie: cookie(7),
            ..Batch::default()
        };
        sink.apply(&batch, &ApplyOptions::default()).unwrap();
        assert!(lines(&dir).is_empty());
        sink.close().unwrap();
        let mut sink = open(&dir);
        assert_eq!(
            sink.load_state().unwrap().cookie,
            Some((vec![7], "fp".to_owned()))
        );
    }

    #[test]
    fn a_corrupt_state_file_is_a_schema_error() {
        let dir = Dir::new("corrupt");
        std::fs::write(dir.0.join("changes.jsonl.state.json"), b"{not json").unwrap();
        let mut sink = JsonlSink::new(JsonlConfig {
            path: dir.0.join("changes.jsonl"),
            membership: MembershipMode::Direct,
            fsync: false,
        })
        .unwrap();
        let error = sink.prepare(&SyncPolicy::default()).unwrap_err();
        assert_eq!(error.kind, SinkErrorKind::Schema);
        let items = sink.check().unwrap();
        assert!(items
            .iter()
            .any(|item| item.status == idsync_plugin::CheckStatus::Failed));
    }
}
