//! The runner's configuration: read with the `config` crate (TOML, YAML accepted), overridden
//! by `IDSYNC__SECTION__KEY` environment variables, then validated as a whole.
//!
//! Three phases (DESIGN.md §5): deserialise → pure validation returning every problem at once
//! (each naming the file and the key) → build (I/O, elsewhere).

mod error;
mod load;
mod sections;

pub use error::{ConfigError, ConfigProblem};
pub use load::load;
pub(crate) use load::parse_section;
pub use sections::{RunnerConfig, RunnerSection, SinkSection, SourceSection, SyncSection};
