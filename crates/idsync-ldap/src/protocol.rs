//! The RFC 4533 state machine: one sync search's [`RawMessage`]s in, engine [`Event`]s out.
//!
//! [`SyncProtocol`] does no I/O. The live source feeds it what the server sends; the replay
//! source feeds it a recorded trace. Each call to [`SyncProtocol::handle`] appends the events a
//! message means to `out` and returns a [`Step`] telling the caller what to do next.
//!
//! # The rules (RFC 4533 as real servers speak it)
//!
//! * **Identity** is the syncUUID of the sync state control, never an attribute.
//! * **add / modify** → [`Event::Changed`] (mapped by the [`EntryMapper`]; an entry the mapper
//!   puts out of view → [`Event::Deleted`]); **delete** → `Deleted`; **present** → `Present`.
//!   Renames arrive as modify under the new DN (same UUID) and are plain upserts.
//! * **syncIdSet** → `Deleted` (refreshDeletes TRUE) or `Present` (FALSE), in batches.
//! * **Cookies**: during the refresh the newest cookie seen is kept and sent once, just before
//!   [`Event::RefreshDone`]; in persist each cookie follows the change it covers. A refresh
//!   that ends without a cookie keeps the old one (OpenLDAP sends none when nothing changed).
//! * **Sweep** (`RefreshDone { delete_unmentioned }`):
//!   - a refresh without a cookie always sweeps, whatever marker ends it (389-ds ends it with
//!     refreshDelete in refreshAndPersist, OpenLDAP with refreshDeletes=TRUE in both modes);
//!   - with a cookie: a present phase (refreshPresent, syncDone refreshDeletes=FALSE, or any
//!     refreshPresent marker seen before the end) sweeps; a delete phase does not;
//!   - 389-ds with a cookie: always a delete phase (its syncDone omits refreshDeletes although
//!     it ran a delete phase: 389-ds report §4, claim 1).
//! * **The cookie is not honoured** → [`Event::RefreshRequired`] and
//!   [`Step::RestartWithoutCookie`]: result 4096 (e-syncRefreshRequired), result 53 "consumer
//!   state is newer than provider", or an *empty* cookie at the end of a refresh that was sent
//!   one (OpenLDAP's answer to a garbage cookie: a full content in a delete phase, which would
//!   miss deletions).
//! * **389-ds incremental refresh** leaves out operational attributes (`nsAccountLock`…): the
//!   changed entries of a refresh that was sent a cookie are not mapped as sent but collected,
//!   and the refresh end returns [`Step::Reread`] first; the caller re-reads them with a normal
//!   search ([`SyncProtocol::reread_result`]) and then calls [`SyncProtocol::reread_done`].
//! * Referrals are skipped; intermediate responses other than syncInfo are skipped.
//! * Malformed controls or values are a [`ProtocolError`], never a panic.

use std::sync::Arc;

use idsync_core::{Entry, EntryId, Event};
use tracing::{debug, warn};

use crate::flavour::{Flavour, Mapped};
use crate::raw::{RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};
use crate::sync::{
    DecodeError, SyncDoneValue, SyncInfoValue, SyncState, SyncStateValue, SYNC_DONE_OID,
    SYNC_INFO_OID, SYNC_REFRESH_REQUIRED, SYNC_STATE_OID,
};

/// LDAP result code `unwillingToPerform`; OpenLDAP's answer to a cookie from the future.
pub const UNWILLING_TO_PERFORM: u32 = 53;

/// What a raw entry is in the model.
#[derive(Clone, Debug, PartialEq)]
pub enum MapOutcome {
    /// A user or a group of the view.
    Entry(Entry),
    /// Not (or no longer) part of the view: the id is reported deleted.
    OutOfView,
    /// The entry cannot be mapped (a required attribute is missing…): logged, then treated as
    /// out of view, like the sweep of a full refresh would.
    Invalid(String),
}

/// Turns a raw entry into the model (the flavour's job).
pub trait EntryMapper: Send + Sync {
    /// Maps the entry whose syncUUID is `id`.
    fn map_entry(&self, id: EntryId, entry: &RawEntry) -> MapOutcome;
}

impl EntryMapper for Flavour {
    fn map_entry(&self, id: EntryId, entry: &RawEntry) -> MapOutcome {
        match self.map(id, entry) {
            Ok(Mapped::Entry(mapped)) => MapOutcome::Entry(mapped),
            Ok(Mapped::OutOfView) => MapOutcome::OutOfView,
            Err(error) => MapOutcome::Invalid(error.to_string()),
        }
    }
}

