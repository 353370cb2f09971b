//! Loads the configured sink plugin.

use idsync_core::Sink;

use crate::config::SinkSection;
use crate::plugin::{self, PluginError, PluginInfo, PluginSearch};

/// A loaded sink and what its library says about itself.
pub struct OpenedSink {
    /// The sink, as the engine sees it.
    pub sink: Box<dyn Sink>,
    /// Name, versions and path of the plugin library.
    pub info: PluginInfo,
}

/// Finds the plugin named in `[sink] plugin` and creates the sink from the rest of `[sink]`.
pub fn open(section: &SinkSection) -> Result<OpenedSink, PluginError> {
    let search = PluginSearch::from_env();
    let loaded = plugin::open_sink(&search, &section.plugin, &section.settings)?;
    let info = loaded.info().clone();
    Ok(OpenedSink {
        sink: Box::new(loaded),
        info,
    })
}

/// Every plugin that can be found, and every file that failed to load.
pub fn list() -> Vec<Result<PluginInfo, PluginError>> {
    plugin::list_plugins(&PluginSearch::from_env())
}

/// The search directories, for messages.
pub fn search_dirs_display() -> String {
    PluginSearch::from_env()
        .dirs()
        .iter()
        .map(|dir| format!("`{}`", dir.display()))
        .collect::<Vec<_>>()
        .join(", ")
}
