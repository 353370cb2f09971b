//! The sink trait object that crosses the boundary.

// `#[sabi_trait]` generates the vtable shims as `unsafe` code (calls through erased pointers);
// that code is abi_stable's, and this module contains nothing else.
#![allow(unsafe_code)]

use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RVec},
};

use crate::{
    FfiApplyOptions, FfiApplyReport, FfiBatch, FfiCheckItem, FfiSinkCapabilities, FfiSinkError,
    FfiStoredState, FfiSyncPolicy,
};

/// The FFI-safe mirror of [`idsync_core::Sink`]: the same methods, with mirror types.
///
/// Plugins never implement it by hand: `idsync-plugin`'s adapter does, around a
/// [`idsync_core::Sink`], catching panics at every method. Methods may only be **appended**
/// (after `close`), each with a default body, so that a runner can call a plugin built before
/// the method existed.
#[sabi_trait]
pub trait FfiSink: Send {
    /// Static facts about the sink. An error here means the sink is unusable.
    fn capabilities(&self) -> RResult<FfiSinkCapabilities, FfiSinkError>;

    /// Connects, creates bookkeeping tables, verifies the application schema.
    fn prepare(&mut self, policy: FfiSyncPolicy) -> RResult<(), FfiSinkError>;

    /// Reads the stored cookie and the live synced entries.
    fn load_state(&mut self) -> RResult<FfiStoredState, FfiSinkError>;

    /// Applies one batch atomically.
    fn apply(
        &mut self,
        batch: &FfiBatch,
        options: FfiApplyOptions,
    ) -> RResult<FfiApplyReport, FfiSinkError>;

    /// Verifies connectivity and schema without changing anything.
    fn check(&mut self) -> RResult<RVec<FfiCheckItem>, FfiSinkError>;

    /// Releases connections; further calls are errors.
    #[sabi(last_prefix_field)]
    fn close(&mut self) -> RResult<(), FfiSinkError>;
}

/// An owned sink trait object, as returned by [`crate::SinkModule::new`].
pub type SinkBox = FfiSink_TO<'static, RBox<()>>;
