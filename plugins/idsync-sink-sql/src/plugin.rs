//! The dynamic-plugin face of [`SqlSink`]: built from the runner's JSON configuration.

use idsync_core::SinkError;
use idsync_plugin::PluginSink;

use crate::config::SqlSinkConfig;
use crate::sink::SqlSink;

impl PluginSink for SqlSink {
    type Config = SqlSinkConfig;

    fn new(config: SqlSinkConfig) -> Result<Self, SinkError> {
        SqlSink::new(config).map_err(SinkError::from)
    }
}

idsync_plugin::export_sink!(name = "sql", sink = SqlSink);
