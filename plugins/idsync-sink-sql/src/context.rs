//! The state of one `apply`: the open transaction, the plan, the bookkeeping, the report.

use std::collections::{HashMap, HashSet};

use idsync_core::{ApplyReport, Entry, EntryId, EntryKind, PlannedChange, Quarantined, SyncPolicy};
use idsync_sql::{
    in_list_statements, Bookkeeping, Mapping, MappingIndex, QuarantineRecord, ReadAs, Session,
    SqlError, Value,
};

use crate::schema::{DisablePlan, SchemaPlan, TablePlan};

/// Keys per `IN (…)` list when reading application rows.
pub const LOOKUP_CHUNK: usize = 1_000;

/// Everything one `apply` works with.
pub struct Applier<'a, 's> {
    /// The open transaction.
    pub session: &'a mut Session<'s>,
    /// The resolved schema.
    pub plan: &'a SchemaPlan,
    /// The scope's bookkeeping tables.
    pub books: &'a Bookkeeping,
    /// Id mappings (journaled: rolled back with the transaction).
    pub index: &'a mut MappingIndex,
    /// Entries currently quarantined (restored by the caller on rollback).
    pub quarantined: &'a mut HashSet<EntryId>,
    /// Adoption policy.
    pub policy: SyncPolicy,
    /// Rows per multi-row statement.
    pub batch_rows: usize,
    /// Whether to fill `report.changes`.
    pub record: bool,
    /// What was done.
    pub report: ApplyReport,
    mappings: Vec<Mapping>,
    forget: Vec<EntryId>,
    release: Vec<EntryId>,
    refused: Vec<QuarantineRecord>,
}

/// Current values of one application row: the mapped columns in plan order, then the flag.
pub type RowValues = Vec<Option<String>>;

