//! [`MediaWikiSink`]: the sink, the transaction around each batch, `check`.

use std::collections::HashSet;

use idsync_core::{
    ApplyOptions, ApplyReport, Batch, CheckItem, Entry, EntryId, EntryKind, MembershipMode, Sink,
    SinkCapabilities, SinkError, StoredState, SyncPolicy,
};
use idsync_sql::bookkeeping::ENTRIES_TABLE;
use idsync_sql::{
    run_migrations, Abort, Backend, Bookkeeping, ConnectOptions, Database, DatabaseUrl,
    MappingIndex, ReadAs, SqlBuilder, SqlError, TableName, Value,
};
use tracing::debug;

use crate::blocks::load_blocked;
use crate::config::MediaWikiConfig;
use crate::context::{Applier, BlockerCache};
use crate::error::MediaWikiError;
use crate::groups::{mark_groups_of_newly_live, set_members, sync_wiki_groups, upsert_groups};
use crate::names::NameRules;
use crate::removal::remove;
use crate::schema::{detect, Detected};
use crate::store::{create_table, GroupRecord, GroupStore};
use crate::users::upsert_users;
use crate::wiki::Wiki;

/// What exists once the sink is prepared.
struct Prepared {
    db: Database,
    wiki: Wiki,
    rules: NameRules,
    detected: Detected,
    books: Bookkeeping,
    index: MappingIndex,
    groups: GroupStore,
    quarantined: HashSet<EntryId>,
    /// The blocker, cached for the sink's lifetime.
    blocker: BlockerCache,
    /// Accounts that may carry a block of the sink (see `Applier::maybe_blocked`).
    maybe_blocked: foldhash::HashSet<i64>,
    /// True once stored group targets were checked against the configured mapping.
    reconciled: bool,
}

/// What a committed batch hands back: its report, the blocker as known at its end, and its
/// changes to the `maybe_blocked` set.
type Committed = (ApplyReport, BlockerCache, Vec<(i64, bool)>);

/// The MediaWiki sink (`plugin = "mediawiki"`).
pub struct MediaWikiSink {
    config: MediaWikiConfig,
    policy: SyncPolicy,
    prepared: Option<Prepared>,
    closed: bool,
}

