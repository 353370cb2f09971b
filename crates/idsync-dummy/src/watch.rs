//! Watching a directory file for edits.
//!
//! The file's parent directory is watched, not the file: editors save by writing a new file
//! and renaming it over the old one, which would end a watch on the file itself. Events that
//! name the file wake the source; events about other names in the directory only make it
//! compare the file's size, modification time and inode (so a symlink swapped to a new target,
//! as Kubernetes does with mounted ConfigMaps, is noticed too). Reads (open, close without
//! writing) are ignored, so the source's own reading wakes nothing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::Notify;
use tokio::time::{timeout, Instant};
use tracing::warn;

use crate::error::DummyError;

/// How long the directory must stay quiet before the file is re-read.
pub(crate) const QUIET: Duration = Duration::from_millis(150);
/// Longest wait after the first event, however busy the directory stays.
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(400);

/// What woke the watcher up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Trigger {
    /// An event named the file itself: re-read it.
    pub(crate) named_file: bool,
}

struct Shared {
    wake: Notify,
    named_file: AtomicBool,
}

/// A running watch on one file's directory.
pub(crate) struct FileWatcher {
    _watcher: RecommendedWatcher,
    shared: Arc<Shared>,
}

impl FileWatcher {
    /// Starts watching the directory of `file` (which need not exist yet).
    pub(crate) fn start(file: &Path) -> Result<Self, DummyError> {
        let absolute = std::path::absolute(file).map_err(|source| DummyError::Read {
            path: file.to_owned(),
            source,
        })?;
        let directory = absolute
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        let name: OsString = absolute.file_name().unwrap_or_default().to_owned();
        let shared = Arc::new(Shared {
            wake: Notify::new(),
            named_file: AtomicBool::new(false),
        });
        let handler = Arc::clone(&shared);
        let watch_error = |source| DummyError::Watch {
            path: directory.clone(),
            source,
        };
        let mut watcher =
            notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
                match result {
                    Ok(event) => {
                        if let Some(named_file) = relevance(&event, &name) {
                            if named_file {
                                handler.named_file.store(true, Ordering::SeqCst);
                            }
                            handler.wake.notify_one();
                        }
                    }
                    Err(error) => {
                        warn!(error = %error, "the file watcher reported an error");
                        // Be safe: re-read the file.
                        handler.named_file.store(true, Ordering::SeqCst);
                        handler.wake.notify_one();
                    }
                }
            })
            .map_err(watch_error)?;
        watcher
            .watch(&directory, RecursiveMode::NonRecursive)
            .map_err(watch_error)?;
        Ok(Self {
            _watcher: watcher,
            shared,
        })
    }

    /// Waits for the next burst of events to end ([`QUIET`] without events, or [`MAX_DELAY`]
    /// after its first event). Cancel-safe: a wake-up not consumed stays pending.
    pub(crate) async fn changed(&self) -> Trigger {
        self.shared.wake.notified().await;
        let first = Instant::now();
        loop {
            let left = MAX_DELAY.saturating_sub(first.elapsed());
            if left.is_zero() {
                break;
            }
            if timeout(QUIET.min(left), self.shared.wake.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        Trigger {
            named_file: self.shared.named_file.swap(false, Ordering::SeqCst),
        }
    }
}

/// `None` for events to ignore; else whether the event names the file.
fn relevance(event: &notify::Event, name: &OsString) -> Option<bool> {
    if let EventKind::Access(kind) = event.kind {
        if kind != AccessKind::Close(AccessMode::Write) {
            return None;
        }
    }
    Some(
        event
            .paths
            .iter()
            .any(|path| path.file_name() == Some(name.as_os_str())),
    )
}

/// What identifies one version of a file cheaply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

/// The stamp of the file (following symlinks), or `None` when it cannot be read.
pub(crate) async fn stamp(path: &Path) -> Option<Stamp> {
    let metadata = tokio::fs::metadata(path).await.ok()?;
    Some(Stamp {
        len: metadata.len(),
        modified: metadata.modified().ok(),
        inode: inode(&metadata),
    })
}

#[cfg(unix)]
fn inode(metadata: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

#[cfg(not(unix))]
fn inode(_metadata: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, ModifyKind};

    use super::*;

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn reads_are_ignored_and_the_file_is_recognised() {
        let name = OsString::from("dir.yaml");
        let open = event(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            "/d/dir.yaml",
        );
        assert_eq!(relevance(&open, &name), None);
        let read = event(
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            "/d/dir.yaml",
        );
        assert_eq!(relevance(&read, &name), None);
        let written = event(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            "/d/dir.yaml",
        );
        assert_eq!(relevance(&written, &name), Some(true));
        let modified = event(EventKind::Modify(ModifyKind::Any), "/d/dir.yaml");
        assert_eq!(relevance(&modified, &name), Some(true));
        let other = event(EventKind::Create(CreateKind::File), "/d/.dir.yaml.swp");
        assert_eq!(relevance(&other, &name), Some(false));
    }
}
