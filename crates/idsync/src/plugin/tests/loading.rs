//! Loading the real test plugins: success, listing, failures, panics, two plugins at once.

use std::path::Path;

use idsync_core::{
    ApplyOptions, EntryKind, MembershipMode, Sink, SinkErrorKind, StoredState, SyncPolicy,
};
use idsync_plugin_api::ABI_VERSION;
use serde_json::json;

use super::fixtures::{built_plugin, sample_batch, system_library, TempDir};
use crate::plugin::{list_plugins, load_sink, open_sink, LoadedSink, PluginError, PluginSearch};

fn load(name: &str, config: serde_json::Value) -> Result<LoadedSink, PluginError> {
    load_sink(&built_plugin(name), name, &config)
}

fn faulty(config: serde_json::Value) -> LoadedSink {
    load("faulty", config).unwrap()
}

#[test]
fn a_plugin_loads_and_works_like_any_sink() {
    let mut sink = faulty(json!({"membership": "direct"}));
    assert_eq!(sink.name(), "faulty");
    assert_eq!(sink.version(), env!("CARGO_PKG_VERSION"));
    assert_eq!(sink.abi_version(), ABI_VERSION);
    assert_eq!(sink.path(), built_plugin("faulty"));
    assert_eq!(sink.capabilities().membership, MembershipMode::Direct);

    sink.prepare(&SyncPolicy::default()).unwrap();
    assert_eq!(sink.load_state().unwrap(), StoredState::default());
    let report = sink
        .apply(
            &sample_batch(),
            &ApplyOptions {
                dry_run: false,
                record_changes: true,
            },
        )
        .unwrap();
    assert_eq!(report.counts.created, 3);
    assert_eq!(report.counts.members_added, 2);
    assert_eq!(report.changes.len(), 5);
    let state = sink.load_state().unwrap();
    assert_eq!(state.cookie, Some((vec![1, 2, 3], "test-view".to_owned())));
    assert_eq!(state.synced.len(), 3);
    assert_eq!(sink.check().unwrap().len(), 1);
    sink.close().unwrap();
    let closed = sink.check().unwrap_err();
    assert_eq!(closed.message, "sink plugin `faulty` was closed");
}

#[test]
fn the_engine_sees_a_plain_sink() {
    let sink: Box<dyn Sink> = Box::new(faulty(json!({})));
    assert_eq!(sink.capabilities().membership, MembershipMode::Effective);
}

#[test]
fn open_sink_finds_the_plugin_by_name() {
    let dir = TempDir::new("open");
    std::os::unix::fs::symlink(
        built_plugin("memory"),
        dir.path().join("libidsync_sink_memory.so"),
    )
    .unwrap();
    let search = PluginSearch::new(vec![dir.path().to_path_buf()]);
    let sink = open_sink(&search, "memory", &json!({})).unwrap();
    assert_eq!(sink.name(), "memory");
    assert_eq!(sink.path(), dir.path().join("libidsync_sink_memory.so"));
}

#[test]
fn two_different_plugins_stay_distinct_in_one_process() {
    let mut faulty = faulty(json!({"membership": "effective"}));
    let mut memory = load("memory", json!({"membership": "direct"})).unwrap();
    assert_eq!(faulty.name(), "faulty");
    assert_eq!(memory.name(), "memory");
    assert_eq!(faulty.capabilities().membership, MembershipMode::Effective);
    assert_eq!(memory.capabilities().membership, MembershipMode::Direct);

    faulty.prepare(&SyncPolicy::default()).unwrap();
    memory.prepare(&SyncPolicy::default()).unwrap();
    faulty
        .apply(&sample_batch(), &ApplyOptions::default())
        .unwrap();
    assert_eq!(faulty.load_state().unwrap().synced.len(), 3);
    assert!(memory.load_state().unwrap().synced.is_empty());

    // The faulty plugin's config is its own: the memory plugin rejects it.
    let error = load("memory", json!({"panic_in": "apply"})).unwrap_err();
    assert_eq!(error.sink_error_kind(), Some(SinkErrorKind::Config));
}

