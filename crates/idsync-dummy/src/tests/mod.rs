//! Tests of the dummy source that span modules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod parse;
mod run;
mod watch;
