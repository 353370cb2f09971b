//! Tests of plugin discovery and loading. Most load the real libraries built from
//! `tests/plugins/` (run `cargo build --workspace` first); one builds and loads the
//! out-of-tree example.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod fixtures;
mod loading;
mod mapping;
mod out_of_tree;
mod search;
