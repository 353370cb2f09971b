//! One run of the live source: connect, check, (warm up), sync search — restarted without a
//! cookie when the server cannot resume, or periodically with `reconcile_every`.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use idsync_core::{CheckItem, Event, EventSender, SourceError, SourceStart};
use ldap3::controls::RawControl as LdapControl;
use ldap3::{Scope, SearchStream};
use tokio::sync::mpsc::Permit;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::{
    conn_error, is_warm, lock, protocol_error, reread, set_warm, warmup, Settings, SharedRecorder,
};
use crate::conn::{wire, Connection, RootDse};
use crate::protocol::{ds389_cookie_unusable, EntryMapper, ProtocolOptions, Step, SyncProtocol};
use crate::raw::RawMessage;
use crate::sync::{SyncRequestMode, SyncRequestValue, SYNC_REQUEST_OID};
use crate::trace::SearchHeader;

/// A search stream of this crate's searches.
pub(super) type Stream = SearchStream<'static, String, Vec<String>>;

/// The session of one [`Source::run`](idsync_core::Source::run).
pub(super) struct Session {
    pub(super) settings: Arc<Settings>,
    pub(super) recorder: Option<SharedRecorder>,
    pub(super) index_warm: Arc<AtomicBool>,
    pub(super) events: EventSender,
}

/// How one sync search ended.
enum Outcome {
    /// SearchResultDone (the end of a refreshOnly search, or the server ended persist).
    Finished,
    /// The server cannot resume from the cookie: search again without one.
    Restart,
    /// `reconcile_every` elapsed: search again without a cookie.
    Reconcile,
}

/// The message the root DSE check fails with.
pub(super) fn no_content_sync(url: &str, dse: &RootDse) -> String {
    format!(
        "the server at `{url}` ({}) does not list the content synchronization control \
         (1.3.6.1.4.1.4203.1.9.1.1, RFC 4533) in its root DSE `supportedControl`: enable the \
         syncprov overlay (OpenLDAP) or the Content Synchronization and Retro Changelog plugins \
         (389-ds, FreeIPA)",
        dse.describe()
    )
}

impl Session {
    pub(super) async fn run(self, start: SourceStart) -> Result<(), SourceError> {
        let settings = self.settings.clone();
        let mut conn = Connection::open(&settings.connect)
            .await
            .map_err(conn_error)?;
        let dse = conn.root_dse().await.map_err(conn_error)?;
        if !dse.supports_content_sync() {
            return Err(SourceError::Unsupported(no_content_sync(
                &settings.connect.url,
                &dse,
            )));
        }
        let ds389 = settings.flavour.quirks_389() || dse.is_389();
        info!(
            url = %settings.connect.url,
            server = %dse.describe(),
            identity = %settings.connect.bind.identity(),
            resume = start.cookie.is_some(),
            follow = start.follow,
            "connected to the directory"
        );
        let mut cookie = start.cookie;
        if ds389 {
            if let Some(reason) = cookie
                .as_deref()
                .and_then(|c| ds389_cookie_unusable(c, dse.first_change_number))
            {
                warn!(%reason, "not resuming from the stored cookie: full refresh");
                cookie = None;
                self.send(Event::RefreshRequired).await?;
            }
        }
        if start.index_warm {
            // The runner restored the engine's index from a snapshot taken at this cookie.
            set_warm(&self.index_warm);
        }
        if cookie.is_some() {
            if is_warm(&self.index_warm) {
                info!("resuming from the stored cookie; the member index is warm, no warm-up");
            } else {
                warmup::run(&self, &mut conn).await?;
            }
        }
        loop {
            let resumed = cookie.is_some();
            match self
                .sync_search(&mut conn, cookie.take(), start.follow, ds389)
                .await?
            {
                Outcome::Finished if !start.follow => {
                    conn.close().await;
                    return Ok(());
                }
                Outcome::Finished => {
                    return Err(SourceError::Unavailable {
                        message: "the server ended the persistent sync search".to_owned(),
                        cause: None,
                    })
                }
                Outcome::Restart => {
                    debug!(resumed, "searching again without a cookie");
                }
                Outcome::Reconcile => {
                    info!("periodic reconcile: full refresh with sweep");
                    self.send(Event::RefreshStarted).await?;
                }
            }
        }
    }

    /// Sends one event (waiting for room in the channel).
    pub(super) async fn send(&self, event: Event) -> Result<(), SourceError> {
        self.events.send(event).await.map_err(SourceError::from)
    }