/// How the search was started, and the server's quirks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProtocolOptions {
    /// The search carried a cookie (an incremental refresh).
    pub cookie_sent: bool,
    /// refreshAndPersist (true) or refreshOnly (false).
    pub persist: bool,
    /// The server is 389-ds (FreeIPA): a refresh with a cookie is always a delete phase, and
    /// its changed entries are re-read.
    pub ds389: bool,
}

/// What the caller does after a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read the next message.
    Continue,
    /// The refresh ended and the persist stage began (refreshAndPersist): keep reading.
    Persisting,
    /// The search ended normally (SearchResultDone): the refresh of a refreshOnly search, or
    /// the server closed a persist search.
    Finished,
    /// The server cannot resume from the cookie: [`Event::RefreshRequired`] was emitted; abandon
    /// this search and search again without a cookie.
    RestartWithoutCookie {
        /// What the server said.
        reason: String,
    },
    /// Re-read these entries with a normal search (base scope, the sync filter and attributes),
    /// pass each outcome to [`SyncProtocol::reread_result`], then call
    /// [`SyncProtocol::reread_done`] for the rest of the refresh end.
    Reread(Vec<RereadTarget>),
}

/// An entry to re-read before the refresh can end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RereadTarget {
    /// Its syncUUID.
    pub id: EntryId,
    /// Its DN as the sync search sent it.
    pub dn: String,
}

/// Why a message cannot be understood.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// An entry without a sync state control.
    #[error("entry `{dn}` has no sync state control")]
    MissingSyncState {
        /// The entry's DN.
        dn: String,
    },
    /// A control or syncInfo value that does not decode.
    #[error("malformed {what}")]
    Decode {
        /// Which value (and where).
        what: String,
        /// The decoder's complaint.
        #[source]
        source: DecodeError,
    },
    /// A syncInfo intermediate response without a value.
    #[error("syncinfo intermediate response without a value")]
    MissingInfoValue,
    /// The search ended with an error result.
    #[error("the sync search failed with result {code}: {message}")]
    Failed {
        /// The LDAP result code.
        code: u32,
        /// The server's diagnostic message.
        message: String,
    },
    /// The server refused the cookie again on a search that was sent none.
    #[error("the server demands a full refresh ({reason}) of a search that already is one")]
    RefreshLoop {
        /// What the server said.
        reason: String,
    },
    /// A message the state machine cannot take now.
    #[error("{0}")]
    OutOfOrder(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Refresh,
    /// The refresh end arrived; waiting for the re-reads.
    Rereading,
    Persist,
    Done,
}

/// The events and step held back while the caller re-reads entries.
#[derive(Debug)]
struct HeldEnd {
    cookie: Option<Vec<u8>>,
    delete_unmentioned: bool,
    step: Step,
}

/// The state machine of one sync search (see the module docs).
pub struct SyncProtocol {
    mapper: Arc<dyn EntryMapper>,
    options: ProtocolOptions,
    phase: Phase,
    /// The newest cookie seen during the refresh.
    refresh_cookie: Option<Vec<u8>>,
    /// A refreshPresent marker was seen (the refresh had a present phase).
    present_phase: bool,
    /// Changed entries of a 389-ds incremental refresh, to re-read.
    reread: Vec<RereadTarget>,
    held: Option<HeldEnd>,
}

impl std::fmt::Debug for SyncProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncProtocol")
            .field("options", &self.options)
            .field("phase", &self.phase)
            .field("present_phase", &self.present_phase)
            .field("reread", &self.reread.len())
            .finish_non_exhaustive()
    }
}

impl SyncProtocol {
    /// A state machine for a search started as `options` says.
    pub fn new(mapper: Arc<dyn EntryMapper>, options: ProtocolOptions) -> Self {
        Self {
            mapper,
            options,
            phase: Phase::Refresh,
            refresh_cookie: None,
            present_phase: false,
            reread: Vec::new(),
            held: None,
        }
    }

    /// The options the search was started with.
    pub fn options(&self) -> ProtocolOptions {
        self.options
    }

    /// True once the refresh is over (persist stage, or the search ended).
    pub fn refresh_done(&self) -> bool {
        matches!(self.phase, Phase::Persist | Phase::Done)
    }

