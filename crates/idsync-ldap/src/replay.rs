//! The `replay` source: a recorded trace fed through the same protocol machine and flavour
//! mapping as a live server.
//!
//! ```toml
//! [source]
//! type = "replay"
//! path = "bug-1234.ldif"     # a trace of `idsync trace`, or an idiotrace capture
//! flavour = "freeipa"        # "ldap" | "rfc2307" | "freeipa"
//! base = "dc=example,dc=org" # and the other flavour keys of a live source, as traced
//! ```
//!
//! # Semantics
//!
//! * **A replay starts as the trace started and ends with it.** Every run reads the whole
//!   trace from its first message and returns `Ok` at its end, with or without `--once`
//!   (a trace is finite; there is nothing to follow). A stored cookie is not resumed from:
//!   when the sink holds one and the trace starts with a full refresh, the replay first sends
//!   [`Event::RefreshRequired`], so the traced refresh is a full refresh with its sweep.
//! * **Searches.** A trace may hold several sync searches (reconnects, restarts without
//!   cookie). A search ends with its done message (`# result: 101`); the next message, or any
//!   message carrying a search header, starts a new one, announced to the engine with
//!   [`Event::RefreshStarted`] as the runner does before every live run.
//! * **How each search started** comes from its header (`# idsync-cookie:`,
//!   `# idsync-mode:`). idiotrace captures have no header: their first search is taken as a
//!   full refresh in refreshAndPersist mode, and a later one as resuming with a cookie when
//!   the trace showed one. A capture that idiotrace made with a cookie (`-c` with a non-empty
//!   cookie file) only holds changes: replay it into an empty sink, or insert
//!   `# idsync-version: 0` and `# idsync-cookie: sent` lines after its first `#` line.
//! * **389-ds re-reads.** When the protocol machine asks to re-read the changed entries of a
//!   389-ds incremental refresh, the replay takes the `# idsync-reread:` messages the live
//!   source recorded; a trace without them (idiotrace's) re-reads each entry as the sync search
//!   sent it.
//! * A trace that cannot be read, or a message the protocol machine refuses, fails the run
//!   with [`SourceError::Malformed`] naming the file and the line; the events before it have
//!   been sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use idsync_core::{
    CheckItem, Event, EventSender, Source, SourceError, SourceFingerprint, SourceStart,
};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::config::ReplaySourceConfig;
use crate::flavour::{Flavour, FlavourKind, FlavourProblem, FlavourSettings};
use crate::protocol::{
    EntryMapper, ProtocolError, ProtocolOptions, RereadTarget, Step, SyncProtocol,
};
use crate::raw::{RawEntry, RawMessage};
use crate::trace::{TraceError, TraceReader, TracedMessage};

#[cfg(test)]
mod tests;

/// Messages read ahead of the protocol machine.
const READ_AHEAD: usize = 256;

/// The `replay` source (`[source] type = "replay"`).
#[derive(Debug)]
pub struct ReplaySource {
    path: PathBuf,
    flavour: Arc<Flavour>,
    fingerprint: SourceFingerprint,
}

