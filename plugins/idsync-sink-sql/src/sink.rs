//! [`SqlSink`]: the generic SQL sink.

use std::collections::HashSet;

use idsync_core::{
    ApplyOptions, ApplyReport, Batch, CheckItem, Entry, EntryId, EntryKind, Removal, Sink,
    SinkCapabilities, SinkError, StoredState, SyncPolicy,
};
use idsync_sql::bookkeeping::ENTRIES_TABLE;
use idsync_sql::{
    run_migrations, Abort, Bookkeeping, ConnectOptions, Database, DatabaseUrl, MappingIndex,
    SqlError, TableName,
};
use tracing::{debug, info};

use crate::config::SqlSinkConfig;
use crate::context::Applier;
use crate::error::SqlSinkError;
use crate::members::apply_memberships;
use crate::removal::remove;
use crate::schema::{create_missing_tables, resolve, Findings, SchemaPlan};
use crate::upsert::upsert;

/// What exists once the sink is prepared.
struct Prepared {
    db: Database,
    plan: SchemaPlan,
    books: Bookkeeping,
    index: MappingIndex,
    quarantined: HashSet<EntryId>,
}

/// The generic SQL sink (`plugin = "sql"`): users, groups and memberships into any schema.
pub struct SqlSink {
    config: SqlSinkConfig,
    policy: SyncPolicy,
    prepared: Option<Prepared>,
    closed: bool,
}

