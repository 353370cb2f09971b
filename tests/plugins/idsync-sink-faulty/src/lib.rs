//! `faulty`: a test sink plugin whose failures come from its configuration.
//!
//! ```json
//! {"panic_in": "apply", "error_in": "prepare", "error_kind": "transaction", "fail_times": 2}
//! ```
//!
//! * `panic_in`: the entry point that panics (`new`, `capabilities`, `prepare`, `load_state`,
//!   `apply`, `check`, `close`), every time it is called;
//! * `error_in`: the entry point that returns an error of kind `error_kind` (default
//!   `unavailable`): the first `fail_times` calls, or every call when `fail_times` is absent;
//! * `membership`: the member sets the sink asks for (default `effective`).
//!
//! Otherwise it behaves exactly like [`idsync_plugin::core::memory::MemorySink`]. Integration
//! tests use it to prove that a panicking plugin is an error the runner survives and that error
//! kinds cross the boundary intact.

use idsync_plugin::core::memory::MemorySink;
use idsync_plugin::{
    export_sink, ApplyOptions, ApplyReport, Batch, CheckItem, MembershipMode, PluginSink, Sink,
    SinkCapabilities, SinkError, SinkErrorKind, StoredState, SyncPolicy,
};
use serde::Deserialize;

/// An entry point of the sink contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPoint {
    /// Building the sink.
    New,
    /// `Sink::capabilities`.
    Capabilities,
    /// `Sink::prepare`.
    Prepare,
    /// `Sink::load_state`.
    LoadState,
    /// `Sink::apply`.
    Apply,
    /// `Sink::check`.
    Check,
    /// `Sink::close`.
    Close,
}

/// The `faulty` sink's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultyConfig {
    /// The entry point that panics, if any.
    #[serde(default)]
    pub panic_in: Option<EntryPoint>,
    /// The entry point that returns an error, if any.
    #[serde(default)]
    pub error_in: Option<EntryPoint>,
    /// The kind of the injected error.
    #[serde(default = "default_error_kind")]
    pub error_kind: SinkErrorKind,
    /// How many calls of `error_in` fail before it succeeds (absent: all of them).
    #[serde(default)]
    pub fail_times: Option<u32>,
    /// Flat or direct member sets.
    #[serde(default)]
    pub membership: MembershipMode,
}

fn default_error_kind() -> SinkErrorKind {
    SinkErrorKind::Unavailable
}

/// A [`MemorySink`] with injected panics and errors.
#[derive(Debug)]
pub struct FaultySink {
    inner: MemorySink,
    config: FaultyConfig,
    failures_left: Option<u32>,
}

impl FaultySink {
    /// Panics or fails if the configuration says so for `entry_point`.
    fn inject(&mut self, entry_point: EntryPoint) -> Result<(), SinkError> {
        if self.config.panic_in == Some(entry_point) {
            panic!("faulty sink: injected panic in {entry_point:?}");
        }
        if self.config.error_in != Some(entry_point) {
            return Ok(());
        }
        match &mut self.failures_left {
            Some(0) => Ok(()),
            Some(left) => {
                *left -= 1;
                Err(self.injected_error(entry_point))
            }
            None => Err(self.injected_error(entry_point)),
        }
    }

    fn injected_error(&self, entry_point: EntryPoint) -> SinkError {
        SinkError::new(
            self.config.error_kind,
            format!("faulty sink: injected error in {entry_point:?}"),
        )
    }
}

impl Sink for FaultySink {
    fn capabilities(&self) -> SinkCapabilities {
        if self.config.panic_in == Some(EntryPoint::Capabilities) {
            panic!("faulty sink: injected panic in Capabilities");
        }
        self.inner.capabilities()
    }

    fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError> {
        self.inject(EntryPoint::Prepare)?;
        self.inner.prepare(policy)
    }

    fn load_state(&mut self) -> Result<StoredState, SinkError> {
        self.inject(EntryPoint::LoadState)?;
        self.inner.load_state()
    }

    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
        self.inject(EntryPoint::Apply)?;
        self.inner.apply(batch, options)
    }

    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> {
        self.inject(EntryPoint::Check)?;
        self.inner.check()
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.inject(EntryPoint::Close)?;
        self.inner.close()
    }
}

impl PluginSink for FaultySink {
    type Config = FaultyConfig;

    fn new(config: FaultyConfig) -> Result<Self, SinkError> {
        let mut sink = FaultySink {
            inner: MemorySink::new(config.membership),
            failures_left: config.fail_times,
            config,
        };
        sink.inject(EntryPoint::New)?;
        Ok(sink)
    }
}

export_sink!(name = "faulty", sink = FaultySink);
