//! `idsync trace`: runs only the source of a configuration (a live LDAP source; no sink) and
//! records every raw protocol message of its sync searches as an idiotrace LDIF trace.
//!
//! It starts without a cookie (a full refresh), then follows changes until SIGINT/SIGTERM, or
//! stops after the refresh with `--once`. A broken connection is retried with the backoff of
//! `[sync]`, resuming from the last cookie the source reported, and the trace goes on in the
//! same file (each search starts with its own header). Every message is flushed as it is
//! written, so a crash keeps everything seen before it. Replay the trace with
//! `[source] type = "replay"`.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use idsync_core::{Event, Source, SourceError, SourceStart};
use idsync_ldap::flavour::FlavourKind;
use idsync_ldap::live::{LdapSource, Recorder};
use idsync_ldap::raw::{RawEntry, RawMessage};
use idsync_ldap::trace::{SearchHeader, TraceWriter};
use idsync_ldap::LdapSourceConfig;

use crate::config::{self, ConfigError, ConfigProblem, RunnerConfig};
use crate::{run, signals};

/// Exit codes (as for the other subcommands).
use crate::commands::{EXIT_CONFIG, EXIT_FAILURE, EXIT_OK};

/// Events buffered between the source and the counter.
const QUEUE: usize = 1024;

/// How long the end of a run waits for the last events to be counted.
const DRAIN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `idsync trace` and returns the exit code.
pub async fn trace(config_path: &Path, output: &Path, once: bool) -> u8 {
    let config = match config::load(config_path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_CONFIG;
        }
    };
    let source = match build(&config) {
        Ok(source) => source,
        Err(problems) => {
            eprintln!(
                "error: {}",
                ConfigError {
                    file: config_path.to_path_buf(),
                    problems,
                }
            );
            return EXIT_CONFIG;
        }
    };
    let writer = match TraceWriter::create(output) {
        Ok(writer) => writer,
        Err(error) => {
            eprintln!(
                "error: cannot create the trace `{}`: {error}",
                output.display()
            );
            return EXIT_FAILURE;
        }
    };
    let recorder = CountingRecorder::new(writer);
    let written = recorder.counter();
    let source = source.with_trace(recorder);
    info!(trace = %output.display(), once, "recording the sync search");
    let shutdown = signals::shutdown_token();
    let outcome = record(Box::new(source), &config, once, shutdown).await;
    let messages = written.load(Ordering::Relaxed);
    match outcome {
        Ok(counts) => {
            info!(
                changed = counts.changed,
                deleted = counts.deleted,
                present = counts.present,
                searches = counts.runs,
                messages,
                "trace finished"
            );
            println!(
                "trace written to `{}` ({messages} messages)",
                output.display()
            );
            EXIT_OK
        }
        Err(error) => {
            let message = crate::error_chain(&error);
            tracing::error!("{message}");
            eprintln!("error: {message}");
            eprintln!(
                "the trace so far is in `{}` ({messages} messages)",
                output.display()
            );
            if matches!(error, TraceRunError::Source(SourceError::Config(_))) {
                EXIT_CONFIG
            } else {
                EXIT_FAILURE
            }
        }
    }
}

/// The live LDAP source of the configuration (no I/O yet).
fn build(config: &RunnerConfig) -> Result<LdapSource, Vec<ConfigProblem>> {
    let section = &config.source;
    let kind: FlavourKind = section.kind.parse().map_err(|_| {
        vec![ConfigProblem::new(
            "source.type",
            format!(
                "`idsync trace` records a live LDAP source (`ldap`, `rfc2307` or `freeipa`), \
                 not `{}`",
                section.kind
            ),
        )]
    })?;
    let mut problems = Vec::new();
    let parsed: Option<LdapSourceConfig> =
        config::parse_section("source", section.settings.clone(), &mut problems);
    let settings = match parsed {
        Some(settings) if problems.is_empty() => settings,
        _ => return Err(problems),
    };
    LdapSource::new(kind, &settings).map_err(|problems| {
        problems
            .into_iter()
            .map(|problem| ConfigProblem::new(format!("source.{}", problem.key), problem.message))
            .collect()
    })
}

