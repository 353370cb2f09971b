//! Panic containment: every entry point runs through [`contain`].
//!
//! A plugin carries its own copy of std, so the runner's panic hook never sees a plugin panic.
//! This module installs (once per library) a hook that, on a thread currently inside an entry
//! point, records the message and location in a thread-local instead of printing them; panics
//! elsewhere (a sink's own background threads) go to the previous hook as usual.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use idsync_plugin_api::{FfiSinkError, FfiSinkErrorKind};

/// Set to `1` to also print contained plugin panics to stderr (with a backtrace when
/// `RUST_BACKTRACE` asks for one).
pub const PANIC_STDERR_ENV: &str = "IDSYNC_PLUGIN_PANIC_STDERR";

static INSTALL_HOOK: Once = Once::new();

thread_local! {
    /// How many entry points this thread is inside (entry points do not nest today; the count
    /// keeps the hook right if they ever do).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The latest panic seen inside the current entry point.
    static CAPTURED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into a `Panicked` error naming the plugin and the entry point.
pub(crate) fn contain<T>(
    plugin: &str,
    entry_point: &str,
    f: impl FnOnce() -> T,
) -> Result<T, FfiSinkError> {
    install_hook();
    let scope = CaptureScope::enter();
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    let captured = scope.leave();
    match outcome {
        Ok(value) => Ok(value),
        Err(payload) => {
            let detail = captured.unwrap_or_else(|| payload_text(payload.as_ref()));
            dispose(payload);
            Err(FfiSinkError::new(
                FfiSinkErrorKind::PANICKED,
                format!("sink plugin `{plugin}` panicked in `{entry_point}`: {detail}"),
            ))
        }
    }
}

fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let echo = std::env::var_os(PANIC_STDERR_ENV).is_some_and(|value| value == "1");
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if capturing() {
                record(describe(info));
                if echo {
                    previous(info);
                }
            } else {
                previous(info);
            }
        }));
    });
}

fn capturing() -> bool {
    DEPTH.try_with(|depth| depth.get() > 0).unwrap_or(false)
}

fn record(message: String) {
    // `try_*`: the hook must never panic itself (that would abort).
    let _ = CAPTURED.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(message);
        }
    });
}

/// `message, at file:line:column`.
fn describe(info: &PanicHookInfo<'_>) -> String {
    let message = payload_text(info.payload());
    match info.location() {
        Some(location) => format!(
            "{message}, at {}:{}:{}",
            location.file(),
            location.line(),
            location.column()
        ),
        None => message,
    }
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

/// Drops a panic payload without letting a panicking `Drop` escape.
fn dispose(payload: Box<dyn Any + Send>) {
    if let Err(second) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}

fn take_captured() -> Option<String> {
    CAPTURED
        .try_with(|slot| slot.try_borrow_mut().ok().and_then(|mut slot| slot.take()))
        .ok()
        .flatten()
}

/// Marks the current thread as inside an entry point for as long as it lives.
struct CaptureScope;

impl CaptureScope {
    fn enter() -> Self {
        let _ = DEPTH.try_with(|depth| depth.set(depth.get().saturating_add(1)));
        take_captured();
        CaptureScope
    }

    /// Leaves the scope, returning the captured panic message, if any.
    fn leave(self) -> Option<String> {
        // Dropping `self` decrements the depth.
        drop(self);
        take_captured()
    }
}

impl Drop for CaptureScope {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}
