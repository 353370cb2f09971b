//! The sync engine: turns source events into atomic sink batches.
//!
//! Invariants (pinned by the tests in `tests.rs`):
//! * a cookie is committed only in the same batch as (or after) every change it covers, and
//!   during a refresh only with the batch that ends it;
//! * an id is upserted under its id, so a new name or DN is a rename, never delete + create;
//! * member sets are computed when the refresh ends (so arrival order does not matter) and
//!   immediately in persist; references wait until their target arrives;
//! * a batch that would remove more entries than the mass-delete guard allows is not applied;
//! * in a dry run nothing is committed and no cookie is stored.

mod index;
mod pending;
mod snapshot;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use foldhash::{HashMap, HashSet, HashSetExt};

use tracing::{debug, info, warn};

use crate::batch::{
    ApplyOptions, ApplyReport, Batch, ChangeCounts, CookieUpdate, GroupMembers, PlannedChange,
    Quarantined, Removal, RemovalAction,
};
use crate::event::Event;
use crate::model::{EntryId, EntryKind};
use crate::policy::{MassDeleteGuard, OnDelete, SyncPolicy};
use crate::sink::{MembershipMode, Sink, SinkError, StoredState};
use crate::source::SourceFingerprint;
use index::MemberIndex;
use pending::Pending;
pub use snapshot::{index_snapshot_file_name, SnapshotError, INDEX_SNAPSHOT_VERSION};

/// Engine settings, from the `[sync]` section and the command line.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Entries (upserts + removals) per transaction during a refresh (default 1000).
    pub batch_size: usize,
    /// Member ids per transaction when member sets are written (default 100 000).
    pub membership_batch: usize,
    /// Disable/delete and match policies.
    pub policy: SyncPolicy,
    /// The mass-delete guard.
    pub guard: MassDeleteGuard,
    /// Plan everything, write nothing.
    pub dry_run: bool,
    /// Ask the sink for one line per change (always on in a dry run).
    pub record_changes: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            membership_batch: 100_000,
            policy: SyncPolicy::default(),
            guard: MassDeleteGuard::default(),
            dry_run: false,
            record_changes: false,
        }
    }
}

/// Where the protocol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Initial content (full or incremental) is arriving.
    Refresh,
    /// The refresh is done; changes arrive as they happen.
    Persist,
}

/// Engine failures.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The sink failed; see [`SinkError::kind`] for whether a retry may help.
    #[error("sink: {0}")]
    Sink(#[from] SinkError),
    /// The mass-delete guard stopped a batch.
    #[error(
        "refusing to remove {removals} of {synced} synced entries in one batch (the limit is \
         {limit}: 10% of synced entries or 500, whichever is larger); if the directory really \
         lost them, run again with --allow-mass-delete"
    )]
    MassDelete {
        /// Entries the batch would disable or delete.
        removals: usize,
        /// Entries the sink holds.
        synced: usize,
        /// The guard's limit.
        limit: usize,
    },
    /// A batch failed earlier and must be retried (or abandoned) first.
    #[error("a failed batch is waiting to be retried")]
    RetryPending,
}

impl EngineError {
    /// True when retrying the failed batch later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            EngineError::Sink(error) => error.kind.is_retryable(),
            EngineError::MassDelete { .. } | EngineError::RetryPending => false,
        }
    }
}

/// Running totals.
#[derive(Clone, Debug, Default)]
pub struct EngineStats {
    /// What the sink did.
    pub counts: ChangeCounts,
    /// Batches committed (or planned, in a dry run).
    pub batches: u64,
    /// Events received.
    pub events: u64,
    /// Entries refused by the sink.
    pub quarantined: Vec<Quarantined>,
    /// Planned changes (dry run, or when `record_changes`).
    pub changes: Vec<PlannedChange>,
}