/// Why a trace run stopped early.
#[derive(Debug, thiserror::Error)]
enum TraceRunError {
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
}

/// What the source reported, for the summary.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    changed: u64,
    deleted: u64,
    present: u64,
    runs: u64,
}

/// Runs the source until it is done (`once`), a stop is requested, or it fails for good.
async fn record(
    mut source: Box<dyn Source>,
    config: &RunnerConfig,
    once: bool,
    shutdown: CancellationToken,
) -> Result<Counts, TraceRunError> {
    let mut backoff = run::backoff(&config.sync, once);
    let mut counts = Counts::default();
    let mut cookie: Option<Vec<u8>> = None;
    loop {
        counts.runs += 1;
        let (events, receiver) = mpsc::channel(QUEUE);
        let draining = tokio::spawn(drain(receiver));
        let start = SourceStart {
            cookie: cookie.clone(),
            follow: !once,
            index_warm: false,
        };
        let outcome = tokio::select! {
            outcome = source.run(start, events) => Some(outcome),
            () = shutdown.cancelled() => None,
        };
        // The source is done with its sender (or its session was aborted by the stop): the
        // drain ends. It is not waited for forever.
        let drained = tokio::time::timeout(DRAIN_WAIT, draining)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        counts.changed += drained.changed;
        counts.deleted += drained.deleted;
        counts.present += drained.present;
        if drained.cookie.is_some() {
            cookie = drained.cookie;
        }
        let Some(outcome) = outcome else {
            info!("stopped by signal");
            return Ok(counts);
        };
        match outcome {
            Ok(()) | Err(SourceError::Closed) => return Ok(counts),
            Err(error) if error.is_retryable() => {
                let Some((attempt, delay)) = backoff.next_delay() else {
                    return Err(TraceRunError::GaveUp {
                        attempts: backoff.attempts(),
                        last: crate::error_chain(&error),
                    });
                };
                warn!(
                    error = %crate::error_chain(&error),
                    attempt,
                    delay = ?delay,
                    "the source failed; reconnecting and resuming from the last cookie"
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.cancelled() => return Ok(counts),
                }
                if drained.refreshed {
                    backoff.reset();
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// What one source run reported.
#[derive(Debug, Default)]
struct Drained {
    changed: u64,
    deleted: u64,
    present: u64,
    cookie: Option<Vec<u8>>,
    refreshed: bool,
}

/// Consumes the events of one run (there is no engine): counts them and keeps the last cookie.
async fn drain(mut receiver: mpsc::Receiver<Event>) -> Drained {
    let mut drained = Drained::default();
    while let Some(event) = receiver.recv().await {
        match event {
            Event::Changed(_) => drained.changed += 1,
            Event::Deleted(ids) => drained.deleted += ids.len() as u64,
            Event::Present(ids) => drained.present += ids.len() as u64,
            Event::Cookie(cookie) => drained.cookie = Some(cookie),
            Event::RefreshDone { .. } => {
                drained.refreshed = true;
                info!(
                    changed = drained.changed,
                    deleted = drained.deleted,
                    present = drained.present,
                    "refresh recorded"
                );
            }
            Event::RefreshRequired => drained.cookie = None,
            Event::Known(_) | Event::RefreshStarted => {}
        }
    }
    drained
}

/// The trace writer, counting what it wrote.
struct CountingRecorder {
    writer: TraceWriter,
    written: Arc<AtomicU64>,
}

impl CountingRecorder {
    fn new(writer: TraceWriter) -> Self {
        Self {
            writer,
            written: Arc::new(AtomicU64::new(0)),
        }
    }

    fn counter(&self) -> Arc<AtomicU64> {
        self.written.clone()
    }
}

impl Recorder for CountingRecorder {
    fn begin_search(&mut self, header: SearchHeader) {
        self.writer.begin_search(header);
    }

    fn record(&mut self, message: &RawMessage) -> io::Result<()> {
        self.writer.write(message)?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn record_reread(&mut self, dn: &str, entry: Option<&RawEntry>) -> io::Result<()> {
        self.writer.write_reread(dn, entry)?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