impl ReplaySource {
    /// Builds the source: the flavour with the configured keys applied. Every problem is
    /// returned at once, keyed relative to `[source]` (`flavour`, `users.filter`, …). The trace
    /// file is opened when the source runs (or is checked).
    pub fn new(config: &ReplaySourceConfig) -> Result<Self, Vec<FlavourProblem>> {
        let mut problems = Vec::new();
        if config.path.as_os_str().is_empty() {
            problems.push(FlavourProblem::new(
                "path",
                "missing: the trace file to replay",
            ));
        }
        let kind: FlavourKind = match config.flavour.parse() {
            Ok(kind) => kind,
            Err(error) => {
                problems.push(FlavourProblem::new("flavour", error.to_string()));
                return Err(problems);
            }
        };
        let flavour = match Flavour::new(kind, &FlavourSettings::from(config)) {
            Ok(flavour) => flavour,
            Err(more) => {
                problems.extend(more);
                return Err(problems);
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let canonical = std::fs::canonicalize(&config.path)
            .or_else(|_| std::path::absolute(&config.path))
            .unwrap_or_else(|_| config.path.clone());
        Ok(Self {
            fingerprint: SourceFingerprint(format!("replay:{kind}:{}", canonical.display())),
            path: config.path.clone(),
            flavour: Arc::new(flavour),
        })
    }

    /// The trace file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl Source for ReplaySource {
    fn fingerprint(&self) -> SourceFingerprint {
        self.fingerprint.clone()
    }

    async fn check(&mut self) -> Result<Vec<CheckItem>, SourceError> {
        let path = self.path.clone();
        let counted = tokio::task::spawn_blocking(move || count(&path))
            .await
            .map_err(|error| SourceError::Other(format!("trace reader: {error}")))?;
        Ok(vec![match counted {
            Ok((messages, searches)) => CheckItem::ok(format!(
                "trace `{}`: {messages} messages in {searches} searches, flavour `{}`",
                self.path.display(),
                self.flavour.kind()
            )),
            Err(error) => CheckItem::failed(format!("trace `{}`: {error}", self.path.display())),
        }])
    }

    async fn run(&mut self, start: SourceStart, events: EventSender) -> Result<(), SourceError> {
        let reader = TraceReader::open(&self.path).map_err(|error| {
            SourceError::Config(format!(
                "cannot open the trace `{}`: {error}",
                self.path.display()
            ))
        })?;
        let (sender, mut receiver) = mpsc::channel(READ_AHEAD);
        let reading = tokio::task::spawn_blocking(move || read_into(reader, &sender));
        let mut replay = Replay::new(self.flavour.clone(), start.cookie.is_some());
        info!(trace = %self.path.display(), "replaying");
        let mut out = Vec::new();
        while let Some(item) = receiver.recv().await {
            let traced = item.map_err(|error| self.malformed(None, &error))?;
            let line = traced.line;
            replay
                .feed(traced, &mut out)
                .map_err(|error| self.malformed(Some(line), &error))?;
            for event in out.drain(..) {
                events.send(event).await?;
            }
        }
        replay
            .finish(&mut out)
            .map_err(|error| self.malformed(None, &error))?;
        for event in out.drain(..) {
            events.send(event).await?;
        }
        drop(reading.await);
        info!(
            trace = %self.path.display(),
            messages = replay.messages,
            searches = replay.searches,
            "replay finished"
        );
        Ok(())
    }
}

impl ReplaySource {
    fn malformed(&self, line: Option<usize>, error: &dyn std::fmt::Display) -> SourceError {
        match line {
            Some(line) => SourceError::Malformed(format!(
                "trace `{}`, message at line {line}: {error}",
                self.path.display()
            )),
            None => SourceError::Malformed(format!("trace `{}`: {error}", self.path.display())),
        }
    }
}

/// Reads the trace on a blocking thread into the channel, stopping at the first error or when
/// the receiver is gone.
fn read_into(mut reader: TraceReader, sender: &mpsc::Sender<Result<TracedMessage, TraceError>>) {
    while let Some(item) = reader.next_message() {
        if sender.blocking_send(item).is_err() {
            return;
        }
    }
}

/// Messages and searches of a trace (for `check`).
fn count(path: &Path) -> Result<(u64, u64), TraceError> {
    let mut reader = TraceReader::open(path)?;
    let (mut messages, mut searches) = (0u64, 0u64);
    let mut open = false;
    while let Some(item) = reader.next_message() {
        let traced = item?;
        if traced.reread.is_some() {
            messages += 1;
            continue;
        }
        if !open || traced.search.is_some() {
            searches += 1;
            open = true;
        }
        if matches!(traced.message, RawMessage::Done(_)) {
            open = false;
        }
        messages += 1;
    }
    Ok((messages, searches))
}

/// Why a replay stops.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The protocol machine refused a message.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// A re-read the protocol machine waits for.
#[derive(Debug)]
struct PendingReread {
    targets: Vec<RereadTarget>,
}

/// The replay logic without I/O: traced messages in, engine events out.
pub struct Replay {
    flavour: Arc<Flavour>,
    /// The sink holds a cookie (a full refresh replayed over it is announced).
    sink_has_cookie: bool,
    /// The search in progress.
    protocol: Option<SyncProtocol>,
    /// Re-reads requested by the protocol machine, not answered yet.
    pending: Option<PendingReread>,
    /// The entries of the current refresh as the sync search sent them, by DN: the re-read
    /// of a trace that did not record one (only kept when the machine re-reads: 389-ds with a
    /// cookie).
    sent: HashMap<String, RawEntry>,
    /// A cookie was seen (a headerless later search resumes with it).
    cookie_seen: bool,
    /// The last search ended by asking for a restart without cookie.
    restart_without_cookie: bool,
    /// Messages fed.
    pub messages: u64,
    /// Searches started.
    pub searches: u64,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("protocol", &self.protocol)
            .field("pending", &self.pending)
            .field("messages", &self.messages)
            .field("searches", &self.searches)
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// A replay mapping entries with `flavour`; `sink_has_cookie` when the run was given a
    /// stored cookie.
    pub fn new(flavour: Arc<Flavour>, sink_has_cookie: bool) -> Self {
        Replay {
            flavour,
            sink_has_cookie,
            protocol: None,
            pending: None,
            sent: HashMap::new(),
            cookie_seen: false,
            restart_without_cookie: false,
            messages: 0,
            searches: 0,
        }
    }

    /// Feeds one traced message, appending the events it means to `out`.
    pub fn feed(&mut self, traced: TracedMessage, out: &mut Vec<Event>) -> Result<(), ReplayError> {
        self.messages += 1;
        if self.pending.is_some() {
            if let Some(dn) = traced.reread.as_deref() {
                return self.reread(dn, traced.message, out);
            }
            // The trace holds no (more) re-reads: the entries as the sync search sent them.
            self.finish_rereads(out)?;
        }
        if let Some(dn) = traced.reread {
            warn!(%dn, line = traced.line, "a re-read nobody asked for: skipped");
            return Ok(());
        }
        if self.protocol.is_none() || traced.search.is_some() {
            self.start_search(traced.search.as_ref(), out);
        }
        let Some(protocol) = self.protocol.as_mut() else {
            return Ok(());
        };
        let options = protocol.options();
        if let RawMessage::Entry(entry) = &traced.message {
            if options.ds389 && options.cookie_sent && !protocol.refresh_done() {
                self.sent.insert(entry.dn.clone(), entry.clone());
            }
        }
        let before = out.len();
        let step = protocol.handle(traced.message, out)?;
        self.note_cookies(out.get(before..).unwrap_or_default());
        self.step(step);
        Ok(())
    }

    /// Ends the replay: answers re-reads still pending from the sync search's entries.
    pub fn finish(&mut self, out: &mut Vec<Event>) -> Result<(), ReplayError> {
        if self.pending.is_some() {
            self.finish_rereads(out)?;
        }
        Ok(())
    }

    fn start_search(&mut self, header: Option<&crate::trace::SearchHeader>, out: &mut Vec<Event>) {
        let first = self.searches == 0;
        let options = match header {
            Some(header) => ProtocolOptions {
                cookie_sent: header.cookie_sent,
                persist: header.persist,
                ds389: self.flavour.quirks_389(),
            },
            None => ProtocolOptions {
                cookie_sent: !first && self.cookie_seen && !self.restart_without_cookie,
                persist: true,
                ds389: self.flavour.quirks_389(),
            },
        };
        if first {
            if self.sink_has_cookie && !options.cookie_sent {
                // The runner sent RefreshStarted; this says why the stored cookie is not used.
                out.push(Event::RefreshRequired);
            }
        } else {
            out.push(Event::RefreshStarted);
        }
        debug!(
            cookie_sent = options.cookie_sent,
            persist = options.persist,
            "replaying a sync search"
        );
        self.searches += 1;
        self.restart_without_cookie = false;
        self.pending = None;
        self.sent.clear();
        let mapper: Arc<dyn EntryMapper> = self.flavour.clone();
        self.protocol = Some(SyncProtocol::new(mapper, options));
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Continue | Step::Persisting => {}
            Step::Finished => {
                self.protocol = None;
                self.sent.clear();
            }
            Step::RestartWithoutCookie { reason } => {
                info!(%reason, "the traced search restarts without cookie");
                self.protocol = None;
                self.sent.clear();
                self.restart_without_cookie = true;
            }
            Step::Reread(targets) => self.pending = Some(PendingReread { targets }),
        }
    }

    fn note_cookies(&mut self, events: &[Event]) {
        if events.iter().any(|event| matches!(event, Event::Cookie(_))) {
            self.cookie_seen = true;
        }
    }

    /// A recorded re-read of `dn`: an entry, or a done message for nothing.
    fn reread(
        &mut self,
        dn: &str,
        message: RawMessage,
        out: &mut Vec<Event>,
    ) -> Result<(), ReplayError> {
        let (Some(protocol), Some(pending)) = (self.protocol.as_mut(), self.pending.as_mut())
        else {
            return Ok(());
        };
        let Some(position) = pending.targets.iter().position(|target| target.dn == dn) else {
            warn!(%dn, "a re-read of an entry that was not asked for: skipped");
            return Ok(());
        };
        let target = pending.targets.remove(position);
        let entry = match &message {
            RawMessage::Entry(entry) => Some(entry),
            _ => None,
        };
        protocol.reread_result(&target, entry, out);
        if pending.targets.is_empty() {
            self.pending = None;
            let before = out.len();
            let step = protocol.reread_done(out)?;
            self.note_cookies(out.get(before..).unwrap_or_default());
            self.step(step);
        }
        Ok(())
    }

    /// Answers every pending re-read with the entry as the sync search sent it.
    fn finish_rereads(&mut self, out: &mut Vec<Event>) -> Result<(), ReplayError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let Some(protocol) = self.protocol.as_mut() else {
            return Ok(());
        };
        debug!(
            entries = pending.targets.len(),
            "the trace holds no re-reads: the entries as the sync search sent them"
        );
        for target in &pending.targets {
            protocol.reread_result(target, self.sent.get(&target.dn), out);
        }
        let before = out.len();
        let step = protocol.reread_done(out)?;
        self.note_cookies(out.get(before..).unwrap_or_default());
        self.step(step);
        Ok(())
    }
}
