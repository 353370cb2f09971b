//! Upserts: find each entry's row (mapping, then adoption by name), compare before writing,
//! update only what differs, insert the rest in multi-row statements.

use std::collections::{HashMap, HashSet};

use idsync_core::{Entry, EntryId, MatchPolicy, PlannedChange};
use idsync_sql::{Mapping, MappingState, ReadAs, SqlBuilder, SqlError, Value};

use crate::context::{Applier, RowValues};
use crate::schema::{DisablePlan, TablePlan};
use crate::values::{convert, field_value, push_cell, same, Cell};

/// An entry with the values its row should hold.
struct Wanted<'e> {
    entry: &'e Entry,
    cells: Vec<Cell>,
}

/// An entry whose row exists.
struct Existing<'e> {
    wanted: Wanted<'e>,
    key: i64,
    current: RowValues,
    /// The mapping state before this batch (`None` when adopted now).
    previous: Option<MappingState>,
}

/// What to write to one existing row.
struct Update<'e> {
    existing: Existing<'e>,
    /// (column index, new value).
    diffs: Vec<(usize, Cell)>,
    flag: Option<Cell>,
}

/// Upserts entries of one kind into `table`.
pub fn upsert(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    entries: &[&Entry],
) -> Result<(), SqlError> {
    let mut mapped = Vec::new();
    let mut unmapped = Vec::new();
    for entry in entries {
        let cells: Result<Vec<Cell>, String> = table
            .columns
            .iter()
            .map(|column| convert(field_value(entry, &column.field), column))
            .collect();
        let wanted = match cells {
            Ok(cells) => Wanted { entry, cells },
            Err(reason) => {
                ap.refuse(entry, reason);
                continue;
            }
        };
        match ap.index.get(&entry.id) {
            Some(mapping) if mapping.kind == table.kind => match mapping.row_key {
                Some(key) => mapped.push((wanted, key, mapping.state)),
                None => unmapped.push(wanted),
            },
            Some(mapping) => {
                let reason = format!(
                    "entry is recorded as a {} and now arrives as a {}",
                    mapping.kind, table.kind
                );
                ap.refuse(entry, reason);
            }
            None => unmapped.push(wanted),
        }
    }
    let keys: Vec<i64> = mapped.iter().map(|(_, key, _)| *key).collect();
    let mut rows = ap.load_rows(table, &keys)?;
    let mut existing = Vec::with_capacity(mapped.len());
    for (wanted, key, state) in mapped {
        match rows.remove(&key) {
            Some(current) => existing.push(Existing {
                wanted,
                key,
                current,
                previous: Some(state),
            }),
            // The row was deleted behind idsync's back: find or create it again.
            None => unmapped.push(wanted),
        }
    }
    update_existing(ap, table, existing)?;
    place_unmapped(ap, table, unmapped)
}

fn wants_row(table: &TablePlan, entry: &Entry) -> bool {
    entry.enabled || !matches!(table.disable, DisablePlan::Delete)
}

fn update_existing(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    items: Vec<Existing<'_>>,
) -> Result<(), SqlError> {
    let mut updates = Vec::with_capacity(items.len());
    let mut deletes = Vec::new();
    for existing in items {
        let entry = existing.wanted.entry;
        if existing.previous.is_none() {
            ap.report.counts.adopted += 1;
            ap.change(|| PlannedChange::Adopt {
                id: entry.id,
                kind: entry.kind,
                name: entry.name.clone(),
            });
        }
        if !wants_row(table, entry) {
            deletes.push(existing);
            continue;
        }
        let mut diffs = Vec::new();
        for (index, (column, cell)) in table.columns.iter().zip(&existing.wanted.cells).enumerate()
        {
            let current = existing
                .current
                .get(index)
                .and_then(|value| value.as_deref());
            if same(current, cell, column.info.class) {
                continue;
            }
            if *cell == Cell::Null && !column.info.nullable {
                // A NOT NULL column keeps its value when the attribute goes away.
                continue;
            }
            diffs.push((index, cell.clone()));
        }
        let flag = match &table.disable {
            DisablePlan::Flag {
                info,
                disabled,
                enabled,
                ..
            } => {
                let wanted = if entry.enabled { enabled } else { disabled };
                let current = existing
                    .current
                    .get(table.columns.len())
                    .and_then(|value| value.as_deref());
                (!same(current, wanted, info.class)).then(|| wanted.clone())
            }
            DisablePlan::Keep | DisablePlan::Delete => None,
        };
        updates.push(Update {
            existing,
            diffs,
            flag,
        });
    }
    let updates = order_renames(ap, table, updates)?;
    for update in &updates {
        write_update(ap, table, update)?;
        report_update(ap, table, update);
    }
    if !deletes.is_empty() {
        let keys: Vec<i64> = deletes.iter().map(|existing| existing.key).collect();
        ap.delete_rows(table, &keys)?;
        for existing in deletes {
            let entry = existing.wanted.entry;
            ap.report.counts.disabled += 1;
            ap.change(|| PlannedChange::Disable {
                id: entry.id,
                name: entry.name.clone(),
            });
            ap.set_mapping(Mapping {
                id: entry.id,
                kind: table.kind,
                row_key: None,
                state: MappingState::Live,
            });
            ap.accepted(entry.id);
        }
    }
    Ok(())
}

