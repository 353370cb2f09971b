//! The idsync sink author's SDK: everything an out-of-tree sink plugin depends on.
//!
//! A sink plugin is a `cdylib` crate that implements [`Sink`] and [`PluginSink`] for one type
//! and exports it with [`export_sink!`]:
//!
//! ```
//! use idsync_plugin::core::memory::MemorySink;
//! use idsync_plugin::{
//!     export_sink, ApplyOptions, ApplyReport, Batch, CheckItem, MembershipMode, PluginSink, Sink,
//!     SinkCapabilities, SinkError, StoredState, SyncPolicy,
//! };
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! pub struct Config {
//!     /// Flat (`effective`) or `direct` member sets.
//!     #[serde(default)]
//!     membership: MembershipMode,
//! }
//!
//! /// A sink that keeps everything in memory (a real one writes to a database).
//! pub struct MySink(MemorySink);
//!
//! impl Sink for MySink {
//!     fn capabilities(&self) -> SinkCapabilities { self.0.capabilities() }
//!     fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError> { self.0.prepare(policy) }
//!     fn load_state(&mut self) -> Result<StoredState, SinkError> { self.0.load_state() }
//!     fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
//!         self.0.apply(batch, options)
//!     }
//!     fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> { self.0.check() }
//!     fn close(&mut self) -> Result<(), SinkError> { self.0.close() }
//! }
//!
//! impl PluginSink for MySink {
//!     type Config = Config;
//!     fn new(config: Config) -> Result<Self, SinkError> {
//!         Ok(MySink(MemorySink::new(config.membership)))
//!     }
//! }
//!
//! export_sink!(name = "mine", sink = MySink);
//! ```
//!
//! The generated library is named `libidsync_sink_mine.so` when the crate is called
//! `idsync-sink-mine`. What the SDK does for the sink:
//!
//! * decodes the runner's JSON configuration into [`PluginSink::Config`], turning a serde error
//!   into a [`SinkErrorKind::Config`] error that names the offending key;
//! * converts between the FFI mirror types of [`api`] and the [`core`] types;
//! * runs every entry point inside `catch_unwind`: a panic becomes a
//!   [`SinkErrorKind::Panicked`] error carrying the panic message and location (captured by a
//!   quiet panic hook: nothing is printed unless `IDSYNC_PLUGIN_PANIC_STDERR=1`), and poisons
//!   the sink so that later calls (except `close`) fail instead of touching half-updated state.
//!
//! See `docs/plugin-guide.md` in the idsync repository for the full contract.

mod adapter;
mod config;
mod export;
mod panic;
mod secret;

#[cfg(test)]
mod tests;

pub use idsync_core as core;
pub use idsync_plugin_api as api;
pub use serde;

pub use idsync_core::{
    ApplyOptions, ApplyReport, Batch, ChangeCounts, CheckItem, CheckStatus, CookieUpdate, Entry,
    EntryId, EntryKind, GroupMembers, MatchPolicy, MembershipMode, OnDelete, PlannedChange,
    Quarantined, Removal, RemovalAction, Sink, SinkCapabilities, SinkError, SinkErrorKind,
    StoredState, SyncPolicy,
};

pub use config::decode_config;
pub use panic::PANIC_STDERR_ENV;
pub use secret::read_secret_file;

/// A [`Sink`] that a plugin library can build from its configuration.
pub trait PluginSink: Sink + Sized + 'static {
    /// The sink's configuration: the runner's `[sink]` table without `plugin`.
    ///
    /// Put `#[serde(deny_unknown_fields)]` on it so that typos are reported, and read secrets
    /// from files (`password_file`) rather than from the configuration itself.
    type Config: serde::de::DeserializeOwned;

    /// Builds the sink. Do not connect here: `prepare` does that; check and store the
    /// configuration only.
    fn new(config: Self::Config) -> Result<Self, SinkError>;
}

/// Exports a [`PluginSink`] as this library's idsync sink plugin.
///
/// ```text
/// idsync_plugin::export_sink!(name = "sql", sink = SqlSink);
/// ```
///
/// `name` must match `[a-z0-9_-]+` (checked at compile time); the plugin version is the
/// plugin crate's `CARGO_PKG_VERSION`. Use it once per library, in a `cdylib` crate.
#[macro_export]
macro_rules! export_sink {
    (name = $name:literal, sink = $sink:ty $(,)?) => {
        const _: () = {
            const _: () = ::core::assert!(
                $crate::__private::is_valid_plugin_name($name),
                "export_sink!: the plugin name must match [a-z0-9_-]+"
            );

            struct __IdsyncSinkExport;

            impl $crate::__private::SinkExport for __IdsyncSinkExport {
                type Sink = $sink;
                const NAME: &'static str = $name;
                const VERSION: &'static str = ::core::env!("CARGO_PKG_VERSION");
            }

            // The symbol abi_stable's loader looks up (what `#[export_root_module]` would emit;
            // spelled out here so that plugins need no direct abi_stable dependency).
            #[doc(hidden)]
            #[allow(unsafe_code, non_upper_case_globals)]
            #[unsafe(no_mangle)]
            pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__private::LibHeader =
                $crate::__private::lib_header::<__IdsyncSinkExport>();
        };
    };
}

/// Implementation details of [`export_sink!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::{lib_header, SinkExport};
    pub use abi_stable::library::LibHeader;
    pub use idsync_plugin_api::is_valid_plugin_name;
}