#[test]
fn a_panic_in_new_is_a_panicked_error() {
    let error = load("faulty", json!({"panic_in": "new"})).unwrap_err();
    assert_eq!(error.sink_error_kind(), Some(SinkErrorKind::Panicked));
    let path = built_plugin("faulty");
    assert_eq!(
        error.to_string(),
        format!(
            "sink plugin `faulty` at `{}` failed in `new`",
            path.display()
        )
    );
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(
        cause.starts_with(
            "sink plugin `faulty` panicked in `new`: faulty sink: injected panic in New, at "
        ),
        "{cause}"
    );
}

#[test]
fn a_panic_in_capabilities_fails_the_load() {
    let error = load("faulty", json!({"panic_in": "capabilities"})).unwrap_err();
    assert_eq!(error.sink_error_kind(), Some(SinkErrorKind::Panicked));
    assert!(error.to_string().ends_with("failed in `capabilities`"));
}

/// Calls one entry point by name.
fn call(sink: &mut LoadedSink, entry_point: &str) -> Result<(), idsync_core::SinkError> {
    match entry_point {
        "prepare" => sink.prepare(&SyncPolicy::default()),
        "load_state" => sink.load_state().map(drop),
        "apply" => sink
            .apply(&sample_batch(), &ApplyOptions::default())
            .map(drop),
        "check" => sink.check().map(drop),
        "close" => sink.close(),
        other => panic!("unknown entry point {other}"),
    }
}

#[test]
fn a_panic_at_any_entry_point_is_an_error_and_the_process_goes_on() {
    let order = ["prepare", "load_state", "apply", "check", "close"];
    for (index, entry_point) in order.iter().enumerate() {
        let mut sink = faulty(json!({"panic_in": entry_point}));
        for earlier in &order[..index] {
            call(&mut sink, earlier).unwrap();
        }
        let error = call(&mut sink, entry_point).unwrap_err();
        assert_eq!(error.kind, SinkErrorKind::Panicked, "{entry_point}");
        assert!(
            error.message.starts_with(&format!(
                "sink plugin `faulty` panicked in `{entry_point}`: faulty sink: injected panic in "
            )),
            "{}",
            error.message
        );
        assert!(error.message.contains("src/lib.rs:"), "{}", error.message);
        if *entry_point == "close" {
            continue;
        }
        // Poisoned: every other call fails the same way, without reaching the sink…
        for other in ["prepare", "load_state", "apply", "check"] {
            let error = call(&mut sink, other).unwrap_err();
            assert_eq!(error.kind, SinkErrorKind::Panicked);
            assert_eq!(
                error.message,
                format!(
                    "sink plugin `faulty` is unusable: it panicked earlier, in `{entry_point}`"
                )
            );
        }
        // …and it can still be closed.
        sink.close().unwrap();
    }
}

#[test]
fn injected_errors_keep_their_kind() {
    let mut sink = faulty(json!({
        "error_in": "apply", "error_kind": "transaction", "fail_times": 1
    }));
    sink.prepare(&SyncPolicy::default()).unwrap();
    let error = sink
        .apply(&sample_batch(), &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Transaction);
    assert!(error.kind.is_retryable());
    assert_eq!(error.message, "faulty sink: injected error in Apply");
    // An error is not a panic: the retry goes through.
    let report = sink
        .apply(&sample_batch(), &ApplyOptions::default())
        .unwrap();
    assert_eq!(report.counts.created, 3);

    for (kind, expected) in [
        ("config", SinkErrorKind::Config),
        ("schema", SinkErrorKind::Schema),
        ("unavailable", SinkErrorKind::Unavailable),
        ("other", SinkErrorKind::Other),
    ] {
        let mut sink = faulty(json!({"error_in": "check", "error_kind": kind}));
        assert_eq!(sink.check().unwrap_err().kind, expected);
    }
}