/// Orders renames so that a row vacating a name is renamed before the row taking it; refuses
/// renames onto a name held by a row that keeps it, and rename cycles.
fn order_renames<'e>(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    updates: Vec<Update<'e>>,
) -> Result<Vec<Update<'e>>, SqlError> {
    let name_index = table.name_column;
    let renames: Vec<String> = updates
        .iter()
        .filter(|update| update.diffs.iter().any(|(index, _)| *index == name_index))
        .map(|update| update.existing.wanted.entry.name.clone())
        .collect();
    if renames.is_empty() {
        return Ok(updates);
    }
    let mut holders = ap.find_by_names(table, &renames)?;
    let (mut pending, mut ordered): (Vec<Update<'e>>, Vec<Update<'e>>) = updates
        .into_iter()
        .partition(|update| update.diffs.iter().any(|(index, _)| *index == name_index));
    loop {
        let renaming: HashSet<i64> = pending.iter().map(|update| update.existing.key).collect();
        let mut waiting = Vec::new();
        let before = pending.len();
        for update in pending {
            let key = update.existing.key;
            let target = ap.name_key(&update.existing.wanted.entry.name);
            match holders.get(&target) {
                Some(holder) if *holder != key && renaming.contains(holder) => waiting.push(update),
                Some(holder) if *holder != key => {
                    let reason = format!(
                        "cannot rename to `{}`: the name is already taken in `{}`",
                        update.existing.wanted.entry.name, table.table
                    );
                    ap.refuse(update.existing.wanted.entry, reason);
                }
                _ => {
                    if let Some(old) = update
                        .existing
                        .current
                        .get(name_index)
                        .and_then(Clone::clone)
                    {
                        let old = ap.name_key(&old);
                        if holders.get(&old) == Some(&key) {
                            holders.remove(&old);
                        }
                    }
                    holders.insert(target, key);
                    ordered.push(update);
                }
            }
        }
        if waiting.is_empty() {
            break;
        }
        if waiting.len() == before {
            for update in waiting {
                let reason = format!(
                    "cannot rename to `{}`: the renames in this batch form a cycle",
                    update.existing.wanted.entry.name
                );
                ap.refuse(update.existing.wanted.entry, reason);
            }
            break;
        }
        pending = waiting;
    }
    // Renames first (in dependency order), then the rest: the partition put the rest first.
    let (rest, renamed): (Vec<Update<'e>>, Vec<Update<'e>>) = ordered
        .into_iter()
        .partition(|update| !update.diffs.iter().any(|(index, _)| *index == name_index));
    Ok(renamed.into_iter().chain(rest).collect())
}

fn write_update(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    update: &Update<'_>,
) -> Result<(), SqlError> {
    if update.diffs.is_empty() && update.flag.is_none() {
        return Ok(());
    }
    let mut sql = SqlBuilder::new(ap.session.dialect());
    sql.sql("UPDATE ").table(&table.table).sql(" SET ");
    let mut first = true;
    for (index, cell) in &update.diffs {
        let Some(column) = table.columns.get(*index) else {
            continue;
        };
        if !first {
            sql.sql(", ");
        }
        first = false;
        sql.ident(&column.ident).sql(" = ");
        push_cell(&mut sql, &column.info, cell);
    }
    if let (Some(cell), DisablePlan::Flag { column, info, .. }) = (&update.flag, &table.disable) {
        if !first {
            sql.sql(", ");
        }
        sql.ident(column).sql(" = ");
        push_cell(&mut sql, info, cell);
    }
    sql.sql(" WHERE ")
        .ident(&table.key)
        .sql(" = ")
        .param(Value::int(update.existing.key));
    ap.session.execute(&sql.build_cached()).map_err(|source| {
        SqlError::query(format!("cannot update a row of `{}`", table.table), source)
    })?;
    Ok(())
}

