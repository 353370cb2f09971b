//! A loaded plugin presented as an ordinary [`Sink`].

use std::fmt;
use std::path::Path;

use idsync_core::{
    ApplyOptions, ApplyReport, Batch, CheckItem, Sink, SinkCapabilities, SinkError, StoredState,
    SyncPolicy,
};
use idsync_plugin_api::{FfiBatch, FfiSyncPolicy, SinkBox};

use crate::plugin::{PluginError, PluginInfo};

/// A sink living in a plugin library. It implements [`Sink`] by converting core types to the
/// plugin API's mirror types and back, so the engine cannot tell it from an in-process sink.
pub struct LoadedSink {
    sink: SinkBox,
    info: PluginInfo,
    /// Read once when the sink is created: it is static, and the trait method cannot fail.
    capabilities: SinkCapabilities,
}

impl LoadedSink {
    /// Wraps a sink the plugin created, reading its capabilities.
    pub(crate) fn new(sink: SinkBox, info: PluginInfo) -> Result<Self, PluginError> {
        let capabilities =
            sink.capabilities()
                .into_result()
                .map_err(|error| PluginError::Sink {
                    name: info.name.clone(),
                    path: info.path.clone(),
                    stage: "capabilities",
                    source: SinkError::from(error),
                })?;
        Ok(Self {
            sink,
            info,
            capabilities: capabilities.into(),
        })
    }

    /// What the library says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The plugin crate's version.
    pub fn version(&self) -> &str {
        &self.info.version
    }

    /// The `idsync-plugin-api` version the plugin was built against.
    pub fn abi_version(&self) -> &str {
        &self.info.abi_version
    }

    /// The library file.
    pub fn path(&self) -> &Path {
        &self.info.path
    }
}

impl fmt::Debug for LoadedSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedSink")
            .field("info", &self.info)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl Sink for LoadedSink {
    fn capabilities(&self) -> SinkCapabilities {
        self.capabilities.clone()
    }

    fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError> {
        self.sink
            .prepare(FfiSyncPolicy::from(policy))
            .into_result()
            .map_err(SinkError::from)
    }

    fn load_state(&mut self) -> Result<StoredState, SinkError> {
        self.sink
            .load_state()
            .into_result()
            .map(StoredState::from)
            .map_err(SinkError::from)
    }

    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
        let batch = FfiBatch::from(batch);
        let report = self
            .sink
            .apply(&batch, (*options).into())
            .into_result()
            .map_err(SinkError::from)?;
        let unknown = report.unknown_changes();
        if unknown > 0 {
            tracing::warn!(
                plugin = %self.info.name,
                unknown,
                "the sink plugin reported changes of kinds this runner does not know; they are left out of the plan"
            );
        }
        Ok(report.into())
    }

    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> {
        self.sink
            .check()
            .into_result()
            .map(|items| items.into_iter().map(CheckItem::from).collect())
            .map_err(SinkError::from)
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.sink.close().into_result().map_err(SinkError::from)
    }
}
