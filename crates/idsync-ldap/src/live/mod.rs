//! The live LDAP [`Source`]: `ldap`, `rfc2307` and `freeipa` over RFC 4533 content sync.
//!
//! Each [`Source::run`] spawns one session task (see [`session`]) that connects, binds, checks
//! the root DSE, warms the engine's member index when it resumes from a cookie, and runs the
//! sync search through the [`SyncProtocol`](crate::protocol::SyncProtocol) machine. ldap3 can
//! panic on data it does not expect; the panic stays inside that task and becomes
//! [`SourceError::Malformed`].
//!
//! # Buffering
//!
//! The session reserves room in the engine's bounded channel *before* it asks for the next
//! message, and drives the connection only while it waits for that message (see
//! [`crate::conn`]). When the engine is slow, the session waits for room without reading the
//! socket, so neither ldap3's unbounded search channel nor anything else grows: the server is
//! held back by TCP flow control.

mod reread;
mod session;
mod warmup;

#[cfg(test)]
mod tests;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use idsync_core::{CheckItem, EventSender, Source, SourceError, SourceFingerprint, SourceStart};
use tokio::task::JoinHandle;

use crate::config::LdapSourceConfig;
use crate::conn::{ConnError, ConnectOptions};
use crate::flavour::{Flavour, FlavourKind, FlavourProblem, FlavourSettings};
use crate::protocol::ProtocolError;
use crate::raw::{RawEntry, RawMessage};
use crate::trace::{SearchHeader, TraceWriter};

/// Receives every raw message of the sync searches (the trace writer).
pub trait Recorder: Send {
    /// A new sync search begins (the first, a restart, a reconnect).
    fn begin_search(&mut self, header: SearchHeader);
    /// One message, as the server sent it.
    fn record(&mut self, message: &RawMessage) -> io::Result<()>;
    /// The outcome of re-reading `dn` (389-ds incremental refresh): the entry a normal search
    /// returned, or `None`.
    fn record_reread(&mut self, dn: &str, entry: Option<&RawEntry>) -> io::Result<()> {
        let _ = (dn, entry);
        Ok(())
    }
}

impl<W: io::Write + Send> Recorder for TraceWriter<W> {
    fn begin_search(&mut self, header: SearchHeader) {
        TraceWriter::begin_search(self, header);
    }

    fn record(&mut self, message: &RawMessage) -> io::Result<()> {
        self.write(message)
    }

    fn record_reread(&mut self, dn: &str, entry: Option<&RawEntry>) -> io::Result<()> {
        self.write_reread(dn, entry)
    }
}

/// A shared recorder (the session task may outlive one run).
type SharedRecorder = Arc<Mutex<Box<dyn Recorder>>>;

/// What every session of one source shares.
#[derive(Debug)]
struct Settings {
    connect: ConnectOptions,
    flavour: Arc<Flavour>,
    fingerprint: SourceFingerprint,
    reconcile_every: Option<Duration>,
}

/// The live LDAP source.
pub struct LdapSource {
    settings: Arc<Settings>,
    recorder: Option<SharedRecorder>,
    /// The engine's member index holds every entry in view (a refresh completed, a warm-up
    /// ran, or the runner restored an index snapshot, [`SourceStart::index_warm`]): a run that
    /// resumes from a cookie needs no warm-up.
    index_warm: Arc<AtomicBool>,
}

impl std::fmt::Debug for LdapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapSource")
            .field("settings", &self.settings)
            .field("recording", &self.recorder.is_some())
            .finish()
    }
}

