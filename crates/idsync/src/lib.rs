//! The idsync runner as a library: configuration, plugin loading and supervision.
//! `main.rs` is a thin command-line front end over it.

pub mod plugin;