/// The sync engine. It does no I/O of its own: the caller feeds events in order and calls
/// [`Engine::on_idle`] when the source is quiet; the engine calls the sink.
pub struct Engine {
    sink: Box<dyn Sink>,
    config: EngineConfig,
    fingerprint: String,
    membership: MembershipMode,
    phase: Phase,
    index: MemberIndex,
    /// Live entries the sink holds (as of the last committed batch).
    synced: HashMap<EntryId, EntryKind>,
    /// Ids changed or present since the refresh began.
    mentioned: HashSet<EntryId>,
    /// Entries changed in this refresh that the sink did not hold: groups that already
    /// resolved them (through the index warm-up) must be recomputed at the refresh end.
    fresh: HashSet<EntryId>,
    /// This refresh was preceded by an index warm-up (`Known` events).
    warmed_up: bool,
    /// This refresh changed a user the sink held. With `warmed_up`, a rename made before the
    /// warm-up is invisible to the index (see `MemberIndex::mark_name_only_groups_waiting`).
    synced_user_changed: bool,
    pending: Pending,
    /// The newest cookie seen and not committed yet.
    pending_cookie: Option<Vec<u8>>,
    /// Batches built when the refresh ended, waiting to be applied in order.
    queued: VecDeque<Batch>,
    /// Removals committed since the current refresh began (for the mass-delete guard).
    refresh_removals: usize,
    /// A batch whose apply failed, kept for a retry.
    failed: Option<Batch>,
    committed_cookie: Option<Vec<u8>>,
    stats: EngineStats,
}

impl Engine {
    /// Prepares the sink and reads its stored state. Returns the engine and the cookie to
    /// resume from: the stored one when its fingerprint matches `fingerprint`, else none
    /// (a full refresh with a sweep follows).
    pub fn open(
        mut sink: Box<dyn Sink>,
        config: EngineConfig,
        fingerprint: &SourceFingerprint,
    ) -> Result<(Self, Option<Vec<u8>>), EngineError> {
        let state = Self::prepare(sink.as_mut(), &config)?;
        Ok(Self::with_state(sink, config, fingerprint, state))
    }

    /// Prepares a sink and reads its stored state (the fallible half of [`Engine::open`],
    /// for callers that retry while the database is unreachable).
    pub fn prepare(sink: &mut dyn Sink, config: &EngineConfig) -> Result<StoredState, EngineError> {
        sink.prepare(&config.policy)?;
        Ok(sink.load_state()?)
    }

    /// Builds an engine over a prepared sink (the infallible half of [`Engine::open`]).
    pub fn with_state(
        sink: Box<dyn Sink>,
        config: EngineConfig,
        fingerprint: &SourceFingerprint,
        state: StoredState,
    ) -> (Self, Option<Vec<u8>>) {
        let membership = sink.capabilities().membership;
        let resume = match state.cookie {
            Some((cookie, stored)) if stored == fingerprint.0 => Some(cookie),
            Some((_, stored)) => {
                info!(
                    stored = %stored,
                    current = %fingerprint,
                    "the stored cookie belongs to another source view; starting a full refresh"
                );
                None
            }
            None => None,
        };
        let engine = Self {
            sink,
            config,
            fingerprint: fingerprint.0.clone(),
            membership,
            phase: Phase::Refresh,
            index: MemberIndex::default(),
            synced: state.synced.into_iter().collect(),
            mentioned: HashSet::new(),
            fresh: HashSet::new(),
            warmed_up: false,
            synced_user_changed: false,
            pending: Pending::default(),
            pending_cookie: None,
            queued: VecDeque::new(),
            refresh_removals: 0,
            failed: None,
            committed_cookie: resume.clone(),
            stats: EngineStats::default(),
        };
        (engine, resume)
    }

    /// The current protocol phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Running totals.
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// The cookie of the last committed batch (what a restarted source resumes from).
    pub fn committed_cookie(&self) -> Option<&[u8]> {
        self.committed_cookie.as_deref()
    }

    /// Number of live entries the sink holds.
    pub fn synced_len(&self) -> usize {
        self.synced.len()
    }

