//! Typed access to the `idsync_*` bookkeeping tables. Every helper takes a [`Session`], so it
//! runs inside the caller's transaction when there is one.

use std::str::FromStr;

use diesel::result::Error as DieselError;
use idsync_core::{EntryId, EntryKind};

use crate::batching::{in_statements, MultiInsert};
use crate::connection::Session;
use crate::error::SqlError;
use crate::statement::{ReadAs, SqlBuilder, Value};

/// Id mappings: entry id ↔ application row.
pub const ENTRIES_TABLE: &str = "idsync_entries";
/// Cookie and source-view fingerprint per scope.
pub const STATE_TABLE: &str = "idsync_state";
/// Entries the sink refused, with the reason.
pub const QUARANTINE_TABLE: &str = "idsync_quarantine";

/// Longest scope accepted (the column is `VARCHAR(64)`).
const MAX_SCOPE_LEN: usize = 64;
/// Ids per `IN (…)` list in bookkeeping statements.
const ID_CHUNK: usize = 1_000;

/// Whether a mapped entry is still in the directory view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MappingState {
    /// In the view: the account is synced.
    Live,
    /// Left the view: the account was disabled (or deleted, then `row_key` is empty).
    Gone,
}

impl MappingState {
    /// `"live"` or `"gone"`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            MappingState::Live => "live",
            MappingState::Gone => "gone",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "live" => Some(MappingState::Live),
            "gone" => Some(MappingState::Gone),
            _ => None,
        }
    }
}

/// One row of `idsync_entries`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The directory entry.
    pub id: EntryId,
    /// User or group.
    pub kind: EntryKind,
    /// The application row's key; `None` when the row was deleted but the entry is kept.
    pub row_key: Option<i64>,
    /// Live or gone.
    pub state: MappingState,
}

/// One row of `idsync_quarantine`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineRecord {
    /// The refused entry.
    pub id: EntryId,
    /// Its name as the directory gave it.
    pub name: String,
    /// Why it was refused.
    pub reason: String,
}

/// The bookkeeping of one scope (two syncs may share a database with different scopes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bookkeeping {
    scope: String,
    batch_rows: usize,
}

fn kind_str(kind: EntryKind) -> &'static str {
    kind.as_str()
}

fn parse_kind(text: &str) -> Option<EntryKind> {
    match text {
        "user" => Some(EntryKind::User),
        "group" => Some(EntryKind::Group),
        _ => None,
    }
}

fn corrupt(column: &str, value: impl Into<String>, table: &str) -> SqlError {
    SqlError::Corrupt {
        table: table.to_owned(),
        column: column.to_owned(),
        value: value.into(),
    }
}

impl Bookkeeping {
    /// The bookkeeping of `scope` (1 to 64 characters); multi-row statements carry at most
    /// `batch_rows` rows.
    pub fn new(scope: &str, batch_rows: usize) -> Result<Self, SqlError> {
        if scope.is_empty() || scope.chars().count() > MAX_SCOPE_LEN {
            return Err(SqlError::Config {
                key: "scope".to_owned(),
                problem: format!("must be 1 to {MAX_SCOPE_LEN} characters long"),
            });
        }
        Ok(Self {
            scope: scope.to_owned(),
            batch_rows: batch_rows.max(1),
        })
    }