impl std::fmt::Debug for MediaWikiSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaWikiSink")
            .field("scope", &self.config.scope)
            .field("prepared", &self.prepared.is_some())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl MediaWikiSink {
    /// A sink for this configuration (validated here; nothing is opened until `prepare`).
    pub fn new(config: MediaWikiConfig) -> Result<Self, MediaWikiError> {
        config.validate()?;
        Ok(Self {
            config,
            policy: SyncPolicy::default(),
            prepared: None,
            closed: false,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MediaWikiConfig {
        &self.config
    }

    fn url(&self) -> Result<DatabaseUrl, SqlError> {
        DatabaseUrl::parse_with_password(
            &self.config.url,
            self.config.password_file.as_deref(),
            self.config.password_env.as_deref(),
        )
    }

    /// Connects; on PostgreSQL the session's `search_path` starts with the wiki's schema, as
    /// MediaWiki's own connections do, so the bookkeeping tables live next to the wiki's.
    fn connect(&self) -> Result<Database, SqlError> {
        let mut db = Database::connect(&self.url()?, &ConnectOptions::default())?;
        if matches!(db.dialect().backend(), Backend::Postgres) {
            let schema = db.dialect().quote_ident(&self.config.schema);
            db.session()
                .batch_execute(&format!("SET search_path TO {schema}, public"))
                .map_err(|source| SqlError::query("cannot set the search_path", source))?;
        }
        Ok(db)
    }

    fn prepared(&mut self) -> Result<&mut Prepared, MediaWikiError> {
        if self.closed {
            return Err(MediaWikiError::State("open: it was closed"));
        }
        self.prepared
            .as_mut()
            .ok_or(MediaWikiError::State("prepared yet"))
    }

    fn do_prepare(&mut self) -> Result<(), MediaWikiError> {
        if self.closed {
            return Err(MediaWikiError::State("open: it was closed"));
        }
        if let Some(path) = DatabaseUrl::parse(&self.config.url)?.sqlite_path() {
            if !path.exists() {
                return Err(crate::schema::Unsupported(format!(
                    "the wiki database `{}` does not exist",
                    path.display()
                ))
                .into());
            }
        }
        let mut db = self.connect()?;
        let wiki = Wiki::new(db.dialect(), &self.config.prefix, &self.config.schema);
        let detected = detect(&mut db.session(), &wiki)??;
        run_migrations(&mut db)?;
        create_table(&mut db.session())?;
        let mut rules = self.config.name_rules();
        rules.interwiki = detected.interwiki.clone();
        let books = Bookkeeping::new(&self.config.scope, self.config.batch_rows)?;
        let mappings = books.load_mappings(&mut db.session())?;
        let quarantined = books
            .load_quarantine(&mut db.session())?
            .into_iter()
            .map(|record| record.id)
            .collect();
        let groups = GroupStore::load(&mut db.session(), &self.config.scope)?;
        let maybe_blocked = load_blocked(&mut db.session(), &wiki)?;
        debug!(mappings = mappings.len(), schema = %detected.description, url = %db.url(), "mediawiki sink prepared");
        self.prepared = Some(Prepared {
            db,
            wiki,
            rules,
            detected,
            books,
            index: MappingIndex::from_mappings(mappings),
            groups,
            quarantined,
            blocker: BlockerCache::default(),
            maybe_blocked,
            reconciled: false,
        });
        Ok(())
    }

    fn do_load_state(&mut self) -> Result<StoredState, MediaWikiError> {
        let prepared = self.prepared()?;
        let mut session = prepared.db.session();
        let cookie = prepared.books.load_cookie(&mut session)?;
        let synced = prepared.index.live_ids();
        Ok(StoredState { cookie, synced })
    }

    fn do_apply(
        &mut self,
        batch: &Batch,
        options: &ApplyOptions,
    ) -> Result<ApplyReport, MediaWikiError> {
        let policy = self.policy;
        let config = &self.config;
        let record = options.record_changes || options.dry_run;
        if self.closed {
            return Err(MediaWikiError::State("open: it was closed"));
        }
        let prepared = self
            .prepared
            .as_mut()
            .ok_or(MediaWikiError::State("prepared yet"))?;
        let Prepared {
            db,
            wiki,
            rules,
            detected,
            books,
            index,
            groups,
            quarantined,
            blocker,
            maybe_blocked,
            reconciled,
        } = prepared;
        let saved_quarantine = quarantined.clone();
        let cached_blocker = *blocker;
        let outcome = db.transaction(|session| -> Result<Committed, Abort> {
            let mut ap = Applier::new(
                session,
                wiki,
                config,
                rules,
                detected,
                books,
                index,
                groups,
                quarantined,
                cached_blocker,
                maybe_blocked,
                policy,
                record,
            );
            if !*reconciled {
                reconcile_targets(&mut ap);
            }
            apply_batch(&mut ap, batch)?;
            let report = std::mem::take(&mut ap.report);
            if options.dry_run {
                return Err(Abort::DryRun(Box::new(report)));
            }
            Ok((report, ap.blocker, std::mem::take(&mut ap.blocked_changes)))
        });
        match outcome {
            Ok((report, cache, blocked_changes)) => {
                index.commit();
                groups.commit();
                *blocker = cache;
                for (user, blocked) in blocked_changes {
                    if blocked {
                        maybe_blocked.insert(user);
                    } else {
                        maybe_blocked.remove(&user);
                    }
                }
                *reconciled = true;
                Ok(report)
            }
            Err(Abort::DryRun(report)) => {
                index.rollback();
                groups.rollback();
                *quarantined = saved_quarantine;
                Ok(*report)
            }
            Err(Abort::Failed(error)) => {
                index.rollback();
                groups.rollback();
                *quarantined = saved_quarantine;
                Err(error.into())
            }
        }
    }

    fn do_check(&mut self) -> Result<Vec<CheckItem>, MediaWikiError> {
        let mut items = Vec::new();
        let url = self.url()?;
        if let Some(path) = url.sqlite_path() {
            if !path.exists() {
                items.push(CheckItem::failed(format!(
                    "the wiki database `{}` does not exist",
                    path.display()
                )));
                return Ok(items);
            }
        }
        let mut db = match self.connect() {
            Ok(db) => {
                items.push(CheckItem::ok(format!("connected to `{}`", db.url())));
                db
            }
            Err(error) => {
                items.push(CheckItem::failed(SinkError::from(error).message));
                return Ok(items);
            }
        };
        let wiki = Wiki::new(db.dialect(), &self.config.prefix, &self.config.schema);
        match detect(&mut db.session(), &wiki)? {
            Ok(detected) => items.push(CheckItem::ok(format!(
                "{} found (tables `{}`…)",
                detected.description,
                wiki.display("user")
            ))),
            Err(unsupported) => {
                items.push(CheckItem::failed(unsupported.to_string()));
                return Ok(items);
            }
        }
        let mut sql = SqlBuilder::new(db.dialect());
        sql.sql("SELECT COUNT(*) FROM ")
            .sql(&wiki.table("user"))
            .sql(" WHERE user_name = ")
            .param(Value::text(self.config.blocker.clone()));
        let count = db
            .session()
            .load(&sql.build(), &[ReadAs::Int])
            .map_err(|source| SqlError::query("cannot look up the blocker", source))?
            .into_iter()
            .next()
            .and_then(|row| row.first().and_then(Value::as_int))
            .unwrap_or(0);
        items.push(if count > 0 {
            CheckItem::ok(format!("blocker `{}` exists", self.config.blocker))
        } else {
            CheckItem::warning(format!(
                "blocker `{}` does not exist yet: it is created as a system user at the first block",
                self.config.blocker
            ))
        });
        match self.config.managed_list() {
            Some(managed) if managed.is_empty() => items.push(CheckItem::warning(
                "no wiki group is managed (`groups` and `managed_groups` are empty): group memberships are not synced",
            )),
            Some(managed) => items.push(CheckItem::ok(format!(
                "managed wiki groups: {}",
                managed.into_iter().collect::<Vec<_>>().join(", ")
            ))),
            None => items.push(CheckItem::ok(
                "managed wiki groups: every group the mapping produces (map_other_groups)",
            )),
        }
        let entries = TableName::parse("bookkeeping", ENTRIES_TABLE)?;
        match idsync_sql::table_columns(&mut db.session(), &entries)? {
            Some(_) => items.push(CheckItem::ok(format!(
                "bookkeeping tables present (scope `{}`)",
                self.config.scope
            ))),
            None => items.push(CheckItem::warning(
                "bookkeeping tables `idsync_*` are missing: they are created at the first run",
            )),
        }
        Ok(items)
    }
}

/// Directory groups whose configured wiki group changed since they were stored.
fn reconcile_targets(ap: &mut Applier<'_, '_>) {
    let changed: Vec<(EntryId, GroupRecord)> = ap
        .groups
        .iter()
        .filter_map(|(id, record)| {
            let wiki = ap.config.wiki_group(&record.name);
            (wiki != record.wiki).then(|| {
                (
                    *id,
                    GroupRecord {
                        wiki,
                        ..record.clone()
                    },
                )
            })
        })
        .collect();
    for (id, record) in changed {
        if let Some(old) = ap.groups.get(&id).and_then(|r| r.wiki.clone()) {
            ap.dirty_wiki.insert(old);
        }
        if let Some(new) = &record.wiki {
            ap.dirty_wiki.insert(new.clone());
        }
        ap.groups.set(id, record);
    }
}

/// Applies one batch inside the open transaction.
fn apply_batch(ap: &mut Applier<'_, '_>, batch: &Batch) -> Result<(), SqlError> {
    let users = last_of_each(batch.upserts.iter().filter(|e| e.kind == EntryKind::User));
    upsert_users(ap, &users)?;
    let groups = last_of_each(batch.upserts.iter().filter(|e| e.kind == EntryKind::Group));
    upsert_groups(ap, &groups);
    remove(ap, &batch.removals)?;
    set_members(ap, &batch.memberships);
    mark_groups_of_newly_live(ap);
    sync_wiki_groups(ap)?;
    update_site_stats(ap)?;
    ap.flush()?;
    if let Some(update) = &batch.cookie {
        ap.books
            .store_cookie(ap.session, &update.cookie, &update.fingerprint)?;
    }
    Ok(())
}

/// `site_stats.ss_users` follows created and deleted accounts.
fn update_site_stats(ap: &mut Applier<'_, '_>) -> Result<(), SqlError> {
    if ap.users_delta == 0 {
        return Ok(());
    }
    let current = ap.int("ss_users");
    let mut sql = SqlBuilder::new(ap.wiki.dialect());
    sql.sql("UPDATE ")
        .sql(&ap.wiki.table("site_stats"))
        .sql(" SET ss_users = CASE WHEN ")
        .sql(&current)
        .sql(" + ")
        .param(Value::int(ap.users_delta))
        .sql(" < 0 THEN 0 ELSE ")
        .sql(&current)
        .sql(" + ")
        .param(Value::int(ap.users_delta))
        .sql(" END WHERE ss_row_id = 1");
    ap.exec(&sql.build_cached(), "cannot update site_stats")?;
    Ok(())
}

/// The entries of a batch, the last one winning when an id repeats.
fn last_of_each<'e>(entries: impl Iterator<Item = &'e Entry>) -> Vec<&'e Entry> {
    let mut seen = HashSet::new();
    let mut all: Vec<&Entry> = entries.collect();
    all.reverse();
    all.retain(|entry| seen.insert(entry.id));
    all.reverse();
    all
}

impl Sink for MediaWikiSink {
    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            membership: MembershipMode::Effective,
        }
    }

    fn prepare(&mut self, policy: &SyncPolicy) -> Result<(), SinkError> {
        self.policy = *policy;
        self.do_prepare().map_err(SinkError::from)
    }

    fn load_state(&mut self) -> Result<StoredState, SinkError> {
        self.do_load_state().map_err(SinkError::from)
    }

    fn apply(&mut self, batch: &Batch, options: &ApplyOptions) -> Result<ApplyReport, SinkError> {
        self.do_apply(batch, options).map_err(SinkError::from)
    }

    fn check(&mut self) -> Result<Vec<CheckItem>, SinkError> {
        self.do_check().map_err(SinkError::from)
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.prepared = None;
        self.closed = true;
        Ok(())
    }
}
