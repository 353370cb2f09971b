//! The state of one `apply`: the open transaction, the wiki, the bookkeeping, the report.

use std::collections::{BTreeSet, HashSet};

use idsync_core::{ApplyReport, Entry, EntryId, PlannedChange, Quarantined, SyncPolicy};
use idsync_sql::{
    Bookkeeping, Mapping, MappingIndex, QuarantineRecord, ReadAs, Session, SqlBuilder, SqlError,
    Statement, Value,
};

use crate::config::MediaWikiConfig;
use crate::names::NameRules;
use crate::schema::Detected;
use crate::store::GroupStore;
use crate::values::Timestamp;
use crate::wiki::Wiki;

/// Keys per `IN (…)` list.
pub const LOOKUP_CHUNK: usize = 1_000;
/// `IN (…)` lists up to this length are kept prepared too (per-change batches repeat them),
/// besides full chunks: at most this many + 1 statements per statement head.
pub const SMALL_LIST: usize = 8;

/// True when a statement holding `count` list items (or rows) of at most `full` may be kept
/// prepared: its text repeats, and only a bounded number of such texts exist.
pub fn cacheable(count: usize, full: usize) -> bool {
    count == full || count <= SMALL_LIST
}

/// Builds `head(keys…)` in chunks of [`LOOKUP_CHUNK`] (full and short lists kept prepared).
pub fn in_lists<T>(
    session: &Session<'_>,
    head: &str,
    keys: &[T],
    to_value: impl Fn(&T) -> Value,
) -> Vec<Statement> {
    keys.chunks(LOOKUP_CHUNK)
        .map(|chunk| {
            let mut sql = SqlBuilder::new(session.dialect());
            sql.sql(head).param_list(chunk.iter().map(&to_value));
            if cacheable(chunk.len(), LOOKUP_CHUNK) {
                sql.build_cached()
            } else {
                sql.build()
            }
        })
        .collect()
}

/// The blocker's actor and the block reason's comment row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockerIds {
    /// `actor_id` of the blocker system user.
    pub actor: i64,
    /// `comment_id` of the block reason.
    pub comment: i64,
}

/// What the sink knows about its blocker across batches (kept only when a batch commits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockerCache {
    /// The blocker's actor and the reason's comment, once resolved or created.
    pub ids: Option<BlockerIds>,
    /// The blocker's actor as last looked up (`Some(None)`: the blocker did not exist).
    pub actor: Option<Option<i64>>,
}

/// Everything one `apply` works with.
pub struct Applier<'a, 's> {
    /// The open transaction.
    pub session: &'a mut Session<'s>,
    /// The wiki's tables.
    pub wiki: &'a Wiki,
    /// The configuration.
    pub config: &'a MediaWikiConfig,
    /// The naming rules (with the wiki's interwiki prefixes).
    pub rules: &'a NameRules,
    /// What was detected at `prepare`.
    pub detected: &'a Detected,
    /// The scope's bookkeeping tables.
    pub books: &'a Bookkeeping,
    /// Id mappings (journaled).
    pub index: &'a mut MappingIndex,
    /// Directory groups (journaled).
    pub groups: &'a mut GroupStore,
    /// Quarantined entries (restored by the caller on rollback).
    pub quarantined: &'a mut HashSet<EntryId>,
    /// The blocker, once known (kept by the caller only when the batch commits).
    pub blocker: BlockerCache,
    /// True once the cached blocker was verified in this batch.
    pub blocker_checked: bool,
    /// Accounts that may carry a block (any block when loaded, plus those the sink blocked):
    /// an enabled account outside it has no block of the sink to lift.
    pub maybe_blocked: &'a foldhash::HashSet<i64>,
    /// Changes to `maybe_blocked` made by this batch, in order (`true`: blocked), applied by
    /// the caller when the batch commits.
    pub blocked_changes: Vec<(i64, bool)>,
    /// Adoption and removal policy.
    pub policy: SyncPolicy,
    /// Whether to fill `report.changes`.
    pub record: bool,
    /// What was done.
    pub report: ApplyReport,
    /// The time written into rows of this batch.
    pub now: Timestamp,
    /// Wiki groups whose membership must be recomputed.
    pub dirty_wiki: BTreeSet<String>,
    /// Users that became live in this batch after being quarantined or gone: their groups
    /// must be recomputed even if no member set changed.
    pub newly_live: HashSet<EntryId>,
    /// Change of `site_stats.ss_users`.
    pub users_delta: i64,
    mappings: Vec<Mapping>,
    forget: Vec<EntryId>,
    release: Vec<EntryId>,
    refused: Vec<QuarantineRecord>,
}