fn report_update(ap: &mut Applier<'_, '_>, table: &TablePlan, update: &Update<'_>) {
    let existing = &update.existing;
    let entry = existing.wanted.entry;
    let mut changed = false;
    let mut fields = Vec::new();
    for (index, cell) in &update.diffs {
        let old = existing.current.get(*index).cloned().flatten();
        if *index == table.name_column {
            ap.report.counts.renamed += 1;
            let from = old.unwrap_or_default();
            ap.change(|| PlannedChange::Rename {
                id: entry.id,
                from,
                to: entry.name.clone(),
            });
        } else if let Some(column) = table.columns.get(*index) {
            fields.push((column.ident.to_string(), old, cell.display()));
        }
        changed = true;
    }
    if !fields.is_empty() {
        ap.report.counts.updated += 1;
        ap.change(|| PlannedChange::Update {
            id: entry.id,
            name: entry.name.clone(),
            fields,
        });
    }
    let revived = existing.previous == Some(MappingState::Gone);
    if update.flag.is_some() || (revived && entry.enabled) {
        changed = true;
        if entry.enabled {
            ap.report.counts.enabled += 1;
            ap.change(|| PlannedChange::Enable {
                id: entry.id,
                name: entry.name.clone(),
            });
        } else {
            ap.report.counts.disabled += 1;
            ap.change(|| PlannedChange::Disable {
                id: entry.id,
                name: entry.name.clone(),
            });
        }
    }
    if !changed && existing.previous.is_some() {
        ap.report.counts.unchanged += 1;
    }
    ap.set_mapping(Mapping {
        id: entry.id,
        kind: table.kind,
        row_key: Some(existing.key),
        state: MappingState::Live,
    });
    ap.accepted(entry.id);
}

fn place_unmapped(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    unmapped: Vec<Wanted<'_>>,
) -> Result<(), SqlError> {
    let mut candidates = Vec::with_capacity(unmapped.len());
    let mut seen: HashMap<String, EntryId> = HashMap::new();
    for wanted in unmapped {
        let entry = wanted.entry;
        if !wants_row(table, entry) {
            // Disabled and `disable = "delete"`: the entry is known, its row stays absent.
            ap.report.counts.unchanged += 1;
            ap.set_mapping(Mapping {
                id: entry.id,
                kind: table.kind,
                row_key: None,
                state: MappingState::Live,
            });
            ap.accepted(entry.id);
            continue;
        }
        let name = ap.name_key(&entry.name);
        if let Some(first) = seen.get(&name) {
            let reason = format!(
                "the name `{}` is also given to entry {first} in the same batch",
                entry.name
            );
            ap.refuse(entry, reason);
            continue;
        }
        seen.insert(name, entry.id);
        candidates.push(wanted);
    }
    if candidates.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = candidates
        .iter()
        .map(|wanted| wanted.entry.name.clone())
        .collect();
    let taken = ap.find_by_names(table, &names)?;
    let mut adopted = Vec::new();
    let mut inserts = Vec::new();
    for wanted in candidates {
        let entry = wanted.entry;
        match taken.get(&ap.name_key(&entry.name)).copied() {
            None => inserts.push(wanted),
            Some(key) => match ap.index.owner(table.kind, key) {
                Some(owner) if owner != entry.id => {
                    let reason = format!(
                        "the name `{}` belongs to the account of entry {owner}",
                        entry.name
                    );
                    ap.refuse(entry, reason);
                }
                _ if ap.policy.match_by == MatchPolicy::Id => {
                    let reason = format!(
                        "the name `{}` belongs to an account idsync does not manage (match = \"id\")",
                        entry.name
                    );
                    ap.refuse(entry, reason);
                }
                _ => adopted.push((wanted, key)),
            },
        }
    }
    if !adopted.is_empty() {
        let keys: Vec<i64> = adopted.iter().map(|(_, key)| *key).collect();
        let mut rows = ap.load_rows(table, &keys)?;
        let existing = adopted
            .into_iter()
            .filter_map(|(wanted, key)| {
                rows.remove(&key).map(|current| Existing {
                    wanted,
                    key,
                    current,
                    previous: None,
                })
            })
            .collect();
        update_existing(ap, table, existing)?;
    }
    insert_rows(ap, table, inserts)
}

fn insert_rows(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    inserts: Vec<Wanted<'_>>,
) -> Result<(), SqlError> {
    if inserts.is_empty() {
        return Ok(());
    }
    // Columns that are NOT NULL with a default are left out of rows that have no value for
    // them, so rows are grouped by the set of columns they write.
    let mut groups: HashMap<Vec<bool>, Vec<Wanted<'_>>> = HashMap::new();
    for wanted in inserts {
        let shape: Vec<bool> = table
            .columns
            .iter()
            .zip(&wanted.cells)
            .map(|(column, cell)| *cell != Cell::Null || column.info.nullable)
            .collect();
        groups.entry(shape).or_default().push(wanted);
    }
    let mut shapes: Vec<Vec<bool>> = groups.keys().cloned().collect();
    shapes.sort();
    for shape in shapes {
        if let Some(rows) = groups.remove(&shape) {
            insert_shape(ap, table, &shape, rows)?;
        }
    }
    Ok(())
}

