//! The idsync sink plugin ABI: the only crate shared across the dynamic-library boundary.
//!
//! A sink plugin is a `cdylib` that exports one [`SinkModule`] (through `idsync-plugin`'s
//! `export_sink!`). The runner loads it with abi_stable, which checks at load time that both
//! sides agree on the layout of every type reachable from the module. This crate holds those
//! types:
//!
//! * [`SinkModule`] / [`SinkModule_Ref`]: the root module (ABI version, plugin name and version,
//!   and the `new` constructor);
//! * [`FfiSink`] / [`SinkBox`]: the sink trait object, a synchronous mirror of
//!   [`idsync_core::Sink`];
//! * `Ffi*` mirror types for everything those methods carry, each with cheap, infallible
//!   conversions from and into the `idsync_core` type, so the host and the SDK convert with the
//!   same code.
//!
//! # Versioning (read before changing anything here)
//!
//! The version of this crate **is** the plugin ABI version ([`ABI_VERSION`]). abi_stable refuses
//! a plugin whose version is incompatible (0.x: a different minor version) and checks layouts.
//! Within one minor version only these changes are allowed:
//!
//! * append fields at the end of [`SinkModule`] (never before or between existing ones);
//! * append methods at the end of [`FfiSink`], with a default body;
//! * add associated constants to the integer-backed enums ([`FfiSinkErrorKind`]);
//! * add variants to [`FfiPlannedChange`] (it is stored in `NonExhaustive`).
//!
//! Everything else (plain structs, the frozen enums) changes only with a new minor version,
//! which forces every plugin to be rebuilt.

// `#[sabi_trait]` expands to impl blocks inside a const item, which rustc's
// `non_local_definitions` lint flags; the expansion is abi_stable's, not ours.
#![allow(non_local_definitions)]

mod batch;
mod error;
mod model;
mod module;
mod name;
mod object;
mod policy;
mod report;
mod state;

#[cfg(test)]
mod tests;

pub use abi_stable;

pub use batch::{
    FfiApplyOptions, FfiBatch, FfiCookie, FfiGroupMembers, FfiRemoval, FfiRemovalAction,
};
pub use error::{FfiSinkError, FfiSinkErrorKind};
pub use model::{FfiEntry, FfiEntryId, FfiEntryKind};
pub use module::{SinkModule, SinkModule_Ref, ABI_VERSION};
pub use name::is_valid_plugin_name;
pub use object::{FfiSink, FfiSink_TO, SinkBox};
pub use policy::{
    FfiMatchPolicy, FfiMembershipMode, FfiOnDelete, FfiSinkCapabilities, FfiSyncPolicy,
};
pub use report::{
    FfiApplyReport, FfiChangeCounts, FfiPlannedChange, FfiPlannedChange_NE, FfiQuarantined,
};
pub use state::{FfiCheckItem, FfiCheckStatus, FfiStoredState, FfiSyncedEntry};
