#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use abi_stable::std_types::{RResult, RStr};
use idsync_core::memory::MemorySink;
use idsync_plugin_api::{
    FfiApplyOptions, FfiBatch, FfiSinkError, FfiSinkErrorKind, FfiSyncPolicy, SinkBox,
};
use serde::Deserialize;

use crate::export::{new_sink, root_module, SinkExport};
use crate::*;

/// A sink that panics or fails where its configuration says.
struct ScriptedSink {
    inner: MemorySink,
    panic_in: Option<String>,
    fail_in: Option<String>,
    drops: Arc<AtomicU32>,
    panic_on_drop: bool,
}

impl ScriptedSink {
    fn scripted(&self, entry_point: &str) -> Result<(), SinkError> {
        if self.panic_in.as_deref() == Some(entry_point) {
            panic!("boom in {entry_point}");
        }
        if self.fail_in.as_deref() == Some(entry_point) {
            return Err(SinkError::new(
                SinkErrorKind::Transaction,
                format!("refused in {entry_point}"),
            ));
        }
        Ok(())
    }
}

impl Drop for ScriptedSink {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panic_on_drop {
            panic!("boom in drop");
        }
    }
}

impl Sink for ScriptedSink {
    fn capabilities(&self) -> SinkCapabilities {
        if self.panic_in.as_deref() == Some("capabilities") {
            std::panic::panic_any(42_u32);
        }
        self.inner.capabilities()
    }
    fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError> {
        self.scripted("prepare")?;
        self.inner.prepare(policy)
    }
    fn load_state(&mut self) -> Result<StoredState, SinkError> {
        self.scripted("load_state")?;
        self.inner.load_state()
    }
    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
        self.scripted("apply")?;
        self.inner.apply(batch, options)
    }
    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> {
        self.scripted("check")?;
        self.inner.check()
    }
    fn close(&mut self) -> Result<(), SinkError> {
        self.scripted("close")?;
        self.inner.close()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptedConfig {
    #[serde(default)]
    panic_in: Option<String>,
    #[serde(default)]
    fail_in: Option<String>,
    #[serde(default)]
    panic_on_drop: bool,
    #[serde(default)]
    #[allow(dead_code)]
    pool: Option<PoolConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolConfig {
    #[allow(dead_code)]
    size: u32,
}

static DROPS: std::sync::OnceLock<Arc<AtomicU32>> = std::sync::OnceLock::new();

fn drops() -> Arc<AtomicU32> {
    Arc::clone(DROPS.get_or_init(|| Arc::new(AtomicU32::new(0))))
}

impl PluginSink for ScriptedSink {
    type Config = ScriptedConfig;
    fn new(config: ScriptedConfig) -> Result<Self, SinkError> {
        if config.panic_in.as_deref() == Some("new") {
            panic!("boom in new");
        }
        if config.fail_in.as_deref() == Some("new") {
            return Err(SinkError::new(SinkErrorKind::Unavailable, "no database"));
        }
        Ok(Self {
            inner: MemorySink::new(MembershipMode::Direct),
            panic_in: config.panic_in,
            fail_in: config.fail_in,
            drops: drops(),
            panic_on_drop: config.panic_on_drop,
        })
    }
}

struct ScriptedExport;

impl SinkExport for ScriptedExport {
    type Sink = ScriptedSink;
    const NAME: &'static str = "scripted";
    const VERSION: &'static str = "9.8.7";
}

// The macro itself must expand and type-check (its static is harmless in a test binary).
crate::export_sink!(name = "scripted", sink = ScriptedSink);

fn build(config: &str) -> Result<SinkBox, FfiSinkError> {
    new_sink::<ScriptedExport>(RStr::from_str(config)).into_result()
}

fn open(config: &str) -> SinkBox {
    build(config).unwrap()
}

fn err<T>(result: RResult<T, FfiSinkError>) -> FfiSinkError {
    match result.into_result() {
        Ok(_) => panic!("expected an error"),
        Err(error) => error,
    }
}

fn user_batch() -> FfiBatch {
    let batch = Batch {
        upserts: vec![Entry {
            id: EntryId::from_bytes([7; 16]),
            kind: EntryKind::User,
            locator: "uid=a,dc=x".to_owned(),
            name: "a".to_owned(),
            enabled: true,
            attrs: BTreeMap::new(),
            members: Vec::new(),
        }],
        ..Batch::default()
    };
    FfiBatch::from(&batch)
}

const ENTRY_POINTS: [&str; 5] = ["capabilities", "prepare", "load_state", "apply", "check"];

/// Calls one entry point (not `close`), returning its error, if any.
fn call(sink: &mut SinkBox, entry_point: &str) -> Option<FfiSinkError> {
    match entry_point {
        "capabilities" => sink.capabilities().into_result().err(),
        "prepare" => sink
            .prepare(FfiSyncPolicy::from(SyncPolicy::default()))
            .into_result()
            .err(),
        "load_state" => sink.load_state().into_result().err(),
        "apply" => sink
            .apply(&user_batch(), FfiApplyOptions::default())
            .into_result()
            .err(),
        "check" => sink.check().into_result().err(),
        other => panic!("unknown entry point {other}"),
    }
}

/// Calls every entry point but `close`, returning their errors (or `None` on success).
fn call_all(sink: &mut SinkBox) -> Vec<(&'static str, Option<FfiSinkError>)> {
    ENTRY_POINTS
        .into_iter()
        .map(|entry_point| (entry_point, call(sink, entry_point)))
        .collect()
}

#[test]
fn a_well_behaved_sink_works_through_the_boundary() {
    let mut sink = open("{}");
    for (entry_point, error) in call_all(&mut sink) {
        assert_eq!(error, None, "{entry_point}");
    }
    let report = sink
        .apply(&user_batch(), FfiApplyOptions::default())
        .into_result()
        .unwrap();
    assert_eq!(ApplyReport::from(report).counts.unchanged, 1);
    let state = StoredState::from(sink.load_state().into_result().unwrap());
    assert_eq!(
        state.synced,
        vec![(EntryId::from_bytes([7; 16]), EntryKind::User)]
    );
    assert_eq!(
        SinkCapabilities::from(sink.capabilities().into_result().unwrap()).membership,
        MembershipMode::Direct
    );
    assert!(sink.close().into_result().is_ok());
}

#[test]
fn a_panic_at_every_entry_point_is_an_error_and_poisons_the_sink() {
    for entry_point in ["prepare", "load_state", "apply", "check", "close"] {
        // (`capabilities` has its own test: it panics with a non-string payload.)
        let mut sink = open(&format!(r#"{{"panic_in": "{entry_point}"}}"#));
        for earlier in ENTRY_POINTS.iter().take_while(|name| **name != entry_point) {
            assert_eq!(call(&mut sink, earlier), None, "{earlier}");
        }
        let error = if entry_point == "close" {
            err(sink.close())
        } else {
            call(&mut sink, entry_point).expect("a panic must be an error")
        };
        assert_eq!(error.kind, FfiSinkErrorKind::PANICKED, "{entry_point}");
        let expected = format!(
            "sink plugin `scripted` panicked in `{entry_point}`: boom in {entry_point}, at "
        );
        assert!(error.message.starts_with(&expected), "{}", error.message);
        assert!(error.message.contains("tests.rs:"), "{}", error.message);

        if entry_point != "close" {
            // Poisoned: everything fails, nothing reaches the half-updated sink…
            for (name, error) in call_all(&mut sink) {
                let error = error.unwrap_or_else(|| panic!("{name} after a panic succeeded"));
                assert_eq!(error.kind, FfiSinkErrorKind::PANICKED);
                assert_eq!(
                    error.message.as_str(),
                    format!(
                        "sink plugin `scripted` is unusable: it panicked earlier, in `{entry_point}`"
                    )
                );
            }
            // …but it can still be closed.
            assert!(sink.close().into_result().is_ok());
        }
        let closed = err(sink.check());
        assert_eq!(closed.kind, FfiSinkErrorKind::OTHER);
        assert_eq!(closed.message.as_str(), "sink plugin `scripted` was closed");
    }
}

#[test]
fn a_panic_with_a_non_string_payload_is_contained_too() {
    let sink = open(r#"{"panic_in": "capabilities"}"#);
    let error = err(sink.capabilities());
    assert_eq!(error.kind, FfiSinkErrorKind::PANICKED);
    assert!(error.message.starts_with(
        "sink plugin `scripted` panicked in `capabilities`: a panic with a non-string payload"
    ));
}

#[test]
fn a_panic_in_new_is_an_error() {
    let error = build(r#"{"panic_in": "new"}"#).err().unwrap();
    assert_eq!(error.kind, FfiSinkErrorKind::PANICKED);
    assert!(error
        .message
        .starts_with("sink plugin `scripted` panicked in `new`: boom in new, at "));
}

#[test]
fn errors_keep_their_kind() {
    let error = build(r#"{"fail_in": "new"}"#).err().unwrap();
    assert_eq!(error.kind, FfiSinkErrorKind::UNAVAILABLE);
    assert_eq!(error.message.as_str(), "no database");

    let mut sink = open(r#"{"fail_in": "apply"}"#);
    let error = err(sink.apply(&user_batch(), FfiApplyOptions::default()));
    assert_eq!(SinkError::from(error).kind, SinkErrorKind::Transaction);
    // An error is not a panic: the sink stays usable.
    assert!(sink.check().into_result().is_ok());
}

#[test]
fn a_panic_while_dropping_the_sink_is_contained() {
    let before = drops().load(Ordering::SeqCst);
    let sink = open(r#"{"panic_on_drop": true}"#);
    drop(sink);
    assert!(drops().load(Ordering::SeqCst) > before);

    let mut sink = open(r#"{"panic_on_drop": true}"#);
    let error = err(sink.close());
    assert!(error.message.contains("boom in drop"), "{}", error.message);
}

#[test]
fn closing_twice_is_harmless() {
    let mut sink = open("{}");
    assert!(sink.close().into_result().is_ok());
    assert!(sink.close().into_result().is_ok());
}

#[test]
fn config_errors_name_the_key() {
    let cases = [
        (
            r#"{"nope": 1}"#,
            "invalid configuration for sink plugin `scripted`: key `nope`: unknown field `nope`, expected one of `panic_in`, `fail_in`, `panic_on_drop`, `pool`",
        ),
        (
            r#"{"pool": {"size": "ten"}}"#,
            "invalid configuration for sink plugin `scripted`: key `pool.size`: invalid type: string \"ten\", expected u32",
        ),
        (
            r#"{"pool": {}}"#,
            "invalid configuration for sink plugin `scripted`: key `pool`: missing field `size`",
        ),
        (
            "true",
            "invalid configuration for sink plugin `scripted`: invalid type: boolean `true`, expected struct ScriptedConfig",
        ),
        (
            "{} x",
            "invalid configuration for sink plugin `scripted`: trailing characters",
        ),
    ];
    for (json, expected) in cases {
        let error = build(json).err().unwrap();
        assert_eq!(error.kind, FfiSinkErrorKind::CONFIG, "{json}");
        assert_eq!(error.message.as_str(), expected, "{json}");
    }
}

#[test]
fn the_root_module_describes_the_plugin() {
    let module = root_module::<ScriptedExport>();
    assert_eq!(
        module.abi_version().as_str(),
        idsync_plugin_api::ABI_VERSION
    );
    assert_eq!(module.plugin_name().as_str(), "scripted");
    assert_eq!(module.plugin_version().as_str(), "9.8.7");
    let mut sink = (module.new())(RStr::from_str("{}")).into_result().unwrap();
    assert!(sink.close().into_result().is_ok());
}

#[test]
fn the_exported_symbol_is_the_one_abi_stable_looks_up() {
    assert_eq!(
        abi_stable::library::ROOT_MODULE_LOADER_NAME,
        "_1as_0lib_1header_0root_bmodule_bloader"
    );
}

#[test]
fn secrets_are_read_without_their_line_break() {
    let path = std::env::temp_dir().join(format!("idsync-plugin-secret-{}", std::process::id()));
    std::fs::write(&path, "s3cret\r\n").unwrap();
    assert_eq!(read_secret_file("password_file", &path).unwrap(), "s3cret");
    std::fs::write(&path, "\n").unwrap();
    let error = read_secret_file("password_file", &path).unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Config);
    assert_eq!(
        error.message,
        format!(
            "`password_file`: cannot read a secret from `{}`: the file is empty",
            path.display()
        )
    );
    std::fs::remove_file(&path).unwrap();
    let error = read_secret_file("password_file", &path).unwrap_err();
    assert_eq!(error.kind, SinkErrorKind::Config);
    assert!(error.message.contains("No such file"), "{}", error.message);
}
