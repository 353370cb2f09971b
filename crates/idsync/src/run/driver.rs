//! The engine's thread: receives events, feeds the engine, retries failed batches.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::runtime::Handle;
use tokio::sync::mpsc::{self, error::TryRecvError};
use tracing::{error, info, warn};

use idsync_core::{
    Engine, EngineConfig, EngineError, EngineStats, EntryId, Event, Phase, Sink, SourceFingerprint,
};

use super::snapshot::IndexSnapshotFile;
use super::{Backoff, RunError, Shared};

/// How long the source may be quiet during a refresh before gathered entries are committed.
const REFRESH_IDLE: Duration = Duration::from_millis(200);

/// What the engine thread hands back.
pub(crate) struct DriveOutcome {
    pub stats: EngineStats,
    pub names: HashMap<EntryId, String>,
}

/// Prepares the sink and opens the engine on a blocking thread, retrying while the database is
/// unreachable. `None` when a stop was requested first.
pub(crate) async fn open_engine(
    sink: Box<dyn Sink>,
    config: EngineConfig,
    fingerprint: SourceFingerprint,
    mut backoff: Backoff,
    shared: Shared,
) -> Result<Option<(Engine, Option<Vec<u8>>)>, RunError> {
    let mut sink = sink;
    loop {
        let engine_config = config.clone();
        let (returned, prepared) = tokio::task::spawn_blocking(move || {
            let mut sink = sink;
            let prepared = Engine::prepare(sink.as_mut(), &engine_config);
            (sink, prepared)
        })
        .await
        .map_err(|error| RunError::Internal(format!("the sink thread failed: {error}")))?;
        sink = returned;
        match prepared {
            Ok(state) => {
                return Ok(Some(Engine::with_state(sink, config, &fingerprint, state)));
            }
            Err(error) if error.is_retryable() => {
                let Some((attempt, delay)) = backoff.next_delay() else {
                    return Err(RunError::GaveUp {
                        attempts: backoff.attempts(),
                        last: error.to_string(),
                    });
                };
                warn!(error = %error, attempt, delay = ?delay, "cannot open the sink; retrying");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shared.stop.cancelled() => return Ok(None),
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Feeds events to the engine until the channel closes, then commits what can be committed
/// and, with a state directory, writes the member-index snapshot.
pub(crate) fn drive(
    mut engine: Engine,
    mut events: mpsc::Receiver<Event>,
    handle: Handle,
    mut backoff: Backoff,
    shared: Shared,
    progress: bool,
    snapshot_file: Option<IndexSnapshotFile>,
) -> Result<DriveOutcome, RunError> {
    let bar = progress_bar(progress);
    let mut committed_batches = 0;
    let result = (|| -> Result<(), RunError> {
        loop {
            // A stop (signal, or the source failed for good): stop reading, commit what the
            // engine holds. Events still queued are re-read at the next start.
            if shared.stop.is_cancelled() {
                break;
            }
            let next = match engine.phase() {
                // `None` after a quiet spell: commit what the refresh gathered so far.
                Phase::Refresh => handle
                    .block_on(tokio::time::timeout(REFRESH_IDLE, events.recv()))
                    .ok(),
                Phase::Persist => match events.try_recv() {
                    Ok(event) => Some(Some(event)),
                    Err(TryRecvError::Disconnected) => Some(None),
                    Err(TryRecvError::Empty) => None,
                },
            };
            match next {
                Some(Some(event)) => {
                    if matches!(event, Event::Changed(_)) && engine.phase() == Phase::Refresh {
                        bar.inc(1);
                    }
                    let ends_refresh = matches!(event, Event::RefreshDone { .. });
                    with_retry(&mut engine, &mut backoff, &shared, |engine| {
                        engine.push(event)
                    })?;
                    if ends_refresh {
                        bar.finish_and_clear();
                        info!(
                            entries = engine.synced_len(),
                            "refresh done; following changes"
                        );
                    }
                }
                Some(None) => break,
                None => {
                    with_retry(&mut engine, &mut backoff, &shared, Engine::on_idle)?;
                    if engine.phase() == Phase::Persist {
                        publish_cookie(&engine, &shared, &mut committed_batches);
                        // Quiet: wait for the next event (or a stop) without spinning.
                        let stop = shared.stop.clone();
                        let event = handle.block_on(async {
                            tokio::select! {
                                event = events.recv() => event,
                                () = stop.cancelled() => None,
                            }
                        });
                        match event {
                            Some(event) => {
                                with_retry(&mut engine, &mut backoff, &shared, |engine| {
                                    engine.push(event)
                                })?;
                            }
                            None => break,
                        }
                    }
                }
            }
            publish_cookie(&engine, &shared, &mut committed_batches);
        }
        with_retry(&mut engine, &mut backoff, &shared, Engine::finish)?;
        publish_cookie(&engine, &shared, &mut committed_batches);
        Ok(())
    })();
    bar.finish_and_clear();
    if let Err(error) = &result {
        error!(error = %error, "the engine stopped");
        shared.stop.cancel();
    } else if let Some(file) = &snapshot_file {
        // The engine refuses unless everything it indexed is committed.
        file.save(&engine);
    }
    let names = engine.names();
    let stats = match engine.close() {
        Ok(stats) => stats,
        Err(error) => {
            warn!(error = %error, "closing the sink failed");
            EngineStats::default()
        }
    };
    result.map(|()| DriveOutcome { stats, names })
}

/// Runs an engine operation; a retryable sink failure is retried with backoff until it
/// succeeds, the attempts run out, or a stop is requested.
fn with_retry(
    engine: &mut Engine,
    backoff: &mut Backoff,
    shared: &Shared,
    operation: impl FnOnce(&mut Engine) -> Result<(), EngineError>,
) -> Result<(), RunError> {
    let mut outcome = operation(engine);
    loop {
        match outcome {
            Ok(()) => {
                backoff.reset();
                return Ok(());
            }
            Err(error) if error.is_retryable() => {
                let Some((attempt, delay)) = backoff.next_delay() else {
                    return Err(RunError::GaveUp {
                        attempts: backoff.attempts(),
                        last: error.to_string(),
                    });
                };
                warn!(
                    error = %error,
                    attempt,
                    delay = ?delay,
                    "the sink failed; retrying the same batch (nothing of it was committed, the cookie did not move)"
                );
                if sleep_unless_stopped(delay, shared) {
                    return Err(RunError::Engine(error));
                }
                outcome = engine.retry();
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Sleeps in small steps; true when a stop was requested meanwhile.
fn sleep_unless_stopped(delay: Duration, shared: &Shared) -> bool {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < delay {
        if shared.stop.is_cancelled() {
            return true;
        }
        std::thread::sleep(step.min(delay.saturating_sub(slept)));
        slept += step;
    }
    shared.stop.is_cancelled()
}

fn publish_cookie(engine: &Engine, shared: &Shared, seen_batches: &mut u64) {
    let batches = engine.stats().batches;
    if batches == *seen_batches {
        return;
    }
    *seen_batches = batches;
    if let Ok(mut slot) = shared.committed_cookie.lock() {
        *slot = engine.committed_cookie().map(<[u8]>::to_vec);
    }
}

fn progress_bar(enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} refresh: {pos} entries ({per_sec})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
