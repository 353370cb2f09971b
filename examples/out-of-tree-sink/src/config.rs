//! The sink's configuration: the runner's `[sink]` table without `plugin`.

use std::path::PathBuf;

use idsync_plugin::MembershipMode;
use serde::Deserialize;

/// `[sink]` with `plugin = "jsonl"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlConfig {
    /// The file lines are appended to; created when missing. Its state lives beside it, in
    /// `<path>.state.json`.
    pub path: PathBuf,
    /// Member sets to record: `effective` (flattened nested groups, the default) or `direct`.
    #[serde(default)]
    pub membership: MembershipMode,
    /// `fsync` the file after each batch before reporting success (default `true`).
    #[serde(default = "default_fsync")]
    pub fsync: bool,
}

fn default_fsync() -> bool {
    true
}