    /// The scope.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    fn scope_value(&self) -> Value {
        Value::text(self.scope.clone())
    }

    /// The stored cookie and fingerprint of this scope.
    pub fn load_cookie(
        &self,
        session: &mut Session<'_>,
    ) -> Result<Option<(Vec<u8>, String)>, SqlError> {
        let mut sql = SqlBuilder::new(session.dialect());
        sql.sql("SELECT ")
            .quoted("cookie")
            .sql(", ")
            .quoted("fingerprint")
            .sql(" FROM ")
            .quoted(STATE_TABLE)
            .sql(" WHERE ")
            .quoted("scope")
            .sql(" = ")
            .param(self.scope_value());
        let rows = session
            .load(&sql.build(), &[ReadAs::Blob, ReadAs::Text])
            .map_err(|source| SqlError::query("cannot read the stored cookie", source))?;
        Ok(rows.into_iter().next().and_then(|row| {
            let mut values = row.into_iter();
            let cookie = values.next().and_then(Value::into_blob)?;
            let fingerprint = values.next().and_then(Value::into_text).unwrap_or_default();
            Some((cookie, fingerprint))
        }))
    }

    /// Stores the cookie and fingerprint of this scope.
    pub fn store_cookie(
        &self,
        session: &mut Session<'_>,
        cookie: &[u8],
        fingerprint: &str,
    ) -> Result<(), SqlError> {
        let dialect = session.dialect();
        let columns: Vec<String> = ["scope", "cookie", "fingerprint", "updated_at"]
            .iter()
            .map(|column| dialect.quote_ident(column))
            .collect();
        let insert = MultiInsert::new(dialect, &dialect.quote_ident(STATE_TABLE), &columns, 1)
            .with_params_per_row(3, 1)
            .with_row_tail(", CURRENT_TIMESTAMP")
            .with_tail(
                &dialect.upsert_clause(&["scope"], &["cookie", "fingerprint", "updated_at"]),
            );
        insert
            .execute(
                session,
                [vec![
                    self.scope_value(),
                    Value::Blob(Some(cookie.to_vec())),
                    Value::text(fingerprint),
                ]],
            )
            .map_err(|source| SqlError::query("cannot store the cookie", source))?;
        Ok(())
    }

    /// Every mapping of this scope, live or gone.
    pub fn load_mappings(&self, session: &mut Session<'_>) -> Result<Vec<Mapping>, SqlError> {
        let mut sql = SqlBuilder::new(session.dialect());
        sql.sql("SELECT ")
            .quoted("entry_id")
            .sql(", ")
            .quoted("kind")
            .sql(", ")
            .quoted("row_key")
            .sql(", ")
            .quoted("state")
            .sql(" FROM ")
            .quoted(ENTRIES_TABLE)
            .sql(" WHERE ")
            .quoted("scope")
            .sql(" = ")
            .param(self.scope_value());
        let mut mappings = Vec::new();
        let mut bad = None;
        session
            .for_each_row(
                &sql.build(),
                &[ReadAs::Text, ReadAs::Text, ReadAs::Int, ReadAs::Text],
                |row| {
                    let mut values = row.drain(..);
                    let id = values.next().and_then(Value::into_text).unwrap_or_default();
                    let kind = values.next().and_then(Value::into_text).unwrap_or_default();
                    let row_key = values.next().and_then(|value| value.as_int());
                    let state = values.next().and_then(Value::into_text).unwrap_or_default();
                    match (
                        EntryId::from_str(&id),
                        parse_kind(&kind),
                        MappingState::parse(&state),
                    ) {
                        (Ok(id), Some(kind), Some(state)) => mappings.push(Mapping {
                            id,
                            kind,
                            row_key,
                            state,
                        }),
                        (Err(_), _, _) => bad = Some(corrupt("entry_id", id, ENTRIES_TABLE)),
                        (_, None, _) => bad = Some(corrupt("kind", kind, ENTRIES_TABLE)),
                        (_, _, None) => bad = Some(corrupt("state", state, ENTRIES_TABLE)),
                    }
                },
            )
            .map_err(|source| SqlError::query("cannot read the id mappings", source))?;
        match bad {
            Some(error) => Err(error),
            None => Ok(mappings),
        }
    }

    /// Every live entry of this scope with its kind.
    pub fn load_live(
        &self,
        session: &mut Session<'_>,
    ) -> Result<Vec<(EntryId, EntryKind)>, SqlError> {
        Ok(self
            .load_mappings(session)?
            .into_iter()
            .filter(|mapping| mapping.state == MappingState::Live)
            .map(|mapping| (mapping.id, mapping.kind))
            .collect())
    }

    /// Records (inserts or replaces) mappings, in multi-row statements.
    pub fn record_mappings(
        &self,
        session: &mut Session<'_>,
        mappings: &[Mapping],
    ) -> Result<usize, SqlError> {
        if mappings.is_empty() {
            return Ok(0);
        }
        let dialect = session.dialect();
        let columns: Vec<String> = [
            "scope",
            "entry_id",
            "kind",
            "row_key",
            "state",
            "updated_at",
        ]
        .iter()
        .map(|column| dialect.quote_ident(column))
        .collect();
        let insert = MultiInsert::new(
            dialect,
            &dialect.quote_ident(ENTRIES_TABLE),
            &columns,
            self.batch_rows,
        )
        .with_params_per_row(5, self.batch_rows)
        .with_row_tail(", CURRENT_TIMESTAMP")
        .with_tail(&dialect.upsert_clause(
            &["scope", "entry_id"],
            &["kind", "row_key", "state", "updated_at"],
        ));
        insert
            .execute(
                session,
                mappings.iter().map(|mapping| {
                    vec![
                        self.scope_value(),
                        Value::text(mapping.id.to_string()),
                        Value::text(kind_str(mapping.kind)),
                        Value::Int(mapping.row_key),
                        Value::text(mapping.state.as_str()),
                    ]
                }),
            )
            .map_err(|source| SqlError::query("cannot record id mappings", source))
    }

    /// Deletes the mappings of these entries.
    pub fn forget_mappings(
        &self,
        session: &mut Session<'_>,
        ids: &[EntryId],
    ) -> Result<usize, SqlError> {
        self.delete_ids(session, ENTRIES_TABLE, ids)
            .map_err(|source| SqlError::query("cannot forget id mappings", source))
    }

    /// Records refused entries (replacing an older reason).
    pub fn quarantine(
        &self,
        session: &mut Session<'_>,
        records: &[QuarantineRecord],
    ) -> Result<usize, SqlError> {
        if records.is_empty() {
            return Ok(0);
        }
        let dialect = session.dialect();
        let columns: Vec<String> = ["scope", "entry_id", "name", "reason", "at"]
            .iter()
            .map(|column| dialect.quote_ident(column))
            .collect();
        let insert = MultiInsert::new(
            dialect,
            &dialect.quote_ident(QUARANTINE_TABLE),
            &columns,
            self.batch_rows,
        )
        .with_params_per_row(4, self.batch_rows)
        .with_row_tail(", CURRENT_TIMESTAMP")
        .with_tail(&dialect.upsert_clause(&["scope", "entry_id"], &["name", "reason", "at"]));
        insert
            .execute(
                session,
                records.iter().map(|record| {
                    vec![
                        self.scope_value(),
                        Value::text(record.id.to_string()),
                        Value::text(record.name.clone()),
                        Value::text(record.reason.clone()),
                    ]
                }),
            )
            .map_err(|source| SqlError::query("cannot record quarantined entries", source))
    }

    /// Lifts the quarantine of these entries.
    pub fn unquarantine(
        &self,
        session: &mut Session<'_>,
        ids: &[EntryId],
    ) -> Result<usize, SqlError> {
        self.delete_ids(session, QUARANTINE_TABLE, ids)
            .map_err(|source| SqlError::query("cannot lift quarantines", source))
    }

    /// Every quarantined entry of this scope.
    pub fn load_quarantine(
        &self,
        session: &mut Session<'_>,
    ) -> Result<Vec<QuarantineRecord>, SqlError> {
        let mut sql = SqlBuilder::new(session.dialect());
        sql.sql("SELECT ")
            .quoted("entry_id")
            .sql(", ")
            .quoted("name")
            .sql(", ")
            .quoted("reason")
            .sql(" FROM ")
            .quoted(QUARANTINE_TABLE)
            .sql(" WHERE ")
            .quoted("scope")
            .sql(" = ")
            .param(self.scope_value());
        let rows = session
            .load(&sql.build(), &[ReadAs::Text, ReadAs::Text, ReadAs::Text])
            .map_err(|source| SqlError::query("cannot read quarantined entries", source))?;
        rows.into_iter()
            .map(|row| {
                let mut values = row.into_iter();
                let id = values.next().and_then(Value::into_text).unwrap_or_default();
                let name = values.next().and_then(Value::into_text).unwrap_or_default();
                let reason = values.next().and_then(Value::into_text).unwrap_or_default();
                EntryId::from_str(&id)
                    .map(|id| QuarantineRecord { id, name, reason })
                    .map_err(|_| corrupt("entry_id", id, QUARANTINE_TABLE))
            })
            .collect()
    }

    fn delete_ids(
        &self,
        session: &mut Session<'_>,
        table: &str,
        ids: &[EntryId],
    ) -> Result<usize, DieselError> {
        let statements = in_statements(
            session.dialect(),
            ids,
            ID_CHUNK,
            |id| Value::text(id.to_string()),
            |sql, list| {
                sql.sql("DELETE FROM ")
                    .quoted(table)
                    .sql(" WHERE ")
                    .quoted("scope")
                    .sql(" = ")
                    .param(self.scope_value())
                    .sql(" AND ")
                    .quoted("entry_id")
                    .sql(" IN ");
                list(sql);
            },
        );
        let mut affected = 0;
        for statement in &statements {
            affected += session.execute(statement)?;
        }
        Ok(affected)
    }
}