impl<'a, 's> Applier<'a, 's> {
    /// A new applier over an open transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        session: &'a mut Session<'s>,
        wiki: &'a Wiki,
        config: &'a MediaWikiConfig,
        rules: &'a NameRules,
        detected: &'a Detected,
        books: &'a Bookkeeping,
        index: &'a mut MappingIndex,
        groups: &'a mut GroupStore,
        quarantined: &'a mut HashSet<EntryId>,
        blocker: BlockerCache,
        maybe_blocked: &'a foldhash::HashSet<i64>,
        policy: SyncPolicy,
        record: bool,
    ) -> Self {
        Self {
            session,
            wiki,
            config,
            rules,
            detected,
            books,
            index,
            groups,
            quarantined,
            blocker,
            blocker_checked: false,
            maybe_blocked,
            blocked_changes: Vec::new(),
            policy,
            record,
            report: ApplyReport::default(),
            now: Timestamp::now(),
            dirty_wiki: BTreeSet::new(),
            newly_live: HashSet::new(),
            users_delta: 0,
            mappings: Vec::new(),
            forget: Vec::new(),
            release: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// Records a planned change when changes are recorded.
    pub fn change(&mut self, change: impl FnOnce() -> PlannedChange) {
        if self.record {
            self.report.changes.push(change());
        }
    }

    /// Refuses an entry: quarantined, reported, not written.
    pub fn refuse(&mut self, entry: &Entry, reason: String) {
        self.report.counts.quarantined += 1;
        self.change(|| PlannedChange::Quarantine {
            id: entry.id,
            name: entry.name.clone(),
            reason: reason.clone(),
        });
        self.report.quarantined.push(Quarantined {
            id: entry.id,
            name: entry.name.clone(),
            reason: reason.clone(),
        });
        self.quarantined.insert(entry.id);
        self.refused.push(QuarantineRecord {
            id: entry.id,
            name: entry.name.clone(),
            reason,
        });
    }

    /// An entry was written: lift its quarantine. True when it was quarantined.
    pub fn accepted(&mut self, id: EntryId) -> bool {
        if self.quarantined.remove(&id) {
            self.release.push(id);
            true
        } else {
            false
        }
    }

    /// Sets a mapping (in memory now, in the database at [`Self::flush`]).
    pub fn set_mapping(&mut self, mapping: Mapping) {
        if self.index.get(&mapping.id) != Some(&mapping) {
            self.index.set(mapping.clone());
            self.mappings.push(mapping);
        }
    }

    /// Forgets a mapping.
    pub fn forget_mapping(&mut self, id: EntryId) {
        if self.index.remove(&id).is_some() {
            self.forget.push(id);
        }
    }

    /// Writes the pending bookkeeping in multi-row statements.
    pub fn flush(&mut self) -> Result<(), SqlError> {
        let mappings = std::mem::take(&mut self.mappings);
        self.books.record_mappings(self.session, &mappings)?;
        let forget = std::mem::take(&mut self.forget);
        self.books.forget_mappings(self.session, &forget)?;
        let release = std::mem::take(&mut self.release);
        self.books.unquarantine(self.session, &release)?;
        let refused = std::mem::take(&mut self.refused);
        self.books.quarantine(self.session, &refused)?;
        let scope = self.books.scope().to_owned();
        self.groups
            .flush(self.session, &scope, self.config.batch_rows)?;
        Ok(())
    }

    /// Runs `SELECT … WHERE … IN (keys)` in chunks (`head` ends with `IN `), calling `each`
    /// with every row read as `shape`.
    pub fn select_in<T: Clone>(
        &mut self,
        head: &str,
        keys: &[T],
        to_value: impl Fn(&T) -> Value,
        shape: &[ReadAs],
        context: &str,
        mut each: impl FnMut(&mut Vec<Value>),
    ) -> Result<(), SqlError> {
        let statements = in_lists(self.session, head, keys, to_value);
        for statement in &statements {
            self.session
                .for_each_row(statement, shape, &mut each)
                .map_err(|source| SqlError::query(context.to_owned(), source))?;
        }
        Ok(())
    }

    /// Runs a statement that changes rows, naming what failed.
    pub fn exec(&mut self, statement: &Statement, context: &str) -> Result<usize, SqlError> {
        self.session
            .execute(statement)
            .map_err(|source| SqlError::query(context.to_owned(), source))
    }

    /// Runs `{head}(keys)` (a `DELETE`/`UPDATE` ending in `IN `) in chunks.
    pub fn exec_in(&mut self, head: &str, keys: &[i64], context: &str) -> Result<usize, SqlError> {
        let statements = in_lists(self.session, head, keys, |key| Value::int(*key));
        let mut affected = 0;
        for statement in &statements {
            affected += self.exec(statement, context)?;
        }
        Ok(affected)
    }

    /// `expr` read back as an integer.
    pub fn int(&self, expr: &str) -> String {
        self.session.dialect().cast_to_bigint(expr)
    }

    /// `expr` read back as text.
    pub fn text(&self, expr: &str) -> String {
        self.session.dialect().cast_to_text(expr)
    }
}
