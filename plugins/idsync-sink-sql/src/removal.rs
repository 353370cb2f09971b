//! Removals: entries that left the directory view are disabled (per `disable`) or deleted;
//! either way their membership rows go.

use idsync_core::{EntryId, EntryKind, PlannedChange, Removal, RemovalAction};
use idsync_sql::{Mapping, MappingState, SqlBuilder, SqlError, Value};

use crate::context::Applier;
use crate::schema::{DisablePlan, TablePlan};
use crate::values::{push_cell, same};

/// Applies the removals of one kind.
pub fn remove(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    removals: &[&Removal],
) -> Result<(), SqlError> {
    let mut targets: Vec<(EntryId, RemovalAction, Option<i64>)> = Vec::new();
    for removal in removals {
        // An entry that left the directory is no longer refused: its quarantine row goes
        // (a refused entry never had a mapping, so this comes first).
        ap.accepted(removal.id);
        let Some(mapping) = ap.index.get(&removal.id) else {
            continue;
        };
        if mapping.kind != table.kind {
            continue;
        }
        if removal.action == RemovalAction::Disable && mapping.state == MappingState::Gone {
            continue;
        }
        targets.push((removal.id, removal.action, mapping.row_key));
    }
    if targets.is_empty() {
        return Ok(());
    }
    let keys: Vec<i64> = targets.iter().filter_map(|(_, _, key)| *key).collect();
    let rows = ap.load_rows(table, &keys)?;
    let name_of = |key: Option<i64>| -> String {
        key.and_then(|key| rows.get(&key))
            .and_then(|row| row.get(table.name_column).cloned().flatten())
            .unwrap_or_default()
    };
    ap.delete_memberships_of(table.kind, &keys)?;
    let mut delete_keys = Vec::new();
    let mut flag_keys = Vec::new();
    for (id, action, key) in &targets {
        let (id, key) = (*id, *key);
        let exists = key.is_some_and(|key| rows.contains_key(&key));
        let name = name_of(key);
        let delete =
            *action == RemovalAction::Delete || matches!(table.disable, DisablePlan::Delete);
        if delete {
            if let (true, Some(key)) = (exists, key) {
                delete_keys.push(key);
                ap.report.counts.deleted += 1;
                ap.change(|| PlannedChange::Delete {
                    id,
                    name: name.clone(),
                });
            }
            if *action == RemovalAction::Delete {
                ap.forget_mapping(id);
            } else {
                gone(ap, id, table.kind, None);
            }
            continue;
        }
        if let DisablePlan::Flag { info, disabled, .. } = &table.disable {
            let current = key
                .and_then(|key| rows.get(&key))
                .and_then(|row| row.get(table.columns.len()).cloned().flatten());
            if exists && !same(current.as_deref(), disabled, info.class) {
                if let Some(key) = key {
                    flag_keys.push(key);
                }
            }
        }
        if exists {
            ap.report.counts.disabled += 1;
            ap.change(|| PlannedChange::Disable {
                id,
                name: name.clone(),
            });
        }
        gone(ap, id, table.kind, key.filter(|_| exists));
    }
    ap.delete_rows(table, &delete_keys)?;
    if let DisablePlan::Flag {
        column,
        info,
        disabled,
        ..
    } = &table.disable
    {
        let dialect = ap.session.dialect();
        for chunk in flag_keys.chunks(crate::context::LOOKUP_CHUNK) {
            let mut sql = SqlBuilder::new(dialect);
            sql.sql("UPDATE ")
                .table(&table.table)
                .sql(" SET ")
                .ident(column)
                .sql(" = ");
            push_cell(&mut sql, info, disabled);
            sql.sql(" WHERE ").ident(&table.key).sql(" IN ");
            sql.param_list(chunk.iter().map(|key| Value::int(*key)));
            ap.session.execute(&sql.build()).map_err(|source| {
                SqlError::query(format!("cannot disable rows of `{}`", table.table), source)
            })?;
        }
    }
    Ok(())
}

fn gone(ap: &mut Applier<'_, '_>, id: EntryId, kind: EntryKind, row_key: Option<i64>) {
    ap.set_mapping(Mapping {
        id,
        kind,
        row_key,
        state: MappingState::Gone,
    });
}