impl LdapSource {
    /// Builds the source from its `[source]` table, reporting every problem at once (keys
    /// relative to `[source]`). No I/O.
    pub fn new(kind: FlavourKind, config: &LdapSourceConfig) -> Result<Self, Vec<FlavourProblem>> {
        let mut problems = Vec::new();
        let connect = ConnectOptions::from_config(config).map_err(|list| {
            list.into_iter()
                .map(|p| FlavourProblem::new(p.key, p.message))
                .collect::<Vec<_>>()
        });
        let flavour = Flavour::new(kind, &FlavourSettings::from(config));
        let reconcile_every = match config.reconcile_every.as_deref() {
            None => None,
            Some(text) => match humantime::parse_duration(text) {
                Ok(duration) if duration >= Duration::from_secs(1) => Some(duration),
                Ok(_) => {
                    problems.push(FlavourProblem::new(
                        "reconcile_every",
                        "must be at least one second",
                    ));
                    None
                }
                Err(error) => {
                    problems.push(FlavourProblem::new(
                        "reconcile_every",
                        format!("`{text}` is not a duration like `6h` or `30min`: {error}"),
                    ));
                    None
                }
            },
        };
        let (connect, flavour) = match (connect, flavour) {
            (Ok(connect), Ok(flavour)) if problems.is_empty() => (connect, flavour),
            (connect, flavour) => {
                problems.extend(connect.err().unwrap_or_default());
                problems.extend(flavour.err().unwrap_or_default());
                return Err(problems);
            }
        };
        let fingerprint = fingerprint(&connect, &flavour);
        Ok(Self {
            settings: Arc::new(Settings {
                connect,
                flavour: Arc::new(flavour),
                fingerprint,
                reconcile_every,
            }),
            recorder: None,
            index_warm: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Records every raw message of the sync searches (for `idsync trace`).
    pub fn with_trace(mut self, recorder: impl Recorder + 'static) -> Self {
        self.recorder = Some(Arc::new(Mutex::new(Box::new(recorder))));
        self
    }

    /// The flavour (search parameters and mapping).
    pub fn flavour(&self) -> &Flavour {
        &self.settings.flavour
    }

    /// The connection settings.
    pub fn connect_options(&self) -> &ConnectOptions {
        &self.settings.connect
    }
}

/// `ldap:v1:<flavour>|<url>|<bind identity>|<base>|<scope>|<filter>|<attributes>`: a cookie
/// is valid only for the same server, bind identity, base, scope, filter and attributes.
fn fingerprint(connect: &ConnectOptions, flavour: &Flavour) -> SourceFingerprint {
    let scope = match flavour.sync_scope() {
        ldap3::Scope::Base => "base",
        ldap3::Scope::OneLevel => "one",
        ldap3::Scope::Subtree => "sub",
    };
    SourceFingerprint(format!(
        "ldap:v1:{}|{}|{}|{}|{}|{}|{}",
        flavour.kind().as_str(),
        crate::trace::redact_url(&connect.url),
        connect.bind.identity(),
        flavour.sync_base(),
        scope,
        flavour.sync_filter(),
        flavour.sync_attributes().join(",")
    ))
}

/// Aborts a spawned session when the run is dropped (the runner's stop, or shutdown).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `work` in its own task; a panic in it (ldap3 panics on unexpected data) becomes
/// [`SourceError::Malformed`].
async fn contained<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, SourceError>> + Send + 'static,
) -> Result<T, SourceError> {
    let mut task = AbortOnDrop(tokio::spawn(work));
    match (&mut task.0).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => {
            let payload = error.into_panic();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(SourceError::Malformed(format!(
                "the ldap client library failed on data from the server: {text}"
            )))
        }
        Err(_) => Err(SourceError::Other(
            "the ldap session was cancelled".to_owned(),
        )),
    }
}

#[async_trait]
impl Source for LdapSource {
    fn fingerprint(&self) -> SourceFingerprint {
        self.settings.fingerprint.clone()
    }

    async fn check(&mut self) -> Result<Vec<CheckItem>, SourceError> {
        let settings = self.settings.clone();
        contained(async move { session::check(&settings).await }).await
    }

    async fn run(&mut self, start: SourceStart, events: EventSender) -> Result<(), SourceError> {
        let session = session::Session {
            settings: self.settings.clone(),
            recorder: self.recorder.clone(),
            index_warm: self.index_warm.clone(),
            events,
        };
        contained(session.run(start)).await
    }
}

/// Locks the recorder even if a panic poisoned it (the recorder itself is still usable).
fn lock(recorder: &SharedRecorder) -> std::sync::MutexGuard<'_, Box<dyn Recorder>> {
    recorder.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connection problem as a source error.
fn conn_error(error: ConnError) -> SourceError {
    match error {
        error if error.is_transient() => SourceError::Unavailable {
            message: error.to_string(),
            cause: Some(Box::new(error)),
        },
        ConnError::Tls(_)
        | ConnError::Certificate { .. }
        | ConnError::Password(_)
        | ConnError::Bind { .. } => SourceError::Config(error.to_string()),
        ConnError::Wire(_) => SourceError::Malformed(error.to_string()),
        error => SourceError::Other(error.to_string()),
    }
}

/// A protocol problem as a source error.
fn protocol_error(error: ProtocolError) -> SourceError {
    match error {
        ProtocolError::Failed { code, message } => result_error(code, &message),
        ProtocolError::RefreshLoop { .. } => SourceError::Other(error.to_string()),
        error => SourceError::Malformed(error.to_string()),
    }
}

/// An error result of the sync search (or of a search that serves it).
fn result_error(code: u32, message: &str) -> SourceError {
    let text = format!("the sync search failed with result {code}: {message}");
    match code {
        32 => SourceError::Config(format!("{text} (the search base does not exist)")),
        4 | 11 => SourceError::Unsupported(format!(
            "{text} (a server limit stopped the search; give the sync account unlimited size \
             and look-through limits, e.g. nsSizeLimit/nsLookThroughLimit -1 on 389-ds)"
        )),
        12 => SourceError::Unsupported(format!(
            "{text} (the server refuses the content sync control for this search)"
        )),
        50 => SourceError::Unsupported(format!("{text} (the bind identity may not read the view)")),
        3 | 51 | 52 | 80 => SourceError::Unavailable {
            message: text,
            cause: None,
        },
        _ => SourceError::Other(text),
    }
}

/// Marks the engine's index as complete.
fn set_warm(flag: &AtomicBool) {
    flag.store(true, Ordering::Relaxed);
}

/// Whether the engine's index is complete.
fn is_warm(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}