    /// Sends `out` (emptied), the first event through `permit` when there is one.
    pub(super) async fn deliver(
        &self,
        permit: Option<Permit<'_, Event>>,
        out: &mut Vec<Event>,
    ) -> Result<(), SourceError> {
        let mut events = out.drain(..);
        if let Some(permit) = permit {
            if let Some(first) = events.next() {
                permit.send(first);
            }
        }
        for event in events {
            self.events.send(event).await.map_err(SourceError::from)?;
        }
        Ok(())
    }

    fn record_begin(&self, header: impl FnOnce() -> SearchHeader) {
        if let Some(recorder) = &self.recorder {
            lock(recorder).begin_search(header());
        }
    }

    pub(super) fn record_reread(
        &self,
        dn: &str,
        entry: Option<&crate::raw::RawEntry>,
    ) -> Result<(), SourceError> {
        if let Some(recorder) = &self.recorder {
            lock(recorder)
                .record_reread(dn, entry)
                .map_err(|error| SourceError::Other(format!("cannot write the trace: {error}")))?;
        }
        Ok(())
    }

    fn record(&self, message: &RawMessage) -> Result<(), SourceError> {
        if let Some(recorder) = &self.recorder {
            lock(recorder)
                .record(message)
                .map_err(|error| SourceError::Other(format!("cannot write the trace: {error}")))?;
        }
        Ok(())
    }

    async fn sync_search(
        &self,
        conn: &mut Connection,
        cookie: Option<Vec<u8>>,
        persist: bool,
        ds389: bool,
    ) -> Result<Outcome, SourceError> {
        let settings = &self.settings;
        let flavour = &settings.flavour;
        let options = ProtocolOptions {
            cookie_sent: cookie.is_some(),
            persist,
            ds389,
        };
        let mapper: Arc<dyn EntryMapper> = flavour.clone();
        let mut protocol = SyncProtocol::new(mapper, options);
        let mode = if persist {
            SyncRequestMode::RefreshAndPersist
        } else {
            SyncRequestMode::RefreshOnly
        };
        let request = SyncRequestValue {
            mode,
            cookie,
            reload_hint: false,
        };
        let control = LdapControl {
            ctype: SYNC_REQUEST_OID.to_owned(),
            crit: true,
            val: Some(request.encode()),
        };
        let attributes = flavour.sync_attributes().to_vec();
        self.record_begin(|| {
            SearchHeader::new(
                &settings.connect.url,
                flavour.sync_base(),
                scope_name(flavour.sync_scope()),
                flavour.sync_filter(),
                attributes.clone(),
                persist,
                options.cookie_sent,
            )
        });
        let mut ldap = conn.ldap.clone();
        ldap.with_controls(control);
        let start = ldap.streaming_search(
            flavour.sync_base(),
            flavour.sync_scope(),
            flavour.sync_filter(),
            attributes,
        );
        let mut stream: Stream = conn
            .driver
            .run_timed(conn.timeout, start)
            .await
            .map_err(conn_error)?
            .map_err(|error| search_start_error(&error))?;
        let message_id = stream.ldap_handle().last_id();
        debug!(
            base = flavour.sync_base(),
            filter = flavour.sync_filter(),
            cookie = options.cookie_sent,
            persist,
            "sync search started"
        );
        let reconcile_every = if persist {
            settings.reconcile_every
        } else {
            None
        };
        let reconcile_at = reconcile_every.map(|every| Instant::now() + every);
        let mut out: Vec<Event> = Vec::with_capacity(4);
        let mut received: u64 = 0;
        loop {
            // Room for the next event first: while the engine is behind, nothing is read.
            let permit = self.events.reserve().await.map_err(SourceError::from)?;
            let reconcile_due = async {
                match reconcile_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let next = tokio::select! {
                biased;
                next = conn.driver.run(stream.next()) => next,
                () = reconcile_due, if protocol.refresh_done() => {
                    drop(permit);
                    abandon(conn, &mut stream, message_id).await;
                    return Ok(Outcome::Reconcile);
                }
            };
            let message = match next.map_err(conn_error)? {
                Ok(Some(item)) => wire::message_from_result_entry(item)
                    .map_err(|error| SourceError::Malformed(error.to_string()))?,
                Ok(None) => RawMessage::Done(wire::done_from_result(stream.finish().await)),
                Err(error) => {
                    return Err(SourceError::Unavailable {
                        message: format!("the sync search broke off: {error}"),
                        cause: Some(Box::new(error)),
                    })
                }
            };
            received += 1;
            self.record(&message)?;
            let is_done = matches!(message, RawMessage::Done(_));
            let mut step = protocol.handle(message, &mut out).map_err(protocol_error)?;
            self.deliver(Some(permit), &mut out).await?;
            if let Step::Reread(targets) = step {
                reread::run(self, conn, &mut protocol, &targets, &mut out).await?;
                step = protocol.reread_done(&mut out).map_err(protocol_error)?;
                self.deliver(None, &mut out).await?;
            }
            match step {
                Step::Continue => {}
                Step::Persisting => {
                    set_warm(&self.index_warm);
                    info!(messages = received, "refresh done; following changes");
                }
                Step::Finished => {
                    if protocol.refresh_done() {
                        set_warm(&self.index_warm);
                    }
                    debug!(messages = received, "sync search ended");
                    return Ok(Outcome::Finished);
                }
                Step::RestartWithoutCookie { reason } => {
                    warn!(%reason, "the server cannot resume from the cookie: full refresh");
                    if !is_done {
                        abandon(conn, &mut stream, message_id).await;
                    }
                    return Ok(Outcome::Restart);
                }
                Step::Reread(_) => {
                    return Err(SourceError::Other(
                        "the protocol asked for a second re-read".to_owned(),
                    ))
                }
            }
        }
    }
}

/// Abandons a search that is still running (best effort: the connection may be gone).
async fn abandon(conn: &mut Connection, stream: &mut Stream, message_id: ldap3::RequestId) {
    let mut ldap = conn.ldap.clone();
    if let Err(error) = conn
        .driver
        .run_timed(conn.timeout, ldap.abandon(message_id))
        .await
    {
        debug!(%error, "abandoning the sync search failed");
    }
    let _ = stream.finish().await;
}

/// `base`, `one` or `sub`.
pub(super) fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Base => "base",
        Scope::OneLevel => "one",
        Scope::Subtree => "sub",
    }
}

