//! Where the workspace and its build outputs are.

use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The directory cargo builds debug artifacts into (`$CARGO_TARGET_DIR` respected).
pub fn target_debug_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug")
}

/// The built `idsync` binary. Panics with a clear message when it was not built: the test
/// command (`scripts/test.sh`) builds the whole workspace before running tests.
pub fn idsync_bin() -> PathBuf {
    let path = target_debug_dir().join("idsync");
    assert!(
        path.is_file(),
        "`{}` is missing: run `cargo build --workspace` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The directory holding the built plugin libraries (`libidsync_sink_*.so`).
pub fn plugin_dir() -> PathBuf {
    target_debug_dir()
}

/// The built library of a plugin, e.g. `plugin_library("sql")`. Panics when missing.
pub fn plugin_library(name: &str) -> PathBuf {
    let path = plugin_dir().join(format!("libidsync_sink_{name}.so"));
    assert!(
        path.is_file(),
        "`{}` is missing: run `cargo build --workspace` first (scripts/test.sh does)",
        path.display()
    );
    path
}
