//! Shared helpers: built plugin libraries, temporary directories, sample batches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use idsync_core::{Batch, CookieUpdate, Entry, EntryId, EntryKind, GroupMembers};

/// The directory cargo put this test binary's profile outputs in (`<target>/debug`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // <target>/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in <target>/<profile>/deps")
        .to_path_buf()
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("crates/idsync-plugin-api/Cargo.toml").is_file())
        .expect("the crate lives inside the idsync workspace")
        .to_path_buf()
}

/// A plugin library built by `cargo build --workspace` (from `tests/plugins/`).
pub fn built_plugin(name: &str) -> PathBuf {
    let file_name = format!("libidsync_sink_{name}.so");
    let mut candidates = vec![profile_dir().join(&file_name)];
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("debug").join(&file_name));
    }
    candidates.push(workspace_root().join("target/debug").join(&file_name));
    match candidates.iter().find(|path| path.is_file()) {
        Some(path) => path.clone(),
        None => panic!(
            "the test plugin `{name}` is not built (looked for {candidates:?}): run `cargo build --workspace` first"
        ),
    }
}

/// A shared library that is not an idsync plugin.
pub fn system_library() -> PathBuf {
    let candidates = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/usr/lib/aarch64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
        "/usr/lib64/libc.so.6",
        "/lib/libc.so.6",
        "/usr/lib/libc.so.6",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no libc found at any of {candidates:?}"))
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "idsync-plugin-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        if path.exists() {
            std::fs::remove_dir_all(&path).unwrap();
        }
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn id(n: u8) -> EntryId {
    EntryId::from_bytes([n; 16])
}

pub fn entry(n: u8, kind: EntryKind, name: &str) -> Entry {
    let mut attrs = BTreeMap::new();
    attrs.insert("mail".to_owned(), vec![format!("{name}@example.org")]);
    Entry {
        id: id(n),
        kind,
        locator: format!("cn={name},dc=example,dc=org"),
        name: name.to_owned(),
        enabled: true,
        attrs,
        members: Vec::new(),
    }
}

/// Two users and a group holding both, with a cookie.
pub fn sample_batch() -> Batch {
    Batch {
        upserts: vec![
            entry(1, EntryKind::User, "alice"),
            entry(2, EntryKind::User, "bob"),
            entry(10, EntryKind::Group, "staff"),
        ],
        removals: Vec::new(),
        memberships: vec![GroupMembers {
            group: id(10),
            members: vec![id(1), id(2)],
        }],
        cookie: Some(CookieUpdate {
            cookie: vec![1, 2, 3],
            fingerprint: "test-view".to_owned(),
        }),
    }
}