/// A search that could not even start (a bad filter, the connection gone).
pub(super) fn search_start_error(error: &ldap3::LdapError) -> SourceError {
    match error {
        ldap3::LdapError::FilterParsing => {
            SourceError::Config(format!("the search filter does not parse: {error}"))
        }
        error => SourceError::Unavailable {
            message: format!("the search could not be sent: {error}"),
            cause: None,
        },
    }
}

/// `idsync check`: connect, bind, root DSE, the view's base.
pub(super) async fn check(settings: &Settings) -> Result<Vec<CheckItem>, SourceError> {
    let mut items = Vec::new();
    let connect = &settings.connect;
    if connect.uses_tls() && !connect.tls.verify {
        items.push(CheckItem::warning(
            "tls certificate verification is off (`tls_verify = false`)",
        ));
    }
    let mut conn = match Connection::open(connect).await {
        Ok(conn) => conn,
        Err(error) => {
            items.push(CheckItem::failed(error.to_string()));
            return Ok(items);
        }
    };
    items.push(CheckItem::ok(format!(
        "connected to `{}` and bound as `{}`",
        connect.url,
        connect.bind.identity()
    )));
    let dse = match conn.root_dse().await {
        Ok(dse) => dse,
        Err(error) => {
            items.push(CheckItem::failed(format!("reading the root dse: {error}")));
            return Ok(items);
        }
    };
    if dse.supports_content_sync() {
        items.push(CheckItem::ok(format!(
            "{} offers content sync (RFC 4533)",
            dse.describe()
        )));
    } else {
        items.push(CheckItem::failed(no_content_sync(&connect.url, &dse)));
    }
    let flavour = &settings.flavour;
    let base = flavour.sync_base().to_owned();
    let search = conn
        .ldap
        .search(&base, Scope::Base, "(objectClass=*)", vec!["1.1"]);
    match conn.driver.run_timed(conn.timeout, search).await {
        Ok(Ok(ldap3::SearchResult(_, result))) if result.rc == 0 => {
            items.push(CheckItem::ok(format!("the sync base `{base}` exists")));
        }
        Ok(Ok(ldap3::SearchResult(_, result))) => items.push(CheckItem::failed(format!(
            "the sync base `{base}` cannot be read: result {} {}",
            result.rc, result.text
        ))),
        Ok(Err(error)) => items.push(CheckItem::failed(format!(
            "the sync base `{base}` cannot be read: {error}"
        ))),
        Err(error) => items.push(CheckItem::failed(format!(
            "the sync base `{base}` cannot be read: {error}"
        ))),
    }
    if flavour.quirks_389() || dse.is_389() {
        items.push(CheckItem::ok(
            "389-ds: incremental refreshes are re-read for operational attributes; cookies \
             outside the retro changelog's range cause a full refresh",
        ));
    }
    conn.close().await;
    Ok(items)
}
