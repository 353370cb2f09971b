//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// idsync keeps application user databases in step with a directory, in real time.
#[derive(Debug, Parser)]
#[command(name = "idsync", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    /// More logging (-v: debug, -vv: trace); `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines (coloured on a terminal).
    Human,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sync the source into the sink; keeps following changes until SIGINT/SIGTERM.
    Sync {
        /// The configuration file (TOML, or YAML).
        #[arg(long, short)]
        config: PathBuf,
        /// One refresh, then exit.
        #[arg(long)]
        once: bool,
        /// Print what would change, write nothing, store no cookie (implies --once).
        #[arg(long)]
        dry_run: bool,
        /// Let a refresh disable or delete more than the mass-delete guard allows.
        #[arg(long)]
        allow_mass_delete: bool,
    },
    /// Validate the configuration, load the plugin, connect to source and sink, verify the
    /// sink's schema; print a report.
    Check {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Record the raw protocol messages of the source's sync search (no sink) as an LDIF trace
    /// in idiotrace's format: a full refresh, then changes until SIGINT/SIGTERM. Replay it with
    /// `[source] type = "replay"`.
    Trace {
        /// The configuration file (its `[source]` is a live LDAP source).
        #[arg(long, short)]
        config: PathBuf,
        /// The trace file to write (replaced if it exists).
        #[arg(long, short)]
        output: PathBuf,
        /// Stop after the refresh.
        #[arg(long)]
        once: bool,
    },
    /// List the sink plugins that can be found, with their versions.
    Plugins,
}
