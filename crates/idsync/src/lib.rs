//! The idsync runner as a library: command line, configuration, plugin loading and
//! supervision. `main.rs` is a thin front end over [`commands::run`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod logging;
pub mod plugin;
pub mod run;
pub mod signals;
pub mod sinks;
pub mod sources;
pub mod trace;

/// An error and all its causes on one line: `outer: inner: innermost`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}
