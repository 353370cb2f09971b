//! Runs the source, restarting it from the last committed cookie after failures.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{info, warn};

use idsync_core::{Event, Source, SourceError, SourceStart};

use super::{Backoff, RunError, Shared};

/// A run that lasted this long counts as healthy: the retry counter starts again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Runs `source` until it is done (`once`), the engine stops listening, or a stop is
/// requested. Retryable failures are retried with backoff, each restart resuming from the
/// cookie of the last committed batch. `index_warm`: the engine's index was restored from a
/// snapshot (it stays complete for every restart of this run).
pub(crate) async fn run(
    mut source: Box<dyn Source>,
    events: mpsc::Sender<Event>,
    once: bool,
    index_warm: bool,
    mut backoff: Backoff,
    shared: Shared,
) -> Result<(), RunError> {
    loop {
        let cookie = shared
            .committed_cookie
            .lock()
            .map(|slot| slot.clone())
            .unwrap_or(None);
        if events.send(Event::RefreshStarted).await.is_err() {
            return Ok(());
        }
        let start = SourceStart {
            cookie,
            follow: !once,
            index_warm,
        };
        let started = Instant::now();
        let outcome = tokio::select! {
            outcome = source.run(start, events.clone()) => outcome,
            () = shared.stop.cancelled() => return Ok(()),
        };
        match outcome {
            Ok(()) | Err(SourceError::Closed) => return Ok(()),
            Err(error) if error.is_retryable() => {
                if started.elapsed() >= HEALTHY_RUN {
                    backoff.reset();
                }
                let Some((attempt, delay)) = backoff.next_delay() else {
                    return Err(RunError::GaveUp {
                        attempts: backoff.attempts(),
                        last: crate::error_chain(&error),
                    });
                };
                warn!(
                    error = %crate::error_chain(&error),
                    attempt,
                    delay = ?delay,
                    "the source failed; reconnecting and resuming from the last committed cookie"
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shared.stop.cancelled() => return Ok(()),
                }
                info!(attempt, "restarting the source");
            }
            Err(error) => return Err(error.into()),
        }
    }
}
