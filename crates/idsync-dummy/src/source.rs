//! The dummy [`Source`]: a directory file (watched for edits) or a synthetic directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use idsync_core::{
    CheckItem, Event, EventSender, Source, SourceError, SourceFingerprint, SourceStart,
};
use tracing::{debug, error, info, warn};

use crate::config::{DummyConfig, GenerateParams};
use crate::diff::Snapshot;
use crate::error::DummyError;
use crate::file::read_directory;
use crate::generate::generate;
use crate::parse::{sha256_hex, Directory};
use crate::watch::{stamp, FileWatcher, Stamp};

/// Most warnings logged (or listed by `check`) for one read of the file.
const SHOWN_WARNINGS: usize = 20;

/// The dummy source (`[source] type = "dummy"`).
///
/// Every run is a full refresh: all entries as [`Event::Changed`], then
/// [`Event::Cookie`] (`dummy:v1:<sha-256 of the content>`), then
/// [`Event::RefreshDone`] with `delete_unmentioned: true`, so the engine removes whatever the
/// file no longer holds. The dummy has no change log to resume from, so a stored cookie given
/// in [`SourceStart`] is not used. With `follow`, a file source then watches the file and
/// sends the difference after each edit (see the crate docs).
#[derive(Debug)]
pub struct DummySource {
    mode: Mode,
    fingerprint: SourceFingerprint,
}

#[derive(Debug)]
enum Mode {
    /// The file, as configured (relative to the current directory).
    File(PathBuf),
    Generate(GenerateParams),
}

impl DummySource {
    /// Builds the source from its validated configuration; a bad configuration is a
    /// [`SourceError::Config`] listing every problem.
    pub fn new(config: DummyConfig) -> Result<Self, SourceError> {
        let problems = config.validate();
        if !problems.is_empty() {
            return Err(DummyError::Config(problems).into());
        }
        match (config.path, config.generate) {
            (Some(path), None) => Ok(Self::from_file(path)),
            (None, Some(generate)) => Ok(Self::generated(
                generate.params().map_err(DummyError::Config)?,
            )),
            // `validate` refuses both and neither.
            _ => Err(SourceError::Config(
                "set either `path` or `[source.generate]`".to_owned(),
            )),
        }
    }

    /// A source reading (and, when following, watching) a directory file.
    pub fn from_file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let canonical = std::fs::canonicalize(&path)
            .or_else(|_| std::path::absolute(&path))
            .unwrap_or_else(|_| path.clone());
        Self {
            fingerprint: SourceFingerprint(format!("dummy:file:{}", canonical.display())),
            mode: Mode::File(path),
        }
    }

    /// A source emitting a synthetic directory (see [`crate::generate()`]).
    pub fn generated(params: GenerateParams) -> Self {
        let GenerateParams {
            users,
            groups,
            memberships,
            nested,
            seed,
        } = params;
        Self {
            fingerprint: SourceFingerprint(format!(
                "dummy:generate:{users}:{groups}:{memberships}:{nested}:{seed}"
            )),
            mode: Mode::Generate(params),
        }
    }
}

#[async_trait]
impl Source for DummySource {
    fn fingerprint(&self) -> SourceFingerprint {
        self.fingerprint.clone()
    }

    async fn check(&mut self) -> Result<Vec<CheckItem>, SourceError> {
        match &self.mode {
            Mode::File(path) => Ok(check_file(path).await),
            Mode::Generate(params) => Ok(vec![CheckItem::ok(format!(
                "synthetic directory: {} users, {} groups, {} memberships, {} nested groups, \
                 seed {}",
                params.users, params.groups, params.memberships, params.nested, params.seed
            ))]),
        }
    }

    async fn run(&mut self, start: SourceStart, events: EventSender) -> Result<(), SourceError> {
        if start.cookie.is_some() {
            debug!(
                "the dummy source always starts with a full refresh; the stored cookie is not used"
            );
        }
        match &self.mode {
            Mode::File(path) => run_file(path, start.follow, &events).await,
            Mode::Generate(params) => {
                let cookie = format!("dummy:v1:{}", sha256_hex(self.fingerprint.0.as_bytes()));
                run_generated(*params, cookie.into_bytes(), start.follow, &events).await
            }
        }
    }
}

/// Reads the file off the async executor.
async fn load(path: &Path) -> Result<Directory, DummyError> {
    let owned = path.to_owned();
    tokio::task::spawn_blocking(move || read_directory(&owned))
        .await
        .map_err(|source| DummyError::Task {
            task: "file reading",
            source,
        })?
}

async fn check_file(path: &Path) -> Vec<CheckItem> {
    let mut items = Vec::new();
    match load(path).await {
        Ok(directory) => {
            items.push(CheckItem::ok(format!(
                "`{}`: {} users, {} groups, {} member references",
                path.display(),
                directory.users,
                directory.groups,
                directory.members
            )));
            for warning in directory.warnings.iter().take(SHOWN_WARNINGS) {
                items.push(CheckItem::warning(format!(
                    "`{}`: {warning}",
                    path.display()
                )));
            }
            if directory.warnings.len() > SHOWN_WARNINGS {
                items.push(CheckItem::warning(format!(
                    "`{}`: … and {} more unresolved member names",
                    path.display(),
                    directory.warnings.len() - SHOWN_WARNINGS
                )));
            }
        }
        Err(error) => items.push(CheckItem::failed(error.report())),
    }
    match FileWatcher::start(path) {
        Ok(_) => items.push(CheckItem::ok(format!(
            "`{}` can be watched for edits",
            path.display()
        ))),
        Err(error) => items.push(CheckItem::warning(format!(
            "{}; `idsync run` without `--once` will fail",
            error.report()
        ))),
    }
    items
}