impl<'a, 's> Applier<'a, 's> {
    /// A new applier over an open transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        session: &'a mut Session<'s>,
        plan: &'a SchemaPlan,
        books: &'a Bookkeeping,
        index: &'a mut MappingIndex,
        quarantined: &'a mut HashSet<EntryId>,
        policy: SyncPolicy,
        batch_rows: usize,
        record: bool,
    ) -> Self {
        Self {
            session,
            plan,
            books,
            index,
            quarantined,
            policy,
            batch_rows,
            record,
            report: ApplyReport::default(),
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

    /// An entry was written successfully: lift its quarantine, if any.
    pub fn accepted(&mut self, id: EntryId) {
        if self.quarantined.remove(&id) {
            self.release.push(id);
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

    /// Writes the pending bookkeeping (mappings, quarantine) in multi-row statements.
    pub fn flush(&mut self) -> Result<(), SqlError> {
        let mappings = std::mem::take(&mut self.mappings);
        self.books.record_mappings(self.session, &mappings)?;
        let forget = std::mem::take(&mut self.forget);
        self.books.forget_mappings(self.session, &forget)?;
        let release = std::mem::take(&mut self.release);
        self.books.unquarantine(self.session, &release)?;
        let refused = std::mem::take(&mut self.refused);
        self.books.quarantine(self.session, &refused)?;
        Ok(())
    }

    /// Normalises a name for matching (MySQL compares case-insensitively).
    pub fn name_key(&self, name: &str) -> String {
        if self.session.dialect().case_insensitive_text() {
            name.to_lowercase()
        } else {
            name.to_owned()
        }
    }

    /// Reads the current values of these rows (one statement per chunk of keys).
    pub fn load_rows(
        &mut self,
        table: &TablePlan,
        keys: &[i64],
    ) -> Result<HashMap<i64, RowValues>, SqlError> {
        let dialect = self.session.dialect();
        let mut shape = vec![ReadAs::Int];
        let mut selected = vec![dialect.cast_to_bigint(&table.key.quoted(dialect))];
        for column in &table.columns {
            selected.push(dialect.cast_to_text(&column.ident.quoted(dialect)));
            shape.push(ReadAs::Text);
        }
        if let DisablePlan::Flag { column, .. } = &table.disable {
            selected.push(dialect.cast_to_text(&column.quoted(dialect)));
            shape.push(ReadAs::Text);
        }
        let head = format!(
            "SELECT {} FROM {} WHERE {} IN ",
            selected.join(", "),
            table.table.quoted(dialect),
            table.key.quoted(dialect)
        );
        let statements =
            in_list_statements(dialect, &head, keys, LOOKUP_CHUNK, |key| Value::int(*key));
        let mut rows = HashMap::with_capacity(keys.len());
        for statement in &statements {
            self.session
                .for_each_row(statement, &shape, |row| {
                    let mut values = row.drain(..);
                    if let Some(key) = values.next().and_then(|value| value.as_int()) {
                        rows.insert(key, values.map(Value::into_text).collect());
                    }
                })
                .map_err(|source| {
                    SqlError::query(format!("cannot read rows of `{}`", table.table), source)
                })?;
        }
        Ok(rows)
    }

    /// Finds rows by name: normalised name → (key, stored name).
    pub fn find_by_names(
        &mut self,
        table: &TablePlan,
        names: &[String],
    ) -> Result<HashMap<String, i64>, SqlError> {
        let Some(name) = table.name() else {
            return Ok(HashMap::new());
        };
        let dialect = self.session.dialect();
        let head = format!(
            "SELECT {}, {} FROM {} WHERE {} IN ",
            dialect.cast_to_bigint(&table.key.quoted(dialect)),
            dialect.cast_to_text(&name.ident.quoted(dialect)),
            table.table.quoted(dialect),
            name.ident.quoted(dialect)
        );
        let statements = in_list_statements(dialect, &head, names, LOOKUP_CHUNK, |name| {
            Value::text(name.clone())
        });
        let mut found: HashMap<String, i64> = HashMap::new();
        let mut raw = Vec::new();
        for statement in &statements {
            self.session
                .for_each_row(statement, &[ReadAs::Int, ReadAs::Text], |row| {
                    let mut values = row.drain(..);
                    let key = values.next().and_then(|value| value.as_int());
                    let name = values.next().and_then(Value::into_text);
                    if let (Some(key), Some(name)) = (key, name) {
                        raw.push((name, key));
                    }
                })
                .map_err(|source| {
                    SqlError::query(format!("cannot look up names in `{}`", table.table), source)
                })?;
        }
        for (name, key) in raw {
            let entry = found.entry(self.name_key(&name)).or_insert(key);
            *entry = (*entry).min(key);
        }
        Ok(found)
    }

    /// Deletes the membership rows of these users or groups; returns how many went.
    pub fn delete_memberships_of(
        &mut self,
        kind: EntryKind,
        keys: &[i64],
    ) -> Result<u64, SqlError> {
        let Some(memberships) = &self.plan.memberships else {
            return Ok(0);
        };
        if keys.is_empty() {
            return Ok(0);
        }
        let dialect = self.session.dialect();
        let column = match kind {
            EntryKind::User => &memberships.member,
            EntryKind::Group => &memberships.group,
        };
        if self.record {
            let head = format!(
                "SELECT {}, {} FROM {} WHERE {} IN ",
                dialect.cast_to_bigint(&memberships.group.quoted(dialect)),
                dialect.cast_to_bigint(&memberships.member.quoted(dialect)),
                memberships.table.quoted(dialect),
                column.quoted(dialect)
            );
            let statements =
                in_list_statements(dialect, &head, keys, LOOKUP_CHUNK, |key| Value::int(*key));
            let mut pairs = Vec::new();
            for statement in &statements {
                self.session
                    .for_each_row(statement, &[ReadAs::Int, ReadAs::Int], |row| {
                        if let (Some(group), Some(member)) = (
                            row.first().and_then(Value::as_int),
                            row.get(1).and_then(Value::as_int),
                        ) {
                            pairs.push((group, member));
                        }
                    })
                    .map_err(|source| SqlError::query("cannot read memberships", source))?;
            }
            for (group, member) in pairs {
                if let (Some(group), Some(member)) = (
                    self.index.owner(EntryKind::Group, group),
                    self.index.owner(EntryKind::User, member),
                ) {
                    self.change(|| PlannedChange::RemoveMember { group, member });
                }
            }
        }
        let head = format!(
            "DELETE FROM {} WHERE {} IN ",
            memberships.table.quoted(dialect),
            column.quoted(dialect)
        );
        let statements =
            in_list_statements(dialect, &head, keys, LOOKUP_CHUNK, |key| Value::int(*key));
        let mut removed = 0u64;
        for statement in &statements {
            let affected = self.session.execute(statement).map_err(|source| {
                SqlError::query(
                    format!("cannot delete memberships from `{}`", memberships.table),
                    source,
                )
            })?;
            removed += u64::try_from(affected).unwrap_or(0);
        }
        self.report.counts.members_removed += removed;
        Ok(removed)
    }

    /// Deletes application rows by key.
    pub fn delete_rows(&mut self, table: &TablePlan, keys: &[i64]) -> Result<(), SqlError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.delete_memberships_of(table.kind, keys)?;
        let dialect = self.session.dialect();
        let head = format!(
            "DELETE FROM {} WHERE {} IN ",
            table.table.quoted(dialect),
            table.key.quoted(dialect)
        );
        let statements =
            in_list_statements(dialect, &head, keys, LOOKUP_CHUNK, |key| Value::int(*key));
        for statement in &statements {
            self.session.execute(statement).map_err(|source| {
                SqlError::query(format!("cannot delete rows from `{}`", table.table), source)
            })?;
        }
        Ok(())
    }
}
