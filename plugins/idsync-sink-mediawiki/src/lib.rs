//! idsync-sink-mediawiki: the MediaWiki sink (`plugin = "mediawiki"`).
//!
//! Writes directory users and groups straight into the database of a MediaWiki 1.39 wiki
//! (SQLite, PostgreSQL, MySQL/MariaDB), the way MediaWiki's own code writes them: `user`
//! and `actor` rows with canonical names, `user_groups` (and `user_former_groups`) for
//! mapped, managed groups, indefinite blocks in `ipblocks` for disabled accounts. One
//! transaction per batch, cookie included.
//!
//! * [`config`]: the `[sink]` table and its pure validation;
//! * [`names`]: MediaWiki's canonical user names and the names it refuses;
//! * [`schema`]: schema version detection;
//! * `users`, `blocks`, `groups`, `removal`: the parts of a batch;
//! * [`store`]: directory groups and their member sets;
//! * [`sink`]: [`MediaWikiSink`] and the transaction around each batch.

mod blocks;
pub mod config;
mod context;
pub mod error;
mod groups;
pub mod names;
mod plugin;
mod removal;
pub mod schema;
pub mod sink;
pub mod store;
mod users;
pub mod values;
pub mod wiki;

pub use config::{ConfigErrors, ConfigProblem, MediaWikiConfig};
pub use error::MediaWikiError;
pub use sink::MediaWikiSink;

/// mimalloc for the plugin library (as in the sql plugin: many small allocations in a big
/// sync). Not in unit tests, which share a binary with the test harness.
#[cfg(not(test))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
