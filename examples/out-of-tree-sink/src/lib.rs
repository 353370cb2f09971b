//! `jsonl`: an idsync sink that appends one JSON line per change to a file.
//!
//! Every created, updated, renamed, enabled, disabled or deleted account and every membership
//! added or removed becomes one line, for piping into anything that reads JSON lines:
//!
//! ```text
//! {"ts":"2025-03-01T12:00:00.000Z","batch":1,"change":"created","id":"…","kind":"user","name":"alice","enabled":true,"attrs":{"mail":["alice@example.org"]}}
//! {"ts":"2025-03-01T12:00:00.000Z","batch":1,"change":"member_added","group":"…","group_name":"staff","member":"…","member_name":"alice"}
//! ```
//!
//! The contract (see `docs/plugin-guide.md`):
//!
//! * **Atomic per batch.** A batch's lines are built in memory and appended with one write
//!   (then `fsync`); a failed write is truncated away. Its state (cookie, known entries) is
//!   written to `<path>.state.json` atomically (temporary file + rename) *after* the lines.
//!   A crash between the two leaves the batch's lines in the file while the state still has
//!   the old cookie, so the runner applies that batch again: **at most one batch can appear
//!   twice** (same `batch` number), and nothing is ever lost. A torn last line (a crash in the
//!   middle of the append) is cut off when the sink next prepares.
//! * **Compare before write.** The state remembers every entry's name, attributes, flags and
//!   member set, so only real changes produce lines, and restarts do not repeat history.
//! * **Dry run** computes and reports the changes but writes nothing.

mod change;
mod config;
mod output;
mod plan;
mod sink;
mod state;
mod time;

pub use config::JsonlConfig;
pub use sink::JsonlSink;

idsync_plugin::export_sink!(name = "jsonl", sink = JsonlSink);
