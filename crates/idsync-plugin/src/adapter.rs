//! The adapter that presents a [`Sink`] as the FFI trait object [`FfiSink`].
//!
//! Every method converts mirror types to core types and back, and runs inside
//! [`contain`]. After a panic the adapter is poisoned: the sink may be half-updated, so every
//! later call except `close` fails with a `Panicked` error without touching it.

use std::cell::Cell;

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RErr, ROk, RResult, RVec},
};
use idsync_core::{Batch, Sink, SinkError};
use idsync_plugin_api::{
    FfiApplyOptions, FfiApplyReport, FfiBatch, FfiCheckItem, FfiSink, FfiSinkCapabilities,
    FfiSinkError, FfiSinkErrorKind, FfiSink_TO, FfiStoredState, FfiSyncPolicy, SinkBox,
};

use crate::panic::contain;

/// A sink behind the FFI boundary.
pub(crate) struct SinkAdapter<S> {
    plugin: &'static str,
    /// `None` once closed.
    sink: Option<S>,
    /// The entry point that panicked, once one has.
    poisoned_in: Cell<Option<&'static str>>,
}

impl<S: Sink + 'static> SinkAdapter<S> {
    /// Wraps `sink` into the trait object handed to the runner.
    pub(crate) fn boxed(plugin: &'static str, sink: S) -> SinkBox {
        FfiSink_TO::from_value(Self::new(plugin, sink), TD_Opaque)
    }

    pub(crate) fn new(plugin: &'static str, sink: S) -> Self {
        Self {
            plugin,
            sink: Some(sink),
            poisoned_in: Cell::new(None),
        }
    }

    /// The sink, unless it was closed or poisoned.
    fn usable(&self) -> Result<&S, FfiSinkError> {
        self.check_usable()?;
        self.sink.as_ref().ok_or_else(|| self.closed_error())
    }

    fn usable_mut(&mut self) -> Result<&mut S, FfiSinkError> {
        self.check_usable()?;
        let closed = self.closed_error();
        self.sink.as_mut().ok_or(closed)
    }

    fn check_usable(&self) -> Result<(), FfiSinkError> {
        if self.sink.is_none() {
            return Err(self.closed_error());
        }
        match self.poisoned_in.get() {
            Some(entry_point) => Err(FfiSinkError::new(
                FfiSinkErrorKind::PANICKED,
                format!(
                    "sink plugin `{}` is unusable: it panicked earlier, in `{entry_point}`",
                    self.plugin
                ),
            )),
            None => Ok(()),
        }
    }

    fn closed_error(&self) -> FfiSinkError {
        FfiSinkError::new(
            FfiSinkErrorKind::OTHER,
            format!("sink plugin `{}` was closed", self.plugin),
        )
    }

    /// Runs `f` on the sink with panics contained, poisoning the adapter on a panic.
    fn call_mut<R>(
        &mut self,
        entry_point: &'static str,
        f: impl FnOnce(&mut S) -> Result<R, SinkError>,
    ) -> RResult<R, FfiSinkError> {
        let plugin = self.plugin;
        let outcome = match self.usable_mut() {
            Ok(sink) => contain(plugin, entry_point, || f(sink)),
            Err(error) => return RErr(error),
        };
        self.finish(entry_point, outcome)
    }

    fn call_ref<R>(
        &self,
        entry_point: &'static str,
        f: impl FnOnce(&S) -> Result<R, SinkError>,
    ) -> RResult<R, FfiSinkError> {
        let outcome = match self.usable() {
            Ok(sink) => contain(self.plugin, entry_point, || f(sink)),
            Err(error) => return RErr(error),
        };
        self.finish(entry_point, outcome)
    }

    fn finish<R>(
        &self,
        entry_point: &'static str,
        outcome: Result<Result<R, SinkError>, FfiSinkError>,
    ) -> RResult<R, FfiSinkError> {
        match outcome {
            Ok(Ok(value)) => ROk(value),
            Ok(Err(error)) => RErr(error.into()),
            Err(panicked) => {
                self.poisoned_in.set(Some(entry_point));
                RErr(panicked)
            }
        }
    }
}

impl<S: Sink + 'static> FfiSink for SinkAdapter<S> {
    fn capabilities(&self) -> RResult<FfiSinkCapabilities, FfiSinkError> {
        self.call_ref("capabilities", |sink| Ok(sink.capabilities().into()))
    }

    fn prepare(&mut self, policy: FfiSyncPolicy) -> RResult<(), FfiSinkError> {
        self.call_mut("prepare", |sink| sink.prepare(&policy.into()))
    }

    fn load_state(&mut self) -> RResult<FfiStoredState, FfiSinkError> {
        self.call_mut("load_state", |sink| sink.load_state().map(Into::into))
    }

    fn apply(
        &mut self,
        batch: &FfiBatch,
        options: FfiApplyOptions,
    ) -> RResult<FfiApplyReport, FfiSinkError> {
        self.call_mut("apply", |sink| {
            let batch = Batch::from(batch);
            sink.apply(&batch, &options.into()).map(Into::into)
        })
    }

    fn check(&mut self) -> RResult<RVec<FfiCheckItem>, FfiSinkError> {
        self.call_mut("check", |sink| {
            sink.check()
                .map(|items| items.into_iter().map(Into::into).collect())
        })
    }

    /// Closes and drops the sink, poisoned or not; closing twice is a no-op.
    fn close(&mut self) -> RResult<(), FfiSinkError> {
        let Some(mut sink) = self.sink.take() else {
            return ROk(());
        };
        let outcome = contain(self.plugin, "close", move || {
            let closed = sink.close();
            drop(sink);
            closed
        });
        self.finish("close", outcome)
    }
}

impl<S> Drop for SinkAdapter<S> {
    /// Drops the sink with panics contained: unwinding into the runner would abort it.
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            let _ = contain(self.plugin, "drop", move || drop(sink));
        }
    }
}