    /// Handles one message of the search, appending its events to `out`.
    pub fn handle(
        &mut self,
        message: RawMessage,
        out: &mut Vec<Event>,
    ) -> Result<Step, ProtocolError> {
        match self.phase {
            Phase::Rereading => {
                return Err(ProtocolError::OutOfOrder(
                    "a message arrived while changed entries wait to be re-read",
                ))
            }
            Phase::Done => {
                return Err(ProtocolError::OutOfOrder(
                    "a message arrived after the search ended",
                ))
            }
            Phase::Refresh | Phase::Persist => {}
        }
        match message {
            RawMessage::Entry(entry) => self.entry(entry, out),
            RawMessage::Reference(urls) => {
                debug!(
                    ?urls,
                    "search reference skipped (referrals are not followed)"
                );
                Ok(Step::Continue)
            }
            RawMessage::Intermediate(intermediate) => self.intermediate(intermediate, out),
            RawMessage::Done(done) => self.done(done, out),
        }
    }

    /// The outcome of re-reading one [`RereadTarget`]: the entry as a normal search returned
    /// it, or `None` when it is gone or no longer matches.
    pub fn reread_result(
        &mut self,
        target: &RereadTarget,
        entry: Option<&RawEntry>,
        out: &mut Vec<Event>,
    ) {
        match entry {
            Some(entry) => self.emit_mapped(target.id, entry, out),
            None => push_deleted(out, target.id),
        }
    }

    /// Ends the refresh after the re-reads: emits the held cookie and `RefreshDone`, and
    /// returns the step the refresh end meant ([`Step::Persisting`] or [`Step::Finished`]).
    pub fn reread_done(&mut self, out: &mut Vec<Event>) -> Result<Step, ProtocolError> {
        let Some(held) = self.held.take() else {
            return Err(ProtocolError::OutOfOrder("no re-read was pending"));
        };
        self.emit_end(held.cookie, held.delete_unmentioned, out);
        self.phase = if held.step == Step::Persisting {
            Phase::Persist
        } else {
            Phase::Done
        };
        Ok(held.step)
    }

    fn entry(&mut self, entry: RawEntry, out: &mut Vec<Event>) -> Result<Step, ProtocolError> {
        let Some(control) = find_control(&entry.controls, SYNC_STATE_OID) else {
            return Err(ProtocolError::MissingSyncState { dn: entry.dn });
        };
        let state =
            SyncStateValue::decode(control.value.as_deref().unwrap_or(&[])).map_err(|source| {
                ProtocolError::Decode {
                    what: format!("sync state control of `{}`", entry.dn),
                    source,
                }
            })?;
        let id = state.entry_id();
        match state.state {
            SyncState::Present => push_present(out, vec![id]),
            SyncState::Delete => push_deleted(out, id),
            SyncState::Add | SyncState::Modify => {
                if self.phase == Phase::Refresh && self.options.ds389 && self.options.cookie_sent {
                    self.reread.push(RereadTarget { id, dn: entry.dn });
                } else {
                    self.emit_mapped(id, &entry, out);
                }
            }
        }
        if let Some(cookie) = state.cookie {
            self.cookie(cookie, out);
        }
        Ok(Step::Continue)
    }

    fn intermediate(
        &mut self,
        intermediate: RawIntermediate,
        out: &mut Vec<Event>,
    ) -> Result<Step, ProtocolError> {
        if intermediate.name.as_deref() != Some(SYNC_INFO_OID) {
            warn!(
                name = intermediate.name.as_deref().unwrap_or(""),
                "intermediate response that is not a syncinfo message skipped"
            );
            return Ok(Step::Continue);
        }
        let Some(value) = intermediate.value else {
            return Err(ProtocolError::MissingInfoValue);
        };
        let info = SyncInfoValue::decode(&value).map_err(|source| ProtocolError::Decode {
            what: "syncinfo value".to_owned(),
            source,
        })?;
        match info {
            SyncInfoValue::NewCookie(cookie) => {
                self.cookie(cookie, out);
                Ok(Step::Continue)
            }
            SyncInfoValue::SyncIdSet {
                cookie,
                refresh_deletes,
                sync_uuids,
            } => {
                let ids: Vec<EntryId> = sync_uuids.into_iter().map(EntryId::from_bytes).collect();
                if refresh_deletes {
                    out.push(Event::Deleted(ids));
                } else {
                    push_present(out, ids);
                }
                if let Some(cookie) = cookie {
                    self.cookie(cookie, out);
                }
                Ok(Step::Continue)
            }
            SyncInfoValue::RefreshPresent {
                cookie,
                refresh_done,
            } => self.phase_marker(true, cookie, refresh_done, out),
            SyncInfoValue::RefreshDelete {
                cookie,
                refresh_done,
            } => self.phase_marker(false, cookie, refresh_done, out),
        }
    }

