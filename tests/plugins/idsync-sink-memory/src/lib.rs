//! `memory`: idsync-core's in-memory reference sink behind the plugin boundary.
//!
//! Configuration: `{"membership": "effective" | "direct"}` (default `effective`). State lives
//! in the sink object and is gone when it is dropped. Tests use it to run the engine against a
//! real plugin library without a database, and to load two different plugins in one process.

use idsync_plugin::core::memory::MemorySink;
use idsync_plugin::{
    export_sink, ApplyOptions, ApplyReport, Batch, CheckItem, MembershipMode, PluginSink, Sink,
    SinkCapabilities, SinkError, StoredState, SyncPolicy,
};
use serde::Deserialize;

/// The `memory` sink's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Flat or direct member sets.
    #[serde(default)]
    pub membership: MembershipMode,
}

/// [`MemorySink`] as a plugin.
#[derive(Debug)]
pub struct MemoryPluginSink(MemorySink);

impl Sink for MemoryPluginSink {
    fn capabilities(&self) -> SinkCapabilities {
        self.0.capabilities()
    }

    fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError> {
        self.0.prepare(policy)
    }

    fn load_state(&mut self) -> Result<StoredState, SinkError> {
        self.0.load_state()
    }

    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
        self.0.apply(batch, options)
    }

    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> {
        self.0.check()
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.0.close()
    }
}

impl PluginSink for MemoryPluginSink {
    type Config = MemoryConfig;

    fn new(config: MemoryConfig) -> Result<Self, SinkError> {
        Ok(Self(MemorySink::new(config.membership)))
    }
}

export_sink!(name = "memory", sink = MemoryPluginSink);
