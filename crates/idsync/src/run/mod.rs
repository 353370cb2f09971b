//! `idsync sync`: the source on the async runtime, the engine and the sink on a blocking
//! thread, a bounded channel between them, retries with backoff, and a clean stop on signals.

mod backoff;
mod driver;
mod plan;
mod snapshot;
mod source_loop;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use idsync_core::{
    EngineConfig, EngineError, EngineStats, MassDeleteGuard, Sink, SinkErrorKind, Source,
    SourceError, SyncPolicy,
};

use crate::config::SyncSection;
pub use backoff::Backoff;
pub use plan::print_plan;

/// Command-line switches of `idsync sync`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncOptions {
    /// One refresh, then exit.
    pub once: bool,
    /// Print the plan, write nothing (implies `once`).
    pub dry_run: bool,
    /// Let the mass-delete guard pass.
    pub allow_mass_delete: bool,
    /// Show a progress bar during refreshes (stderr is a terminal).
    pub progress: bool,
}

/// Why a sync run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The engine or the sink failed for good.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The source failed for good.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Retries ran out.
    #[error("giving up after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// A worker thread died.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RunError {
    /// True for errors the user fixes in the configuration (exit code 2).
    pub fn is_config(&self) -> bool {
        match self {
            RunError::Engine(EngineError::Sink(error)) => error.kind == SinkErrorKind::Config,
            RunError::Source(SourceError::Config(_)) => true,
            _ => false,
        }
    }
}

/// What a finished run did.
#[derive(Debug)]
pub struct RunSummary {
    /// Engine totals.
    pub stats: EngineStats,
    /// True when a signal stopped the run.
    pub interrupted: bool,
    /// Names the engine knew, for printing a dry-run plan.
    pub names: std::collections::HashMap<idsync_core::EntryId, String>,
}

/// Shared between the engine thread and the source loop.
#[derive(Clone)]
pub(crate) struct Shared {
    /// The cookie of the last committed batch: where a restarted source resumes.
    pub committed_cookie: Arc<Mutex<Option<Vec<u8>>>>,
    /// Cancelled on SIGINT/SIGTERM (the parent token) or when one side fails.
    pub stop: CancellationToken,
}

/// Builds the engine configuration from `[sync]` and the switches.
pub fn engine_config(sync: &SyncSection, options: &SyncOptions) -> EngineConfig {
    EngineConfig {
        batch_size: sync.batch_size,
        policy: SyncPolicy {
            on_delete: sync.on_delete,
            match_by: sync.match_by,
        },
        guard: MassDeleteGuard {
            allow: options.allow_mass_delete,
            max_ratio: sync.mass_delete_ratio,
            min_allowed: sync.mass_delete_min,
        },
        dry_run: options.dry_run,
        record_changes: options.dry_run,
        ..EngineConfig::default()
    }
}

/// The retry policy from `[sync]`.
pub fn backoff(sync: &SyncSection, once: bool) -> Backoff {
    let attempts = sync.retry_max_attempts.unwrap_or(if once { 5 } else { 0 });
    Backoff::new(
        Duration::from_secs_f64(sync.retry_initial_delay),
        Duration::from_secs_f64(sync.retry_max_delay),
        attempts,
    )
}

/// Runs a sync until the refresh ends (`once`), or until `shutdown` is cancelled. With a
/// `state_dir` (`[runner]`), the engine's member index is restored from a snapshot at the
/// start when it matches the stored cookie, and written there at a clean stop.
pub async fn sync(
    source: Box<dyn Source>,
    sink: Box<dyn Sink>,
    sync_config: &SyncSection,
    state_dir: Option<&Path>,
    options: SyncOptions,
    shutdown: CancellationToken,
) -> Result<RunSummary, RunError> {
    let once = options.once || options.dry_run;
    let fingerprint = source.fingerprint();
    let config = engine_config(sync_config, &options);
    let shared = Shared {
        committed_cookie: Arc::new(Mutex::new(None)),
        stop: shutdown.child_token(),
    };

    let snapshot_file = state_dir.map(|dir| snapshot::IndexSnapshotFile::new(dir, &fingerprint));
    let opened = driver::open_engine(
        sink,
        config,
        fingerprint,
        backoff(sync_config, once),
        shared.clone(),
    )
    .await?;
    let Some((mut engine, resume)) = opened else {
        return Ok(RunSummary {
            stats: EngineStats::default(),
            interrupted: true,
            names: Default::default(),
        });
    };
    match &resume {
        Some(_) => info!("resuming from the stored cookie"),
        None => info!("no usable cookie stored: full refresh"),
    }
    if let Ok(mut slot) = shared.committed_cookie.lock() {
        slot.clone_from(&resume);
    }
    let mut index_warm = false;
    if let Some(file) = snapshot_file.clone() {
        let resumed = resume.is_some();
        let dry_run = options.dry_run;
        (engine, index_warm) = tokio::task::spawn_blocking(move || {
            let warm = file.restore(&mut engine, resumed, dry_run);
            (engine, warm)
        })
        .await
        .map_err(|error| RunError::Internal(format!("the snapshot thread failed: {error}")))?;
    }

    let (events, receiver) = mpsc::channel(sync_config.queue_capacity);
    let engine_thread = {
        let shared = shared.clone();
        let backoff = backoff(sync_config, once);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            driver::drive(
                engine,
                receiver,
                handle,
                backoff,
                shared,
                options.progress,
                snapshot_file,
            )
        })
    };
    let source_result = source_loop::run(
        source,
        events,
        once,
        index_warm,
        backoff(sync_config, once),
        shared.clone(),
    )
    .await;
    if source_result.is_err() {
        // Stop the engine too: it drains what it has and commits what it can.
        shared.stop.cancel();
    }
    let engine_result = engine_thread
        .await
        .map_err(|error| RunError::Internal(format!("the engine thread failed: {error}")))?;
    let outcome = engine_result?;
    source_result?;
    let interrupted = shutdown.is_cancelled();
    if interrupted {
        warn!("stopped by a signal; everything committed is consistent, the rest is re-read at the next start");
    }
    Ok(RunSummary {
        stats: outcome.stats,
        interrupted,
        names: outcome.names,
    })
}