    /// A refreshPresent (`present`) or refreshDelete syncInfo message.
    fn phase_marker(
        &mut self,
        present: bool,
        cookie: Option<Vec<u8>>,
        refresh_done: bool,
        out: &mut Vec<Event>,
    ) -> Result<Step, ProtocolError> {
        if self.phase != Phase::Refresh {
            debug!("refresh phase marker in the persist stage ignored");
            if let Some(cookie) = cookie {
                self.cookie(cookie, out);
            }
            return Ok(Step::Continue);
        }
        if present {
            self.present_phase = true;
        }
        if let Some(cookie) = cookie {
            self.refresh_cookie = Some(cookie);
        }
        if refresh_done && self.options.persist {
            // The refresh of a refreshAndPersist search ends here. An empty cookie is kept as
            // the end cookie: it is the sign that the server did not resume from ours.
            let end_cookie = self.refresh_cookie.take();
            let sweep = self.sweeps(!present);
            self.end_refresh(end_cookie, sweep, Step::Persisting, out)
        } else {
            // A phase change inside the refresh (or a refreshOnly search, which ends with
            // SearchResultDone).
            Ok(Step::Continue)
        }
    }

    fn done(&mut self, done: RawDone, out: &mut Vec<Event>) -> Result<Step, ProtocolError> {
        let message = done.message.clone();
        match done.result_code {
            0 => {}
            SYNC_REFRESH_REQUIRED => {
                return self.restart(format!("e-syncRefreshRequired: {message}"), out)
            }
            UNWILLING_TO_PERFORM
                if self.options.cookie_sent && message.to_ascii_lowercase().contains("newer") =>
            {
                return self.restart(format!("unwillingToPerform: {message}"), out)
            }
            code => return Err(ProtocolError::Failed { code, message }),
        }
        let done_value = match find_control(&done.controls, SYNC_DONE_OID) {
            Some(control) => {
                SyncDoneValue::decode_optional(control.value.as_deref()).map_err(|source| {
                    ProtocolError::Decode {
                        what: "sync done control".to_owned(),
                        source,
                    }
                })?
            }
            None => {
                debug!("search result without a sync done control");
                SyncDoneValue::default()
            }
        };
        match self.phase {
            Phase::Refresh => {
                let cookie = done_value.cookie.or_else(|| self.refresh_cookie.take());
                let sweep = self.sweeps(done_value.refresh_deletes);
                self.end_refresh(cookie, sweep, Step::Finished, out)
            }
            Phase::Persist => {
                // The server ended the persist stage; what it covers is covered.
                if let Some(cookie) = done_value.cookie {
                    self.cookie(cookie, out);
                }
                self.phase = Phase::Done;
                Ok(Step::Finished)
            }
            Phase::Rereading | Phase::Done => Err(ProtocolError::OutOfOrder(
                "search result after the search ended",
            )),
        }
    }

    /// Whether the refresh that ends now sweeps what it did not mention. `delete_phase` is what
    /// the end marker claims (refreshDelete, or syncDone refreshDeletes=TRUE).
    fn sweeps(&self, delete_phase: bool) -> bool {
        if !self.options.cookie_sent {
            return true;
        }
        if self.options.ds389 {
            return false;
        }
        self.present_phase || !delete_phase
    }

    fn end_refresh(
        &mut self,
        cookie: Option<Vec<u8>>,
        delete_unmentioned: bool,
        step: Step,
        out: &mut Vec<Event>,
    ) -> Result<Step, ProtocolError> {
        if self.options.cookie_sent && cookie.as_ref().is_some_and(Vec::is_empty) {
            return self.restart(
                "the refresh ended with an empty cookie (the server did not resume from ours)"
                    .to_owned(),
                out,
            );
        }
        if !self.reread.is_empty() {
            self.held = Some(HeldEnd {
                cookie,
                delete_unmentioned,
                step,
            });
            self.phase = Phase::Rereading;
            return Ok(Step::Reread(std::mem::take(&mut self.reread)));
        }
        self.emit_end(cookie, delete_unmentioned, out);
        self.phase = if step == Step::Persisting {
            Phase::Persist
        } else {
            Phase::Done
        };
        Ok(step)
    }

