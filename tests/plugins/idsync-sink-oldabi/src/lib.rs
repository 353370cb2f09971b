//! `oldabi`: what a sink plugin built against an older idsync-plugin-api (0.0.1) looks like
//! to the runner. It exports a root module under the same name, claiming version 0.0.1; the
//! runner must refuse it with "was built against idsync-plugin-api 0.0.1 … rebuild it".
//!
//! It does not use `idsync-plugin`: the point is to be built against another ABI.

// abi_stable names the generated reference type `SinkModule_Ref`.
#![allow(non_camel_case_types)]

use abi_stable::{
    declare_root_module_statics, export_root_module, library::RootModule,
    prefix_type::PrefixTypeTrait, sabi_types::VersionStrings, std_types::RStr, StableAbi,
};

/// The root module of the pretend old ABI.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = SinkModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct SinkModule {
    /// The ABI version it claims.
    pub abi_version: RStr<'static>,
    /// The plugin name.
    #[sabi(last_prefix_field)]
    pub plugin_name: RStr<'static>,
}

impl RootModule for SinkModule_Ref {
    declare_root_module_statics! {SinkModule_Ref}

    const BASE_NAME: &'static str = "idsync_sink";
    const NAME: &'static str = "idsync sink plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("0.0.1");
}

/// Exports the module (abi_stable's loader calls it).
#[export_root_module]
fn root_module() -> SinkModule_Ref {
    SinkModule {
        abi_version: RStr::from_str("0.0.1"),
        plugin_name: RStr::from_str("oldabi"),
    }
    .leak_into_prefix()
}