fn insert_shape(
    ap: &mut Applier<'_, '_>,
    table: &TablePlan,
    shape: &[bool],
    rows: Vec<Wanted<'_>>,
) -> Result<(), SqlError> {
    let dialect = ap.session.dialect();
    let flag = match &table.disable {
        DisablePlan::Flag {
            column,
            info,
            disabled,
            enabled,
        } => Some((column, info, disabled, enabled)),
        DisablePlan::Keep | DisablePlan::Delete => None,
    };
    let mut columns: Vec<String> = table
        .columns
        .iter()
        .zip(shape)
        .filter(|(_, written)| **written)
        .map(|(column, _)| column.ident.quoted(dialect))
        .collect();
    if let Some((column, ..)) = flag {
        columns.push(column.quoted(dialect));
    }
    let per_row = columns.len().max(1);
    let chunk = idsync_sql::rows_per_statement(dialect, per_row, ap.batch_rows);
    let head = format!(
        "INSERT INTO {} ({}) VALUES ",
        table.table.quoted(dialect),
        columns.join(", ")
    );
    let returning = dialect.supports_returning();
    let name_column = table
        .name()
        .map(|column| column.ident.quoted(dialect))
        .unwrap_or_default();
    let mut keys: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    for part in rows.chunks(chunk) {
        let mut sql = SqlBuilder::new(dialect);
        sql.sql(&head);
        for (row_index, wanted) in part.iter().enumerate() {
            if row_index > 0 {
                sql.sql(", ");
            }
            sql.sql("(");
            let mut first = true;
            for ((column, cell), written) in table.columns.iter().zip(&wanted.cells).zip(shape) {
                if !written {
                    continue;
                }
                if !first {
                    sql.sql(", ");
                }
                first = false;
                push_cell(&mut sql, &column.info, cell);
            }
            if let Some((_, info, disabled, enabled)) = flag {
                if !first {
                    sql.sql(", ");
                }
                push_cell(
                    &mut sql,
                    info,
                    if wanted.entry.enabled {
                        enabled
                    } else {
                        disabled
                    },
                );
            }
            sql.sql(")");
        }
        let context = || format!("cannot insert rows into `{}`", table.table);
        if returning {
            sql.sql(" RETURNING ")
                .sql(&dialect.cast_to_bigint(&table.key.quoted(dialect)))
                .sql(", ")
                .sql(&dialect.cast_to_text(&name_column));
            let statement = if part.len() == chunk {
                sql.build_cached()
            } else {
                sql.build()
            };
            let mut returned = Vec::with_capacity(part.len());
            ap.session
                .for_each_row(&statement, &[ReadAs::Int, ReadAs::Text], |row| {
                    let mut values = row.drain(..);
                    if let (Some(key), Some(name)) = (
                        values.next().and_then(|v| v.as_int()),
                        values.next().and_then(Value::into_text),
                    ) {
                        returned.push((name, key));
                    }
                })
                .map_err(|source| SqlError::query(context(), source))?;
            for (name, key) in returned {
                keys.insert(ap.name_key(&name), key);
            }
        } else {
            let statement = if part.len() == chunk {
                sql.build_cached()
            } else {
                sql.build()
            };
            ap.session
                .execute(&statement)
                .map_err(|source| SqlError::query(context(), source))?;
        }
    }
    if !returning {
        let names: Vec<String> = rows
            .iter()
            .map(|wanted| wanted.entry.name.clone())
            .collect();
        keys = ap.find_by_names(table, &names)?;
    }
    for wanted in rows {
        let entry = wanted.entry;
        let Some(key) = keys.get(&ap.name_key(&entry.name)).copied() else {
            return Err(SqlError::Corrupt {
                table: table.table.to_string(),
                column: table
                    .name()
                    .map(|column| column.ident.to_string())
                    .unwrap_or_default(),
                value: entry.name.clone(),
            });
        };
        ap.report.counts.created += 1;
        if ap.record {
            let fields = table
                .columns
                .iter()
                .zip(&wanted.cells)
                .filter_map(|(column, cell)| {
                    cell.display()
                        .map(|value| (column.ident.to_string(), value))
                })
                .collect();
            ap.change(|| PlannedChange::Create {
                id: entry.id,
                kind: entry.kind,
                name: entry.name.clone(),
                fields,
            });
        }
        ap.set_mapping(Mapping {
            id: entry.id,
            kind: table.kind,
            row_key: Some(key),
            state: MappingState::Live,
        });
        ap.accepted(entry.id);
    }
    Ok(())
}
