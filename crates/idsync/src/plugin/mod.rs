//! Sink plugins: discovery ([`PluginSearch`]), loading ([`load_sink`], [`open_sink`]),
//! listing ([`list_plugins`]) and the adapter that makes a loaded plugin an ordinary
//! [`idsync_core::Sink`] ([`LoadedSink`]).
//!
//! Libraries are loaded with abi_stable's `lib_header_from_path` and stay loaded for the
//! lifetime of the process (abi_stable never unloads them).

mod error;
mod library;
mod loaded;
mod search;

#[cfg(test)]
mod tests;

pub use error::PluginError;
pub use library::{list_plugins, load_sink, open_sink, PluginInfo};
pub use loaded::LoadedSink;
pub use search::{
    plugin_file_name, validate_plugin_name, PluginLocation, PluginSearch, PLUGIN_PATH_ENV,
    SYSTEM_PLUGIN_DIR,
};