    /// Feeds one event. May apply a batch (a full one during a refresh, everything at the end
    /// of a refresh).
    pub fn push(&mut self, event: Event) -> Result<(), EngineError> {
        if self.failed.is_some() {
            return Err(EngineError::RetryPending);
        }
        self.stats.events += 1;
        let event_is_required = matches!(event, Event::RefreshRequired);
        match event {
            Event::Changed(mut entry) => {
                let id = entry.id;
                if self.phase == Phase::Refresh {
                    self.mentioned.insert(id);
                }
                self.index.upsert(&entry, true);
                if self.phase == Phase::Refresh && entry.kind == EntryKind::User {
                    self.synced_user_changed |= self.synced.contains_key(&id);
                }
                if !self.synced.contains_key(&id) {
                    self.fresh.insert(id);
                    if self.phase == Phase::Persist {
                        self.index.mark_groups_holding(&self.fresh);
                        self.fresh.clear();
                    }
                }
                entry.members = Vec::new();
                self.pending.upsert(entry);
            }
            Event::Known(entry) => {
                self.warmed_up = true;
                self.index.upsert(&entry, false);
            }
            Event::Present(ids) => {
                if self.phase == Phase::Refresh {
                    self.mentioned.extend(ids);
                } else {
                    debug!(count = ids.len(), "present ids outside a refresh ignored");
                }
            }
            Event::Deleted(ids) => {
                let kinds = self.index.remove_many(&ids);
                for (id, kind) in ids.into_iter().zip(kinds) {
                    self.mentioned.remove(&id);
                    let kind = kind.or_else(|| self.synced.get(&id).copied());
                    self.pending.remove(Removal {
                        id,
                        kind,
                        action: self.removal_action(),
                    });
                }
            }
            Event::Cookie(cookie) => {
                self.pending_cookie = Some(cookie);
            }
            Event::RefreshDone { delete_unmentioned } => {
                return self.finish_refresh(delete_unmentioned);
            }
            Event::RefreshStarted | Event::RefreshRequired => {
                if event_is_required {
                    info!("the source must start over without a cookie: full refresh");
                }
                self.phase = Phase::Refresh;
                self.warmed_up = false;
                self.synced_user_changed = false;
                self.mentioned.clear();
                self.pending_cookie = None;
                self.refresh_removals = 0;
            }
        }
        if self.pending.len() >= self.config.batch_size {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Tells the engine the source is quiet. In persist everything pending is committed (this
    /// is how bursts coalesce into one transaction); during a refresh the entries gathered so
    /// far are committed without a cookie.
    pub fn on_idle(&mut self) -> Result<(), EngineError> {
        if self.failed.is_some() {
            return Err(EngineError::RetryPending);
        }
        self.flush_pending()
    }

    /// Commits whatever can be committed: used at the end of `--once` and at shutdown. A
    /// cookie seen during an unfinished refresh is not committed.
    pub fn finish(&mut self) -> Result<(), EngineError> {
        if self.failed.is_some() {
            self.retry()?;
        }
        self.flush_pending()?;
        if self.config.dry_run {
            self.apply_dry_run()?;
        }
        Ok(())
    }

    /// Re-applies the batch that failed, then anything queued behind it.
    pub fn retry(&mut self) -> Result<(), EngineError> {
        if let Some(batch) = self.failed.take() {
            self.apply(batch)?;
        }
        self.drain_queue()
    }

    /// True when a failed batch waits for [`Engine::retry`].
    pub fn has_failed_batch(&self) -> bool {
        self.failed.is_some()
    }

    /// Closes the sink.
    pub fn close(mut self) -> Result<EngineStats, EngineError> {
        self.sink.close()?;
        Ok(self.stats)
    }

    fn removal_action(&self) -> RemovalAction {
        match self.config.policy.on_delete {
            OnDelete::Disable => RemovalAction::Disable,
            OnDelete::Delete => RemovalAction::Delete,
        }
    }

    /// Ends a refresh: sweeps what was not mentioned, computes member sets, and commits all of
    /// it with the cookie in the last batch.
    fn finish_refresh(&mut self, delete_unmentioned: bool) -> Result<(), EngineError> {
        if self.phase == Phase::Persist {
            debug!("refresh end outside a refresh ignored");
            self.phase = Phase::Persist;
            return Ok(());
        }
        self.index.mark_groups_holding(&self.fresh);
        self.fresh.clear();
        if self.warmed_up && self.synced_user_changed {
            self.index.mark_name_only_groups_waiting();
        }
        self.warmed_up = false;
        self.synced_user_changed = false;
        if delete_unmentioned {
            let gone_from_index: Vec<EntryId> = self
                .index
                .ids()
                .filter(|id| !self.mentioned.contains(id))
                .copied()
                .collect();
            self.index.remove_many(&gone_from_index);
            let mut sweep: Vec<(EntryId, EntryKind)> = self
                .synced
                .iter()
                .filter(|(id, _)| !self.mentioned.contains(id) && !self.pending.is_upserted(id))
                .map(|(id, kind)| (*id, *kind))
                .collect();
            sweep.sort_unstable();
            let total = sweep.len() + self.pending.removal_count() + self.refresh_removals;
            if self.config.guard.trips(total, self.synced.len()) {
                return Err(EngineError::MassDelete {
                    removals: total,
                    synced: self.synced.len(),
                    limit: self.config.guard.limit(self.synced.len()),
                });
            }
            if !sweep.is_empty() {
                info!(
                    count = sweep.len(),
                    "entries not mentioned by the refresh are gone"
                );
            }
            let action = self.removal_action();
            for (id, kind) in sweep {
                self.pending.remove(Removal {
                    id,
                    kind: Some(kind),
                    action,
                });
            }
        }
        self.mentioned.clear();
        self.phase = Phase::Persist;
        self.refresh_removals = 0;
        let unresolved = self.index.unresolved_count();
        if unresolved > 0 {
            info!(
                count = unresolved,
                "member references point at entries outside the view; they are left out"
            );
        }
        self.flush_pending()
    }

    /// Builds the batches for everything pending and applies them in order.
    fn flush_pending(&mut self) -> Result<(), EngineError> {
        if self.config.dry_run {
            // A dry run plans everything in one batch at the end (see `apply_dry_run`).
            return Ok(());
        }
        let in_refresh = self.phase == Phase::Refresh;
        let mut batches = self.build_batches(in_refresh);
        let cookie = if in_refresh {
            None
        } else {
            self.pending_cookie.take()
        };
        if let Some(cookie) = cookie {
            let update = CookieUpdate {
                cookie,
                fingerprint: self.fingerprint.clone(),
            };
            match batches.last_mut() {
                Some(last) => last.cookie = Some(update),
                None => batches.push(Batch {
                    cookie: Some(update),
                    ..Batch::default()
                }),
            }
        }
        self.queued.extend(batches);
        self.drain_queue()
    }

    /// Turns pending entries and removals (and, outside a refresh, dirty member sets) into
    /// batches of bounded size.
    fn build_batches(&mut self, in_refresh: bool) -> Vec<Batch> {
        let mut batches = Vec::new();
        let (upserts, removals) = self.pending.take();
        let mut current = Batch::default();
        for entry in upserts {
            current.upserts.push(entry);
            if current.upserts.len() + current.removals.len() >= self.config.batch_size {
                batches.push(std::mem::take(&mut current));
            }
        }
        for removal in removals {
            current.removals.push(removal);
            if current.upserts.len() + current.removals.len() >= self.config.batch_size {
                batches.push(std::mem::take(&mut current));
            }
        }
        if !in_refresh && self.index.dirty_len() > 0 {
            let expand = self.membership == MembershipMode::Effective;
            let mut weight = 0usize;
            for group in self.index.take_dirty(expand) {
                let members = match self.membership {
                    MembershipMode::Effective => self.index.effective_members(&group),
                    MembershipMode::Direct => self.index.direct_members(&group),
                };
                weight += members.len() + 1;
                current.memberships.push(GroupMembers { group, members });
                if weight >= self.config.membership_batch {
                    batches.push(std::mem::take(&mut current));
                    weight = 0;
                }
            }
        }
        if !current.is_empty() {
            batches.push(current);
        }
        batches
    }

    fn drain_queue(&mut self) -> Result<(), EngineError> {
        while let Some(batch) = self.queued.pop_front() {
            self.apply(batch)?;
        }
        Ok(())
    }

    fn apply(&mut self, batch: Batch) -> Result<(), EngineError> {
        if batch.is_empty() {
            return Ok(());
        }
        let removals = batch.removals.len()
            + if self.phase == Phase::Refresh {
                self.refresh_removals
            } else {
                0
            };
        if !batch.removals.is_empty() && self.config.guard.trips(removals, self.synced.len()) {
            self.queued.push_front(batch);
            return Err(EngineError::MassDelete {
                removals,
                synced: self.synced.len(),
                limit: self.config.guard.limit(self.synced.len()),
            });
        }
        let options = ApplyOptions {
            dry_run: false,
            record_changes: self.config.record_changes,
        };
        match self.sink.apply(&batch, &options) {
            Ok(report) => {
                self.after_commit(&batch, report);
                Ok(())
            }
            Err(error) => {
                warn!(
                    error = %error,
                    upserts = batch.upserts.len(),
                    removals = batch.removals.len(),
                    groups = batch.memberships.len(),
                    "the sink failed to apply a batch; nothing of it was committed"
                );
                self.failed = Some(batch);
                Err(EngineError::Sink(error))
            }
        }
    }

    fn after_commit(&mut self, batch: &Batch, report: ApplyReport) {
        for entry in &batch.upserts {
            self.synced.insert(entry.id, entry.kind);
        }
        for removal in &batch.removals {
            self.synced.remove(&removal.id);
        }
        if self.phase == Phase::Refresh {
            self.refresh_removals += batch.removals.len();
        }
        for refused in &report.quarantined {
            warn!(id = %refused.id, name = %refused.name, reason = %refused.reason, "entry quarantined by the sink");
        }
        if let Some(update) = &batch.cookie {
            self.committed_cookie = Some(update.cookie.clone());
        }
        self.stats.batches += 1;
        self.stats.counts.add(&report.counts);
        self.stats.quarantined.extend(report.quarantined);
        self.stats.changes.extend(report.changes);
        debug!(
            upserts = batch.upserts.len(),
            removals = batch.removals.len(),
            groups = batch.memberships.len(),
            cookie = batch.cookie.is_some(),
            "batch committed"
        );
    }

    /// Plans everything gathered during a dry run in one rolled-back batch.
    fn apply_dry_run(&mut self) -> Result<(), EngineError> {
        let mut batches = self.build_batches(self.phase == Phase::Refresh);
        let mut batch = Batch::default();
        for part in batches.drain(..) {
            batch.upserts.extend(part.upserts);
            batch.removals.extend(part.removals);
            batch.memberships.extend(part.memberships);
        }
        let options = ApplyOptions {
            dry_run: true,
            record_changes: true,
        };
        let report = self.sink.apply(&batch, &options)?;
        self.stats.batches += 1;
        self.stats.counts.add(&report.counts);
        self.stats.quarantined.extend(report.quarantined);
        self.stats.changes.extend(report.changes);
        Ok(())
    }

    /// The name the engine knows for an id (for printing plans).
    pub fn name_of(&self, id: &EntryId) -> Option<&str> {
        self.index.name(id)
    }

    /// Every id the engine knows, with its name (for printing plans).
    pub fn names(&self) -> std::collections::HashMap<EntryId, String> {
        self.index
            .names()
            .map(|(id, name)| (*id, name.to_owned()))
            .collect()
    }
}