    fn emit_end(
        &mut self,
        cookie: Option<Vec<u8>>,
        delete_unmentioned: bool,
        out: &mut Vec<Event>,
    ) {
        match cookie {
            Some(cookie) if !cookie.is_empty() => out.push(Event::Cookie(cookie)),
            _ => debug!("the refresh ended without a cookie: the previous one stays"),
        }
        out.push(Event::RefreshDone { delete_unmentioned });
    }

    fn restart(&mut self, reason: String, out: &mut Vec<Event>) -> Result<Step, ProtocolError> {
        if !self.options.cookie_sent {
            return Err(ProtocolError::RefreshLoop { reason });
        }
        self.phase = Phase::Done;
        self.reread.clear();
        out.push(Event::RefreshRequired);
        Ok(Step::RestartWithoutCookie { reason })
    }

    /// A cookie from an entry, a newcookie or a syncIdSet.
    fn cookie(&mut self, cookie: Vec<u8>, out: &mut Vec<Event>) {
        if cookie.is_empty() {
            return;
        }
        if self.phase == Phase::Persist {
            out.push(Event::Cookie(cookie));
        } else {
            self.refresh_cookie = Some(cookie);
        }
    }

    fn emit_mapped(&self, id: EntryId, entry: &RawEntry, out: &mut Vec<Event>) {
        match self.mapper.map_entry(id, entry) {
            MapOutcome::Entry(mapped) => out.push(Event::Changed(mapped)),
            MapOutcome::OutOfView => push_deleted(out, id),
            MapOutcome::Invalid(reason) => {
                // Never treat an error as absence: the sink keeps what it has for this entry
                // (present, so a refresh does not sweep it; ignored in persist).
                warn!(dn = %entry.dn, id = %id, %reason, "entry cannot be mapped; the synced copy is kept as it was");
                push_present(out, vec![id]);
            }
        }
    }
}

/// The changenumber at the end of a 389-ds cookie
/// (`host:port#bindDN:base:filter#changenumber`), if it has one.
pub fn ds389_cookie_changenumber(cookie: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(cookie).ok()?;
    let (_, number) = text.rsplit_once('#')?;
    number.trim().parse().ok()
}

/// The changenumber 389-ds writes into persist cookies when its retro changelog does not cover
/// the searched suffix (stock FreeIPA logs only `cn=dns`).
pub const DS389_NO_CHANGENUMBER: u64 = 4_294_967_295;

/// Why a stored 389-ds cookie cannot be resumed from, if it cannot (389-ds report §4.5, §4.6):
/// its changenumber is `4294967295` (the retro changelog does not cover the view: a cookie
/// refresh would report nothing), or it is older than the changelog's first change minus one
/// (the changelog was trimmed: deletions in between would be lost silently). `first_change` is
/// the root DSE's `firstchangenumber`, when the server shows it.
pub fn ds389_cookie_unusable(cookie: &[u8], first_change: Option<u64>) -> Option<String> {
    let Some(number) = ds389_cookie_changenumber(cookie) else {
        return Some("the stored cookie has no changenumber".to_owned());
    };
    if number == DS389_NO_CHANGENUMBER {
        return Some(
            "the stored cookie has no changenumber (4294967295): the server's retro changelog \
             does not cover the synced suffix (widen nsslapd-include-suffix)"
                .to_owned(),
        );
    }
    match first_change {
        Some(first) if number.saturating_add(1) < first => Some(format!(
            "the stored cookie's changenumber {number} is older than the changelog's first \
             change {first}: the changelog was trimmed"
        )),
        _ => None,
    }
}

/// The first control with this OID.
fn find_control<'a>(controls: &'a [RawControl], oid: &str) -> Option<&'a RawControl> {
    controls.iter().find(|control| control.oid == oid)
}

/// Appends present ids, merged into a `Present` event just before (one event per batch).
fn push_present(out: &mut Vec<Event>, ids: Vec<EntryId>) {
    if let Some(Event::Present(last)) = out.last_mut() {
        last.extend(ids);
    } else {
        out.push(Event::Present(ids));
    }
}

/// Appends a deleted id, merged into a `Deleted` event just before.
fn push_deleted(out: &mut Vec<Event>, id: EntryId) {
    if let Some(Event::Deleted(last)) = out.last_mut() {
        last.push(id);
    } else {
        out.push(Event::Deleted(vec![id]));
    }
}

#[cfg(test)]
mod tests;
