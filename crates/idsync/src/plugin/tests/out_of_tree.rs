//! The out-of-tree example (`examples/out-of-tree-sink`): built with cargo as a sink author
//! would, loaded through [`load_sink`], and used.

use std::path::{Path, PathBuf};
use std::process::Command;

use idsync_core::{ApplyOptions, Sink, SyncPolicy};
use serde_json::{json, Value};

use super::fixtures::{profile_dir, sample_batch, workspace_root, TempDir};
use crate::plugin::load_sink;

/// Builds the example into `<target>/out-of-tree-sink` and returns its library.
fn build_example() -> PathBuf {
    let manifest = workspace_root().join("examples/out-of-tree-sink/Cargo.toml");
    let target = profile_dir()
        .parent()
        .expect("the profile directory is inside the target directory")
        .join("out-of-tree-sink");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building `{}` failed:\n{}",
        manifest.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    target.join("debug/libidsync_sink_jsonl.so")
}

fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn the_out_of_tree_example_builds_loads_and_writes_json_lines() {
    let library = build_example();
    let dir = TempDir::new("jsonl");
    let output = dir.path().join("changes.jsonl");
    let config = json!({"path": output, "fsync": false});

    let mut sink = load_sink(&library, "jsonl", &config).unwrap();
    assert_eq!(sink.name(), "jsonl");
    assert_eq!(sink.abi_version(), idsync_plugin_api::ABI_VERSION);
    sink.prepare(&SyncPolicy::default()).unwrap();
    let report = sink
        .apply(&sample_batch(), &ApplyOptions::default())
        .unwrap();
    assert_eq!(report.counts.created, 3);
    assert_eq!(report.counts.members_added, 2);

    let lines = read_lines(&output);
    let changes: Vec<&str> = lines
        .iter()
        .map(|line| line["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "created",
            "created",
            "created",
            "member_added",
            "member_added"
        ]
    );
    let alice = &lines[0];
    assert_eq!(alice["name"], "alice");
    assert_eq!(alice["kind"], "user");
    assert_eq!(alice["id"], "01010101-0101-0101-0101-010101010101");
    assert_eq!(alice["attrs"]["mail"][0], "alice@example.org");
    assert_eq!(alice["batch"], 1);
    assert!(alice["ts"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[3]["group_name"], "staff");
    assert_eq!(lines[3]["member_name"], "alice");

    // Compare before write: the same batch again adds nothing.
    let again = sink
        .apply(&sample_batch(), &ApplyOptions::default())
        .unwrap();
    assert_eq!(again.counts.unchanged, 3);
    assert_eq!(read_lines(&output).len(), 5);
    sink.close().unwrap();

    // A new sink from the same library (a restart) reads the state back.
    let mut restarted = load_sink(&library, "jsonl", &config).unwrap();
    restarted.prepare(&SyncPolicy::default()).unwrap();
    let state = restarted.load_state().unwrap();
    assert_eq!(state.cookie, Some((vec![1, 2, 3], "test-view".to_owned())));
    assert_eq!(state.synced.len(), 3);

    // Its configuration is checked: an unknown key is a configuration error.
    let error =
        load_sink(&library, "jsonl", &json!({"path": output, "colour": "red"})).unwrap_err();
    assert!(error.is_config(), "{error:?}");
}
