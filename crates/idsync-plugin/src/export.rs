//! What [`crate::export_sink!`] expands to, as generic code: the root module and `new`.

use abi_stable::{
    library::{CheckTypeLayout, LibHeader, RootModuleResult},
    prefix_type::PrefixTypeTrait,
    std_types::{RErr, ROk, RResult, RStr},
};
use idsync_core::SinkError;
use idsync_plugin_api::{FfiSinkError, SinkBox, SinkModule, SinkModule_Ref, ABI_VERSION};

use crate::adapter::SinkAdapter;
use crate::config::decode_config;
use crate::panic::contain;
use crate::PluginSink;

/// Ties a plugin's name and version to its sink type; implemented by [`crate::export_sink!`].
pub trait SinkExport: 'static {
    /// The exported sink.
    type Sink: PluginSink;
    /// The plugin name (`[a-z0-9_-]+`).
    const NAME: &'static str;
    /// The plugin crate's version.
    const VERSION: &'static str;
}

/// The library header abi_stable's loader reads: what `#[export_root_module]` would generate
/// for a function returning [`SinkModule_Ref`].
pub const fn lib_header<E: SinkExport>() -> LibHeader {
    // SAFETY: `from_constructor::<M>` requires the constructor to return the prefix reference
    // of an `M`; `erased_root_module::<E>` returns the one of `root_module::<E>()`, a
    // `SinkModule_Ref`, through abi_stable's own `__call_root_module_loader`.
    #[allow(unsafe_code)]
    unsafe {
        LibHeader::from_constructor::<SinkModule_Ref>(erased_root_module::<E>, CheckTypeLayout::Yes)
    }
}

extern "C" fn erased_root_module<E: SinkExport>() -> RootModuleResult {
    abi_stable::library::__call_root_module_loader(root_module::<E>)
}

/// Built once per library load (abi_stable caches it), so leaking it is fine.
pub(crate) fn root_module<E: SinkExport>() -> SinkModule_Ref {
    SinkModule {
        abi_version: RStr::from_str(ABI_VERSION),
        plugin_name: RStr::from_str(E::NAME),
        plugin_version: RStr::from_str(E::VERSION),
        new: new_sink::<E>,
    }
    .leak_into_prefix()
}

/// `SinkModule::new`: decode the configuration, build the sink, wrap it, panics contained.
pub(crate) extern "C" fn new_sink<E: SinkExport>(
    config_json: RStr<'_>,
) -> RResult<SinkBox, FfiSinkError> {
    let built = contain(E::NAME, "new", || -> Result<SinkBox, SinkError> {
        let config = decode_config(E::NAME, config_json.as_str())?;
        let sink = <E::Sink as PluginSink>::new(config)?;
        Ok(SinkAdapter::boxed(E::NAME, sink))
    });
    match built {
        Ok(Ok(sink)) => ROk(sink),
        Ok(Err(error)) => RErr(error.into()),
        Err(panicked) => RErr(panicked),
    }
}
