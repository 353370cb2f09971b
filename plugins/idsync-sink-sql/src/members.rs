//! Memberships: each group's complete member set is diffed against the membership table;
//! only missing rows are inserted and only extra rows deleted.

use foldhash::{HashMap, HashMapExt};

use idsync_core::{EntryKind, GroupMembers, PlannedChange};
use idsync_sql::{
    diff_sorted, in_list_statements, MultiInsert, ReadAs, SqlBuilder, SqlError, Value,
};

use crate::context::{Applier, LOOKUP_CHUNK};

/// Applies the member sets of a batch.
pub fn apply_memberships(ap: &mut Applier<'_, '_>, sets: &[GroupMembers]) -> Result<(), SqlError> {
    let Some(plan) = ap.plan.memberships.clone() else {
        return Ok(());
    };
    let dialect = ap.session.dialect();
    // group key → wanted member keys (users with a live row; others are skipped).
    let mut wanted: Vec<(i64, idsync_core::EntryId, Vec<i64>)> = Vec::with_capacity(sets.len());
    for set in sets {
        let Some(group_key) = ap.index.live_key(&set.group, EntryKind::Group) else {
            continue;
        };
        let mut members: Vec<i64> = set
            .members
            .iter()
            .filter_map(|member| ap.index.live_key(member, EntryKind::User))
            .collect();
        members.sort_unstable();
        members.dedup();
        wanted.push((group_key, set.group, members));
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let group_keys: Vec<i64> = wanted.iter().map(|(key, _, _)| *key).collect();
    let head = format!(
        "SELECT {}, {} FROM {} WHERE {} IN ",
        dialect.cast_to_bigint(&plan.group.quoted(dialect)),
        dialect.cast_to_bigint(&plan.member.quoted(dialect)),
        plan.table.quoted(dialect),
        plan.group.quoted(dialect)
    );
    let statements = in_list_statements(dialect, &head, &group_keys, LOOKUP_CHUNK, |key| {
        Value::int(*key)
    });
    let mut current: HashMap<i64, Vec<i64>> = HashMap::with_capacity(group_keys.len());
    for statement in &statements {
        ap.session
            .for_each_row(statement, &[ReadAs::Int, ReadAs::Int], |row| {
                if let (Some(group), Some(member)) = (
                    row.first().and_then(Value::as_int),
                    row.get(1).and_then(Value::as_int),
                ) {
                    current.entry(group).or_default().push(member);
                }
            })
            .map_err(|source| {
                SqlError::query(
                    format!("cannot read memberships from `{}`", plan.table),
                    source,
                )
            })?;
    }
    let mut additions: Vec<(i64, i64)> = Vec::new();
    let mut removals: Vec<(i64, Vec<i64>)> = Vec::new();
    for (group_key, group_id, members) in &wanted {
        let mut existing = current.remove(group_key).unwrap_or_default();
        existing.sort_unstable();
        existing.dedup();
        let (added, extra) = diff_sorted(members, &existing);
        for member in added {
            additions.push((*group_key, member));
            if ap.record {
                if let Some(member) = ap.index.owner(EntryKind::User, member) {
                    ap.change(|| PlannedChange::AddMember {
                        group: *group_id,
                        member,
                    });
                }
            }
        }
        // Rows of accounts idsync does not manage are left alone.
        let extra: Vec<i64> = extra
            .into_iter()
            .filter(|member| ap.index.owner(EntryKind::User, *member).is_some())
            .collect();
        if !extra.is_empty() {
            if ap.record {
                for member in &extra {
                    if let Some(member) = ap.index.owner(EntryKind::User, *member) {
                        ap.change(|| PlannedChange::RemoveMember {
                            group: *group_id,
                            member,
                        });
                    }
                }
            }
            removals.push((*group_key, extra));
        }
    }
    if !additions.is_empty() {
        // In primary-key order: the table's B-tree then grows at its end instead of everywhere.
        additions.sort_unstable();
        let insert = MultiInsert::new(
            dialect,
            &plan.table.quoted(dialect),
            &[plan.group.quoted(dialect), plan.member.quoted(dialect)],
            ap.batch_rows.max(LOOKUP_CHUNK),
        );
        let added = insert
            .execute(
                ap.session,
                additions
                    .iter()
                    .map(|(group, member)| vec![Value::int(*group), Value::int(*member)]),
            )
            .map_err(|source| {
                SqlError::query(
                    format!("cannot insert memberships into `{}`", plan.table),
                    source,
                )
            })?;
        ap.report.counts.members_added += u64::try_from(added).unwrap_or(0);
    }
    for (group, members) in removals {
        for chunk in members.chunks(LOOKUP_CHUNK) {
            let mut sql = SqlBuilder::new(dialect);
            sql.sql("DELETE FROM ")
                .table(&plan.table)
                .sql(" WHERE ")
                .ident(&plan.group)
                .sql(" = ")
                .param(Value::int(group))
                .sql(" AND ")
                .ident(&plan.member)
                .sql(" IN ")
                .param_list(chunk.iter().map(|member| Value::int(*member)));
            let removed = ap.session.execute(&sql.build()).map_err(|source| {
                SqlError::query(
                    format!("cannot delete memberships from `{}`", plan.table),
                    source,
                )
            })?;
            ap.report.counts.members_removed += u64::try_from(removed).unwrap_or(0);
        }
    }
    Ok(())
}
