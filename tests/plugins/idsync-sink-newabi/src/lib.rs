//! `newabi`: what a sink plugin built against a newer, incompatible idsync-plugin-api looks
//! like to the runner. It claims version 0.99.0, and its `new` has another signature, so
//! abi_stable's layout check fails; the runner must refuse it with "was built against
//! idsync-plugin-api 0.99.0 … rebuild it".
//!
//! It does not use `idsync-plugin`: the point is to be built against another ABI.

// abi_stable names the generated reference type `SinkModule_Ref`.
#![allow(non_camel_case_types)]

use abi_stable::{
    declare_root_module_statics, export_root_module,
    library::RootModule,
    prefix_type::PrefixTypeTrait,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr, RString},
    StableAbi,
};

/// The root module of the pretend new ABI.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = SinkModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct SinkModule {
    /// The ABI version it claims.
    pub abi_version: RStr<'static>,
    /// The plugin name.
    pub plugin_name: RStr<'static>,
    /// The plugin version.
    pub plugin_version: RStr<'static>,
    /// A constructor of another type than the runner's.
    #[sabi(last_prefix_field)]
    pub new: extern "C" fn(config_json: RStr<'_>) -> RResult<RString, RString>,
}

impl RootModule for SinkModule_Ref {
    declare_root_module_statics! {SinkModule_Ref}

    const BASE_NAME: &'static str = "idsync_sink";
    const NAME: &'static str = "idsync sink plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("0.99.0");
}

extern "C" fn new(_config_json: RStr<'_>) -> RResult<RString, RString> {
    RResult::RErr(RString::from("never called"))
}

/// Exports the module (abi_stable's loader calls it).
#[export_root_module]
fn root_module() -> SinkModule_Ref {
    SinkModule {
        abi_version: RStr::from_str("0.99.0"),
        plugin_name: RStr::from_str("newabi"),
        plugin_version: RStr::from_str("0.99.0"),
        new,
    }
    .leak_into_prefix()
}
