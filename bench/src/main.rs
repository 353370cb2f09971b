//! idsync-bench: the benchmarks of the LDAP source (slapd → SQLite through the sql plugin)
//! and of the MediaWiki sink (slapd → MediaWiki on SQLite and MariaDB).
//!
//! It starts the servers with `idsync-testkit` (a private slapd seeded by `slapadd -q` with a
//! synthetic directory, MariaDB, MediaWiki installed by its own installer), writes the idsync
//! configuration, runs the given (release) `idsync` binary and prints figures: medians over
//! several runs, ratios to the targets, percentiles of the persist latency, peak RSS and the
//! load average. It never fails because a figure misses its target; it fails when a run
//! fails or its result is wrong (row counts, a change that never arrives).
//!
//! Run it through `scripts/bench-ldap.sh` and `scripts/bench-mediawiki.sh`, which build
//! everything in release first.

mod directory;
mod ldap;
mod mediawiki;
mod picker;
mod probe;
mod process;
mod scenario;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "idsync-bench",
    about = "idsync benchmarks (figures, not assertions)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which benchmark.
#[derive(Subcommand, Debug)]
enum Command {
    /// slapd → SQLite through the sql plugin: read floor, initial sync, no-op re-sync,
    /// persist latency, restart with a cookie, peak RSS.
    Ldap(Common),
    /// Starts the directory of the `ldap` benchmark and a MediaWiki on SQLite, writes
    /// `KEEP/serve.toml` (sql plugin into `KEEP/serve.db`) and `KEEP/serve-mw.toml`, and waits
    /// until the file `KEEP/stop` exists (for profiling by hand).
    Serve(Common),
    /// slapd → MediaWiki (plugin "mediawiki") on SQLite and MariaDB: initial sync, no-op
    /// re-sync, persist latency, restart with a cookie, peak RSS.
    Mediawiki {
        #[command(flatten)]
        common: Common,
        /// Backends, comma-separated: sqlite, mariadb.
        #[arg(long, default_value = "sqlite,mariadb", value_delimiter = ',')]
        backends: Vec<String>,
        /// The worst case: every directory group feeds a wiki group (`map_other_groups`,
        /// ~1M `user_groups` rows) instead of a handful of mapped groups.
        #[arg(long)]
        all_groups: bool,
    },
}

/// Options every benchmark takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// The (release) idsync binary.
    #[arg(long)]
    idsync: PathBuf,
    /// The directory holding the plugin libraries (`libidsync_sink_*.so`).
    #[arg(long)]
    plugins: PathBuf,
    /// Users in the directory (groups: a tenth of that).
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Most members of an ordinary group (uniform 1..=N; 160 gives about 1M memberships at
    /// 100k users with the two "everyone" groups).
    #[arg(long, default_value_t = 160)]
    max_members: usize,
    /// Repetitions of each timed run (medians are printed).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Modifies for the persist latency.
    #[arg(long, default_value_t = 1000)]
    modifies: usize,
    /// Changes made while the runner is stopped, before the restart with the cookie.
    #[arg(long, default_value_t = 10)]
    restart_changes: usize,
    /// Pause between two polls of the database while waiting for a change (microseconds).
    #[arg(long, default_value_t = 100)]
    poll_us: u64,
    /// Keep the runner logs and configurations in this directory (default: a temp dir).
    #[arg(long)]
    keep: Option<PathBuf>,
}

impl Common {
    /// The poll pause.
    fn poll(&self) -> Duration {
        Duration::from_micros(self.poll_us)
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ldap(common) => ldap::run(&common),
        Command::Serve(common) => ldap::serve(&common),
        Command::Mediawiki {
            common,
            backends,
            all_groups,
        } => mediawiki::run(&common, &backends, all_groups),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("idsync-bench: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
