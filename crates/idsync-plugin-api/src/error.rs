//! The error a plugin returns across the boundary.

use std::fmt;

use abi_stable::{std_types::RString, StableAbi};
use idsync_core::{SinkError, SinkErrorKind};

/// The class of a sink failure, mirroring [`SinkErrorKind`].
///
/// An integer with named constants rather than a Rust enum, so that kinds can be added within
/// a minor version: a value this side does not know reads as [`FfiSinkErrorKind::OTHER`].
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FfiSinkErrorKind(pub u8);

impl FfiSinkErrorKind {
    /// [`SinkErrorKind::Config`].
    pub const CONFIG: Self = Self(0);
    /// [`SinkErrorKind::Schema`].
    pub const SCHEMA: Self = Self(1);
    /// [`SinkErrorKind::Unavailable`].
    pub const UNAVAILABLE: Self = Self(2);
    /// [`SinkErrorKind::Transaction`].
    pub const TRANSACTION: Self = Self(3);
    /// [`SinkErrorKind::Panicked`].
    pub const PANICKED: Self = Self(4);
    /// [`SinkErrorKind::Other`], and every value not known here.
    pub const OTHER: Self = Self(5);
}

impl fmt::Debug for FfiSinkErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SinkErrorKind::from(*self) {
            SinkErrorKind::Other if *self != Self::OTHER => write!(f, "Unknown({})", self.0),
            kind => fmt::Debug::fmt(&kind, f),
        }
    }
}

impl From<SinkErrorKind> for FfiSinkErrorKind {
    fn from(kind: SinkErrorKind) -> Self {
        match kind {
            SinkErrorKind::Config => Self::CONFIG,
            SinkErrorKind::Schema => Self::SCHEMA,
            SinkErrorKind::Unavailable => Self::UNAVAILABLE,
            SinkErrorKind::Transaction => Self::TRANSACTION,
            SinkErrorKind::Panicked => Self::PANICKED,
            SinkErrorKind::Other => Self::OTHER,
        }
    }
}

impl From<FfiSinkErrorKind> for SinkErrorKind {
    fn from(kind: FfiSinkErrorKind) -> Self {
        match kind {
            FfiSinkErrorKind::CONFIG => SinkErrorKind::Config,
            FfiSinkErrorKind::SCHEMA => SinkErrorKind::Schema,
            FfiSinkErrorKind::UNAVAILABLE => SinkErrorKind::Unavailable,
            FfiSinkErrorKind::TRANSACTION => SinkErrorKind::Transaction,
            FfiSinkErrorKind::PANICKED => SinkErrorKind::Panicked,
            _ => SinkErrorKind::Other,
        }
    }
}

/// A sink failure as it crosses the boundary: a kind and a one-line message.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct FfiSinkError {
    /// The class of failure.
    pub kind: FfiSinkErrorKind,
    /// A readable message, causes included.
    pub message: RString,
}

impl FfiSinkError {
    /// An error of this kind with this message.
    pub fn new(kind: FfiSinkErrorKind, message: impl Into<RString>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for FfiSinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FfiSinkError {}

impl From<SinkError> for FfiSinkError {
    fn from(error: SinkError) -> Self {
        Self {
            kind: error.kind.into(),
            message: error.message.into(),
        }
    }
}

impl From<FfiSinkError> for SinkError {
    fn from(error: FfiSinkError) -> Self {
        Self {
            kind: error.kind.into(),
            message: error.message.into_string(),
        }
    }
}
