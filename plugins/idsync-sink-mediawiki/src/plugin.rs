//! The dynamic-plugin face of [`MediaWikiSink`]: built from the runner's JSON configuration.

use idsync_core::SinkError;
use idsync_plugin::PluginSink;

use crate::config::MediaWikiConfig;
use crate::sink::MediaWikiSink;

impl PluginSink for MediaWikiSink {
    type Config = MediaWikiConfig;

    fn new(config: MediaWikiConfig) -> Result<Self, SinkError> {
        MediaWikiSink::new(config).map_err(SinkError::from)
    }
}

idsync_plugin::export_sink!(name = "mediawiki", sink = MediaWikiSink);