impl std::fmt::Debug for SqlSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlSink")
            .field("scope", &self.config.scope)
            .field("prepared", &self.prepared.is_some())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl SqlSink {
    /// A sink for this configuration (validated here; nothing is opened until `prepare`).
    pub fn new(config: SqlSinkConfig) -> Result<Self, SqlSinkError> {
        config.validate()?;
        Ok(Self {
            config,
            policy: SyncPolicy::default(),
            prepared: None,
            closed: false,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SqlSinkConfig {
        &self.config
    }

    /// The database URL with the password from `password_file` / `password_env` inserted.
    fn url(&self) -> Result<DatabaseUrl, SqlError> {
        DatabaseUrl::parse_with_password(
            &self.config.url,
            self.config.password_file.as_deref(),
            self.config.password_env.as_deref(),
        )
    }

    fn connect(&self) -> Result<Database, SqlError> {
        Database::connect(&self.url()?, &ConnectOptions::default())
    }

    fn prepared(&mut self) -> Result<&mut Prepared, SqlSinkError> {
        if self.closed {
            return Err(SqlSinkError::State("open: it was closed"));
        }
        self.prepared
            .as_mut()
            .ok_or(SqlSinkError::State("prepared yet"))
    }

    fn do_prepare(&mut self) -> Result<(), SqlSinkError> {
        if self.closed {
            return Err(SqlSinkError::State("open: it was closed"));
        }
        let mut db = self.connect()?;
        run_migrations(&mut db)?;
        if self.config.create_tables {
            let created = create_missing_tables(&mut db.session(), &self.config)?;
            for table in created {
                info!(%table, "created application table");
            }
        }
        let mut findings = Findings::default();
        let plan = resolve(&mut db.session(), &self.config, &mut findings)?;
        let plan = match plan {
            Some(plan) if findings.problems.is_empty() => plan,
            _ => {
                return Err(SqlError::Schema {
                    problems: findings.problems,
                }
                .into())
            }
        };
        let books = Bookkeeping::new(&self.config.scope, self.config.batch_rows)?;
        let mappings = books.load_mappings(&mut db.session())?;
        let quarantined = books
            .load_quarantine(&mut db.session())?
            .into_iter()
            .map(|record| record.id)
            .collect();
        debug!(mappings = mappings.len(), url = %db.url(), "sql sink prepared");
        self.prepared = Some(Prepared {
            db,
            plan,
            books,
            index: MappingIndex::from_mappings(mappings),
            quarantined,
        });
        Ok(())
    }

    fn do_load_state(&mut self) -> Result<StoredState, SqlSinkError> {
        let prepared = self.prepared()?;
        let mut session = prepared.db.session();
        let cookie = prepared.books.load_cookie(&mut session)?;
        let mappings = prepared.books.load_mappings(&mut session)?;
        prepared.index = MappingIndex::from_mappings(mappings);
        let synced = prepared.index.live_ids();
        Ok(StoredState { cookie, synced })
    }

    fn do_apply(
        &mut self,
        batch: &Batch,
        options: &ApplyOptions,
    ) -> Result<ApplyReport, SqlSinkError> {
        let policy = self.policy;
        let batch_rows = self.config.batch_rows;
        let prepared = self.prepared()?;
        let Prepared {
            db,
            plan,
            books,
            index,
            quarantined,
        } = prepared;
        let saved_quarantine = quarantined.clone();
        let record = options.record_changes || options.dry_run;
        let outcome = db.transaction(|session| -> Result<ApplyReport, Abort> {
            let mut ap = Applier::new(
                session,
                plan,
                books,
                index,
                quarantined,
                policy,
                batch_rows,
                record,
            );
            apply_batch(&mut ap, batch)?;
            let report = std::mem::take(&mut ap.report);
            if options.dry_run {
                return Err(Abort::DryRun(Box::new(report)));
            }
            Ok(report)
        });
        match outcome {
            Ok(report) => {
                index.commit();
                Ok(report)
            }
            Err(Abort::DryRun(report)) => {
                index.rollback();
                *quarantined = saved_quarantine;
                Ok(*report)
            }
            Err(Abort::Failed(error)) => {
                index.rollback();
                *quarantined = saved_quarantine;
                Err(error.into())
            }
        }
    }

    fn do_check(&mut self) -> Result<Vec<CheckItem>, SqlSinkError> {
        let mut items = Vec::new();
        // A check never creates a SQLite database: connecting would.
        let url = self.url()?;
        if let Some(path) = url.sqlite_path() {
            if path != std::path::Path::new(":memory:") && !path.exists() {
                let parent_missing = path
                    .parent()
                    .is_some_and(|dir| !dir.as_os_str().is_empty() && !dir.is_dir());
                if parent_missing {
                    items.push(CheckItem::failed(format!(
                        "cannot create the database `{}`: its directory does not exist",
                        path.display()
                    )));
                } else if self.config.create_tables {
                    items.push(CheckItem::warning(format!(
                        "the database `{}` does not exist yet: the first run creates it and its tables (create_tables = true)",
                        path.display()
                    )));
                } else {
                    items.push(CheckItem::failed(format!(
                        "the database `{}` does not exist, and create_tables is off: the configured tables cannot be there",
                        path.display()
                    )));
                }
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
        let mut findings = Findings {
            tables_created_later: self.config.create_tables,
            ..Findings::default()
        };
        resolve(&mut db.session(), &self.config, &mut findings)?;
        items.append(&mut findings.items);
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

/// Applies one batch inside the open transaction: upserts, removals, memberships, cookie.
fn apply_batch(ap: &mut Applier<'_, '_>, batch: &Batch) -> Result<(), SqlError> {
    for kind in [EntryKind::User, EntryKind::Group] {
        let Some(table) = ap.plan.table(kind) else {
            continue;
        };
        let table = table.clone();
        let entries = last_of_each(batch.upserts.iter().filter(|entry| entry.kind == kind));
        if !entries.is_empty() {
            upsert(ap, &table, &entries)?;
        }
    }
    ap.flush()?;
    for kind in [EntryKind::Group, EntryKind::User] {
        let Some(table) = ap.plan.table(kind) else {
            continue;
        };
        let table = table.clone();
        let removals: Vec<&Removal> = batch.removals.iter().collect();
        remove(ap, &table, &removals)?;
    }
    apply_memberships(ap, &batch.memberships)?;
    ap.flush()?;
    if let Some(update) = &batch.cookie {
        ap.books
            .store_cookie(ap.session, &update.cookie, &update.fingerprint)?;
    }
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

impl Sink for SqlSink {
    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            membership: self.config.membership_mode(),
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