#[test]
fn an_error_in_new_carries_its_kind() {
    let error = load("faulty", json!({"error_in": "new", "error_kind": "config"})).unwrap_err();
    assert!(error.is_config());
    assert_eq!(error.sink_error_kind(), Some(SinkErrorKind::Config));
    let error = load("faulty", json!({"error_in": "new"})).unwrap_err();
    assert!(!error.is_config());
    assert_eq!(error.sink_error_kind(), Some(SinkErrorKind::Unavailable));
}

#[test]
fn an_unknown_config_key_is_a_config_error_naming_it() {
    let error = load("faulty", json!({"panic_inn": "apply"})).unwrap_err();
    assert!(error.is_config());
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(
        cause.starts_with(
            "invalid configuration for sink plugin `faulty`: key `panic_inn`: unknown field `panic_inn`"
        ),
        "{cause}"
    );
}

fn assert_not_a_plugin(path: &Path) {
    let error = load_sink(path, "x", &json!({})).unwrap_err();
    assert!(matches!(error, PluginError::NotAPlugin { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("`{}` is not an idsync sink plugin", path.display())
    );
}

#[test]
fn a_file_that_is_not_a_library_is_not_a_plugin() {
    let dir = TempDir::new("garbage");
    let path = dir.path().join("libidsync_sink_garbage.so");
    std::fs::write(&path, b"this is not an ELF file at all").unwrap();
    assert_not_a_plugin(&path);
    let cause = std::error::Error::source(&load_sink(&path, "x", &json!({})).unwrap_err())
        .unwrap()
        .to_string();
    assert_eq!(cause, "not an ELF shared library");
}

#[test]
fn a_library_that_is_not_a_plugin_is_not_a_plugin() {
    assert_not_a_plugin(&system_library());
}

#[test]
fn listing_reports_every_plugin_and_every_broken_file() {
    let first = TempDir::new("list-a");
    let second = TempDir::new("list-b");
    let link = |dir: &TempDir, target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
    };
    link(&first, &built_plugin("memory"), "libidsync_sink_memory.so");
    link(&first, &system_library(), "libidsync_sink_libc.so");
    std::fs::write(first.path().join("libidsync_sink_junk.so"), b"junk").unwrap();
    std::fs::write(first.path().join("README"), b"not a plugin, not listed").unwrap();
    link(&second, &built_plugin("faulty"), "libidsync_sink_faulty.so");
    // The same file reached twice is listed once.
    link(&second, &built_plugin("memory"), "libidsync_sink_memory.so");

    let search = PluginSearch::new(vec![
        first.path().to_path_buf(),
        // A directory that does not exist is skipped silently.
        std::path::PathBuf::from("/nonexistent/idsync/plugins"),
        second.path().to_path_buf(),
    ]);
    let listing = list_plugins(&search);
    let summary: Vec<String> = listing
        .iter()
        .map(|entry| match entry {
            Ok(info) => format!("ok {} {} {}", info.name, info.version, info.abi_version),
            Err(error) => format!("err {error}"),
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        summary,
        vec![
            format!(
                "err `{}` is not an idsync sink plugin",
                first.path().join("libidsync_sink_junk.so").display()
            ),
            format!(
                "err `{}` is not an idsync sink plugin",
                first.path().join("libidsync_sink_libc.so").display()
            ),
            format!("ok memory {version} {ABI_VERSION}"),
            format!("ok faulty {version} {ABI_VERSION}"),
        ]
    );
    let faulty = listing[3].as_ref().unwrap();
    assert_eq!(faulty.path, second.path().join("libidsync_sink_faulty.so"));
}

#[test]
fn entry_kinds_survive_the_round_trip() {
    let mut sink = faulty(json!({}));
    sink.prepare(&SyncPolicy::default()).unwrap();
    sink.apply(&sample_batch(), &ApplyOptions::default())
        .unwrap();
    let mut synced = sink.load_state().unwrap().synced;
    synced.sort();
    let kinds: Vec<EntryKind> = synced.into_iter().map(|(_, kind)| kind).collect();
    assert_eq!(
        kinds,
        vec![EntryKind::User, EntryKind::User, EntryKind::Group]
    );
}