fn log_warnings(path: &Path, warnings: &[String]) {
    for warning in warnings.iter().take(SHOWN_WARNINGS) {
        warn!(file = %path.display(), "{warning}");
    }
    if warnings.len() > SHOWN_WARNINGS {
        warn!(
            file = %path.display(),
            "… and {} more unresolved member names",
            warnings.len() - SHOWN_WARNINGS
        );
    }
}

/// Sends one event; `false` when the engine stopped listening.
async fn send(events: &EventSender, event: Event) -> bool {
    if events.send(event).await.is_err() {
        debug!("the engine stopped receiving events; the dummy source stops");
        return false;
    }
    true
}

async fn run_file(path: &Path, follow: bool, events: &EventSender) -> Result<(), SourceError> {
    // Watch before the first read, so an edit made during the refresh is not missed.
    let watcher = if follow {
        match FileWatcher::start(path) {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                // A file that cannot be read is the clearer (configuration) error.
                load(path).await?;
                return Err(error.into());
            }
        }
    } else {
        None
    };
    let first_stamp = stamp(path).await;
    let directory = load(path).await?;
    log_warnings(path, &directory.warnings);
    info!(
        file = %path.display(),
        users = directory.users,
        groups = directory.groups,
        "read the directory file"
    );
    let cookie = directory.cookie();
    let Directory {
        entries, digest, ..
    } = directory;
    let Some(watcher) = watcher else {
        for entry in entries {
            if !send(events, Event::Changed(entry)).await {
                return Ok(());
            }
        }
        send(events, Event::Cookie(cookie)).await;
        send(
            events,
            Event::RefreshDone {
                delete_unmentioned: true,
            },
        )
        .await;
        return Ok(());
    };
    for entry in &entries {
        if !send(events, Event::Changed(entry.clone())).await {
            return Ok(());
        }
    }
    if !send(events, Event::Cookie(cookie)).await
        || !send(
            events,
            Event::RefreshDone {
                delete_unmentioned: true,
            },
        )
        .await
    {
        return Ok(());
    }
    let mut state = Followed {
        snapshot: Snapshot::new(entries),
        digest,
        stamp: first_stamp,
    };
    loop {
        let trigger = tokio::select! {
            () = events.closed() => return Ok(()),
            trigger = watcher.changed() => trigger,
        };
        if !state.reload(path, trigger.named_file, events).await {
            return Ok(());
        }
    }
}

/// What a following file source remembers of the last good version of the file.
struct Followed {
    snapshot: Snapshot,
    digest: String,
    stamp: Option<Stamp>,
}

impl Followed {
    /// Re-reads the file after an edit and sends the difference. A broken or missing file
    /// changes nothing. Returns `false` when the engine stopped listening.
    async fn reload(&mut self, path: &Path, named_file: bool, events: &EventSender) -> bool {
        let stamp = stamp(path).await;
        if !named_file && stamp == self.stamp {
            return true;
        }
        self.stamp = stamp;
        let directory = match load(path).await {
            Ok(directory) => directory,
            Err(DummyError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                warn!(
                    file = %path.display(),
                    "the directory file is gone; keeping the last state until it comes back"
                );
                return true;
            }
            Err(error) => {
                error!(
                    "{}; keeping the last good state until the file is fixed",
                    error.report()
                );
                return true;
            }
        };
        if directory.digest == self.digest {
            debug!(file = %path.display(), "the directory file's content did not change");
            return true;
        }
        let delta = self.snapshot.diff(&directory.entries);
        let cookie = directory.cookie();
        let Directory {
            entries,
            digest,
            warnings,
            ..
        } = directory;
        self.digest = digest;
        if delta.is_empty() {
            debug!(file = %path.display(), "the edit changed no entry");
            self.snapshot = Snapshot::new(entries);
            return true;
        }
        log_warnings(path, &warnings);
        info!(
            file = %path.display(),
            changed = delta.changed.len(),
            deleted = delta.deleted.len(),
            "the directory file was edited"
        );
        self.snapshot = Snapshot::new(entries);
        if !delta.deleted.is_empty() && !send(events, Event::Deleted(delta.deleted)).await {
            return false;
        }
        for entry in delta.changed {
            if !send(events, Event::Changed(entry)).await {
                return false;
            }
        }
        send(events, Event::Cookie(cookie)).await
    }
}

async fn run_generated(
    params: GenerateParams,
    cookie: Vec<u8>,
    follow: bool,
    events: &EventSender,
) -> Result<(), SourceError> {
    let sender = events.clone();
    let completed = tokio::task::spawn_blocking(move || {
        generate(&params).all(|entry| sender.blocking_send(Event::Changed(entry)).is_ok())
    })
    .await
    .map_err(|source| DummyError::Task {
        task: "generator",
        source,
    })?;
    if !completed
        || !send(events, Event::Cookie(cookie)).await
        || !send(
            events,
            Event::RefreshDone {
                delete_unmentioned: true,
            },
        )
        .await
    {
        return Ok(());
    }
    if follow {
        // A synthetic directory never changes: wait for the engine to stop.
        events.closed().await;
    }
    Ok(())
}
