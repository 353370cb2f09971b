//! The engine's member-index snapshot on disk (`[runner] state_dir`): written at a clean stop,
//! read and deleted at the next start. What makes reuse correct is explained in
//! `idsync_core::engine::snapshot`; this module only moves bytes, and never fails a run: a
//! snapshot that cannot be written or used is a warning, and the source warms the index up as
//! it would without one.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use idsync_core::{index_snapshot_file_name, Engine, SnapshotError, SourceFingerprint};

/// The snapshot file of one source view in the state directory.
#[derive(Clone, Debug)]
pub(crate) struct IndexSnapshotFile {
    dir: PathBuf,
    path: PathBuf,
}

impl IndexSnapshotFile {
    /// `<state_dir>/index-<hash of the fingerprint>.bin`.
    pub(crate) fn new(state_dir: &Path, fingerprint: &SourceFingerprint) -> Self {
        Self {
            dir: state_dir.to_path_buf(),
            path: state_dir.join(index_snapshot_file_name(fingerprint)),
        }
    }

    /// At start, after the sink's state was loaded: restores the engine's index when the file
    /// matches the stored cookie, and deletes the file (kept in a dry run, which commits
    /// nothing). `resume` is false for a full refresh, which never uses a snapshot. True when
    /// the index was restored.
    pub(crate) fn restore(&self, engine: &mut Engine, resume: bool, dry_run: bool) -> bool {
        let file = self.path.display();
        if !resume {
            if !dry_run && self.remove().is_ok_and(|removed| removed) {
                info!(%file, "full refresh: the member index snapshot is not used (deleted)");
            }
            return false;
        }
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                warn!(%file, "no member index snapshot (the last run did not stop cleanly, or this is the first with state_dir): warming the index up from the source");
                return false;
            }
            Err(error) => {
                warn!(%file, %error, "cannot read the member index snapshot: warming the index up from the source");
                return false;
            }
        };
        // Deleted before it is used: a crash later must never find it again.
        if !dry_run {
            if let Err(error) = self.remove() {
                warn!(%file, %error, "cannot delete the member index snapshot, so it is not used: warming the index up from the source");
                return false;
            }
        }
        match engine.restore_index_snapshot(&bytes) {
            Ok(entries) => {
                info!(%file, entries, "member index restored from the snapshot; no warm-up");
                true
            }
            Err(error) => {
                warn!(%file, reason = %error, "member index snapshot not used: warming the index up from the source");
                false
            }
        }
    }

    /// At a clean stop: writes the engine's index when it is settled (everything committed).
    /// Atomic: a temporary file in the same directory, fsync, rename, fsync of the directory.
    pub(crate) fn save(&self, engine: &Engine) {
        let file = self.path.display();
        let bytes = match engine.index_snapshot() {
            Ok(bytes) => bytes,
            Err(error @ (SnapshotError::NotSettled(_) | SnapshotError::NoCookie)) => {
                info!(%file, reason = %error, "no member index snapshot written; the next start warms the index up");
                return;
            }
            Err(error) => {
                warn!(%file, %error, "cannot encode the member index snapshot");
                return;
            }
        };
        match self.write_atomically(&bytes) {
            Ok(()) => info!(%file, bytes = bytes.len(), "member index snapshot written"),
            Err(error) => warn!(%file, %error, "cannot write the member index snapshot"),
        }
    }

    fn write_atomically(&self, bytes: &[u8]) -> io::Result<()> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let name = self
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&temp);
        let written = (|| {
            let mut out = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temp)?;
            out.write_all(bytes)?;
            out.sync_all()?;
            drop(out);
            fs::rename(&temp, &self.path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    /// Deletes the file; false when there was none.
    fn remove(&self) -> io::Result<bool> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;

    use idsync_core::memory::MemorySink;
    use idsync_core::{EngineConfig, Entry, EntryId, EntryKind, Event, MemberRef, MembershipMode};

    use super::*;

    fn fingerprint() -> SourceFingerprint {
        SourceFingerprint("test:snapshot".into())
    }

    fn entry(n: u128, kind: EntryKind, name: &str, members: Vec<MemberRef>) -> Entry {
        Entry {
            id: EntryId::from_bytes(n.to_be_bytes()),
            kind,
            locator: format!("cn={name},dc=x"),
            name: name.to_owned(),
            enabled: true,
            attrs: BTreeMap::new(),
            members,
        }
    }

    fn open(sink: &MemorySink) -> (Engine, bool) {
        let (engine, resume) = Engine::open(
            Box::new(sink.reopen()),
            EngineConfig::default(),
            &fingerprint(),
        )
        .unwrap();
        (engine, resume.is_some())
    }

    /// A sink synced at cookie c1 and a stopped engine's snapshot in `dir`.
    fn synced(dir: &Path) -> (MemorySink, IndexSnapshotFile) {
        let sink = MemorySink::new(MembershipMode::Effective);
        let (mut engine, _) = open(&sink);
        for event in [
            Event::Changed(entry(1, EntryKind::User, "alice", Vec::new())),
            Event::Changed(entry(
                2,
                EntryKind::Group,
                "staff",
                vec![MemberRef::Dn("cn=alice,dc=x".into())],
            )),
            Event::Cookie(b"c1".to_vec()),
            Event::RefreshDone {
                delete_unmentioned: true,
            },
        ] {
            engine.push(event).unwrap();
        }
        engine.finish().unwrap();
        let file = IndexSnapshotFile::new(dir, &fingerprint());
        file.save(&engine);
        (sink, file)
    }

    #[test]
    fn a_saved_snapshot_is_restored_once_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let (sink, file) = synced(&state);
        let meta = fs::metadata(&file.path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert!(file
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("index-"));
        let leftovers: Vec<_> = fs::read_dir(&state).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left");

        let (mut engine, resume) = open(&sink);
        assert!(file.restore(&mut engine, resume, false));
        assert!(!file.path.exists(), "consumed");
        let (mut engine, resume) = open(&sink);
        assert!(
            !file.restore(&mut engine, resume, false),
            "gone after one use"
        );
    }

    #[test]
    fn a_dry_run_uses_the_snapshot_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let (sink, file) = synced(dir.path());
        let (mut engine, resume) = open(&sink);
        assert!(file.restore(&mut engine, resume, true));
        assert!(file.path.exists());
    }

    #[test]
    fn a_full_refresh_deletes_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let (sink, file) = synced(dir.path());
        let (mut engine, _) = open(&sink);
        assert!(!file.restore(&mut engine, false, false));
        assert!(!file.path.exists());
    }

    #[test]
    fn damaged_or_unreadable_files_are_not_used_and_never_fail() {
        let dir = tempfile::tempdir().unwrap();
        let (sink, file) = synced(dir.path());
        let good = fs::read(&file.path).unwrap();
        let mut flipped = good.clone();
        let at = flipped.len() - 3;
        flipped[at] ^= 0xff;
        for damaged in [
            Vec::new(),
            good[..good.len() / 2].to_vec(),
            good[..good.len() - 1].to_vec(),
            flipped,
            b"garbage".to_vec(),
        ] {
            fs::write(&file.path, &damaged).unwrap();
            let (mut engine, resume) = open(&sink);
            assert!(!file.restore(&mut engine, resume, false));
            assert!(!file.path.exists(), "a useless file is deleted too");
        }
        // A directory where the file should be: unreadable, not fatal.
        fs::create_dir(&file.path).unwrap();
        let (mut engine, resume) = open(&sink);
        assert!(!file.restore(&mut engine, resume, false));
        fs::remove_dir(&file.path).unwrap();
        // Missing.
        let (mut engine, resume) = open(&sink);
        assert!(!file.restore(&mut engine, resume, false));
    }

    #[test]
    fn an_unsettled_engine_or_an_unwritable_dir_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let sink = MemorySink::new(MembershipMode::Effective);
        let (mut engine, _) = open(&sink);
        engine
            .push(Event::Changed(entry(
                1,
                EntryKind::User,
                "alice",
                Vec::new(),
            )))
            .unwrap();
        let file = IndexSnapshotFile::new(dir.path(), &fingerprint());
        file.save(&engine);
        assert!(!file.path.exists(), "mid-refresh: no snapshot");

        let (sink, _) = synced(&dir.path().join("first"));
        let (engine, _) = open(&sink);
        drop(engine);
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, b"x").unwrap();
        let file = IndexSnapshotFile::new(&blocker.join("sub"), &fingerprint());
        let (mut engine, _) = open(&sink);
        engine
            .push(Event::RefreshDone {
                delete_unmentioned: false,
            })
            .unwrap();
        engine.finish().unwrap();
        file.save(&engine);
        assert!(!file.path.exists());
    }
}
