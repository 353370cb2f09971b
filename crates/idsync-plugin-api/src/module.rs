//! The root module every sink plugin exports.

// abi_stable names the generated reference type `SinkModule_Ref`; that name is part of the API.
#![allow(non_camel_case_types)]

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr},
    StableAbi,
};

use crate::{FfiSinkError, SinkBox};

/// The plugin ABI version: the version of this crate, which plugins and runner must share.
pub const ABI_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The root module of a sink plugin: what the runner reads first from the library.
///
/// Use it through [`SinkModule_Ref`]. Fields may only ever be **appended** (after `new`, in a
/// later minor version, each with `#[sabi(missing_field(option))]` or a default so a runner can
/// still load plugins built before the field existed); never reorder, remove or retype one.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = SinkModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct SinkModule {
    /// The `idsync-plugin-api` version the plugin was built against ([`ABI_VERSION`]).
    pub abi_version: RStr<'static>,
    /// The plugin's name (`mediawiki`, `rt`, `sql`, …).
    pub plugin_name: RStr<'static>,
    /// The plugin crate's own version.
    pub plugin_version: RStr<'static>,
    /// Builds a sink from its configuration: the runner's `[sink]` table (minus `plugin`) as a
    /// JSON object.
    #[sabi(last_prefix_field)]
    pub new: extern "C" fn(config_json: RStr<'_>) -> RResult<SinkBox, FfiSinkError>,
}

impl RootModule for SinkModule_Ref {
    declare_root_module_statics! {SinkModule_Ref}

    const BASE_NAME: &'static str = "idsync_sink";
    const NAME: &'static str = "idsync sink plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
