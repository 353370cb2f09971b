//! Removals: entries that left the directory view.
//!
//! * Disable (`on_delete = "disable"`): the account is blocked indefinitely, its sessions end,
//!   and it leaves every managed wiki group (recorded in `user_former_groups`).
//! * Delete (`on_delete = "delete"`): MediaWiki keeps accounts that have history, so the sink
//!   does what `maintenance/removeUnusedAccounts.php --delete` does. An account without
//!   history (no revisions, deleted revisions, uploads, or log entries other than its own
//!   creation) is deleted: its `user`, `actor` (kept without its user when it blocked
//!   someone), `user_groups`, `user_former_groups`, `user_properties`, `logging` and
//!   `recentchanges` rows and the blocks on it; its name is free again. An account with
//!   history is disabled instead, as above, and counted as disabled.

use std::collections::HashSet;

use idsync_core::{EntryId, EntryKind, PlannedChange, Removal, RemovalAction};
use idsync_sql::{Mapping, MappingState, ReadAs, SqlError, Value};

use crate::blocks::{block, blocks_of, end_sessions, unblock};
use crate::context::Applier;
use crate::groups::remove_group;

struct Target {
    id: EntryId,
    key: i64,
    name: String,
    actor: Option<i64>,
    delete: bool,
}

/// Applies the removals of a batch.
pub fn remove(ap: &mut Applier<'_, '_>, removals: &[Removal]) -> Result<(), SqlError> {
    let mut users = Vec::new();
    let mut seen = HashSet::new();
    for removal in removals {
        if !seen.insert(removal.id) {
            continue;
        }
        // An entry that left the directory is no longer refused: its quarantine row goes
        // (a refused entry never had a mapping, so this comes first).
        ap.accepted(removal.id);
        let Some(mapping) = ap.index.get(&removal.id).cloned() else {
            continue;
        };
        let delete = removal.action == RemovalAction::Delete;
        if mapping.state == MappingState::Gone && !delete {
            continue;
        }
        match mapping.kind {
            EntryKind::Group => remove_group(ap, removal.id, delete),
            EntryKind::User => match mapping.row_key {
                Some(key) => users.push((removal.id, key, delete)),
                None => ap.forget_mapping(removal.id),
            },
        }
    }
    if users.is_empty() {
        return Ok(());
    }
    let keys: Vec<i64> = users.iter().map(|(_, key, _)| *key).collect();
    let rows = read_accounts(ap, &keys)?;
    let mut targets = Vec::new();
    for (id, key, delete) in users {
        match rows.get(&key) {
            Some((name, actor)) => targets.push(Target {
                id,
                key,
                name: name.clone(),
                actor: *actor,
                delete,
            }),
            // Deleted behind our back: nothing left to do.
            None => ap.forget_mapping(id),
        }
    }
    let actors: Vec<i64> = targets
        .iter()
        .filter(|t| t.delete)
        .filter_map(|t| t.actor)
        .collect();
    let active = actors_with_history(ap, &actors)?;
    let edited = users_with_edits(ap, &targets)?;
    let (deletions, disables): (Vec<Target>, Vec<Target>) = targets.into_iter().partition(|t| {
        t.delete && !edited.contains(&t.key) && !t.actor.is_some_and(|a| active.contains(&a))
    });
    disable(ap, disables)?;
    delete(ap, deletions)
}

fn read_accounts(
    ap: &mut Applier<'_, '_>,
    keys: &[i64],
) -> Result<foldhash::HashMap<i64, (String, Option<i64>)>, SqlError> {
    let head = format!(
        "SELECT {}, {}, {} FROM {} u LEFT JOIN {} a ON a.actor_user = u.user_id WHERE u.user_id IN ",
        ap.int("u.user_id"),
        ap.text("u.user_name"),
        ap.int("a.actor_id"),
        ap.wiki.table("user"),
        ap.wiki.table("actor"),
    );
    let mut rows = foldhash::HashMap::default();
    ap.select_in(
        &head,
        keys,
        |key| Value::int(*key),
        &[ReadAs::Int, ReadAs::Text, ReadAs::Int],
        "cannot read users",
        |row| {
            let key = row.first().and_then(Value::as_int);
            let name = row.get(1).and_then(Value::as_text).map(str::to_owned);
            let actor = row.get(2).and_then(Value::as_int);
            if let (Some(key), Some(name)) = (key, name) {
                rows.insert(key, (name, actor));
            }
        },
    )?;
    Ok(rows)
}

/// Actors with history (the checks of `removeUnusedAccounts.php`).
fn actors_with_history(ap: &mut Applier<'_, '_>, actors: &[i64]) -> Result<HashSet<i64>, SqlError> {
    let mut active = HashSet::new();
    if actors.is_empty() {
        return Ok(active);
    }
    let mut checks: Vec<(&str, &str, &str)> = vec![
        ("revision", "rev_actor", ""),
        ("archive", "ar_actor", ""),
        ("image", "img_actor", ""),
        ("oldimage", "oi_actor", ""),
        ("filearchive", "fa_actor", ""),
        ("logging", "log_actor", " AND log_type <> 'newusers'"),
    ];
    if ap.detected.revision_actor_temp {
        checks.push(("revision_actor_temp", "revactor_actor", ""));
    }
    for (table, column, extra) in checks {
        let head = format!(
            "SELECT DISTINCT {} FROM {} WHERE 1 = 1{extra} AND {column} IN ",
            ap.int(column),
            ap.wiki.table(table)
        );
        ap.select_in(
            &head,
            actors,
            |actor| Value::int(*actor),
            &[ReadAs::Int],
            &format!("cannot look for history in `{}`", ap.wiki.display(table)),
            |row| {
                if let Some(actor) = row.first().and_then(Value::as_int) {
                    active.insert(actor);
                }
            },
        )?;
    }
    Ok(active)
}

/// Accounts whose `user_editcount` is above zero.
fn users_with_edits(
    ap: &mut Applier<'_, '_>,
    targets: &[Target],
) -> Result<HashSet<i64>, SqlError> {
    let keys: Vec<i64> = targets.iter().filter(|t| t.delete).map(|t| t.key).collect();
    let mut edited = HashSet::new();
    if keys.is_empty() {
        return Ok(edited);
    }
    let head = format!(
        "SELECT {} FROM {} WHERE user_editcount > 0 AND user_id IN ",
        ap.int("user_id"),
        ap.wiki.table("user")
    );
    ap.select_in(
        &head,
        &keys,
        |key| Value::int(*key),
        &[ReadAs::Int],
        "cannot read edit counts",
        |row| {
            if let Some(key) = row.first().and_then(Value::as_int) {
                edited.insert(key);
            }
        },
    )?;
    Ok(edited)
}

/// Blocks, ends sessions, leaves managed groups; the mapping becomes gone.
fn disable(ap: &mut Applier<'_, '_>, targets: Vec<Target>) -> Result<(), SqlError> {
    if targets.is_empty() {
        return Ok(());
    }
    let keys: Vec<i64> = targets.iter().map(|t| t.key).collect();
    let blocks = blocks_of(ap, &keys)?;
    let mut to_block = Vec::new();
    let mut sessions = Vec::new();
    for target in &targets {
        if blocks.contains_key(&target.key) {
            sessions.push(target.key);
        } else {
            to_block.push((target.key, target.name.clone()));
        }
        ap.report.counts.disabled += 1;
        let name = target.name.clone();
        ap.change(|| PlannedChange::Disable {
            id: target.id,
            name,
        });
        ap.set_mapping(Mapping {
            id: target.id,
            kind: EntryKind::User,
            row_key: Some(target.key),
            state: MappingState::Gone,
        });
    }
    block(ap, &to_block)?;
    end_sessions(ap, &sessions)?;
    leave_managed_groups(ap, &keys)
}

/// Removes these accounts from every managed wiki group.
fn leave_managed_groups(ap: &mut Applier<'_, '_>, keys: &[i64]) -> Result<(), SqlError> {
    let head = format!(
        "SELECT {}, {} FROM {} WHERE ug_user IN ",
        ap.int("ug_user"),
        ap.text("ug_group"),
        ap.wiki.table("user_groups")
    );
    let mut rows: Vec<(i64, String)> = Vec::new();
    ap.select_in(
        &head,
        keys,
        |key| Value::int(*key),
        &[ReadAs::Int, ReadAs::Text],
        "cannot read user_groups",
        |row| {
            let user = row.first().and_then(Value::as_int);
            let group = row.get(1).and_then(Value::as_text).map(str::to_owned);
            if let (Some(user), Some(group)) = (user, group) {
                rows.push((user, group));
            }
        },
    )?;
    let mut by_group: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for (user, group) in rows {
        if ap.config.manages(&group) {
            by_group.entry(group).or_default().push(user);
        }
    }
    for (group, users) in by_group {
        crate::groups::remove_rows(ap, &group, &users)?;
    }
    Ok(())
}

/// Deletes accounts without history, like `removeUnusedAccounts.php --delete`.
fn delete(ap: &mut Applier<'_, '_>, targets: Vec<Target>) -> Result<(), SqlError> {
    if targets.is_empty() {
        return Ok(());
    }
    let keys: Vec<i64> = targets.iter().map(|t| t.key).collect();
    let actors: Vec<i64> = targets.iter().filter_map(|t| t.actor).collect();
    let wiki = ap.wiki;
    // Blocks on these accounts (and their autoblocks, restrictions).
    let blocks: Vec<(i64, i64)> = blocks_of(ap, &keys)?
        .iter()
        .map(|(user, b)| (*user, b.id))
        .collect();
    unblock(ap, &blocks)?;
    let removed = ap.exec_in(
        &format!(
            "DELETE FROM {} WHERE ug_user IN ",
            wiki.table("user_groups")
        ),
        &keys,
        "cannot delete from user_groups",
    )?;
    ap.report.counts.members_removed += u64::try_from(removed).unwrap_or(0);
    for (table, column) in [
        ("user_former_groups", "ufg_user"),
        ("user_properties", "up_user"),
    ] {
        ap.exec_in(
            &format!("DELETE FROM {} WHERE {column} IN ", wiki.table(table)),
            &keys,
            &format!("cannot delete from `{}`", wiki.display(table)),
        )?;
    }
    for (table, column) in [("logging", "log_actor"), ("recentchanges", "rc_actor")] {
        ap.exec_in(
            &format!("DELETE FROM {} WHERE {column} IN ", wiki.table(table)),
            &actors,
            &format!("cannot delete from `{}`", wiki.display(table)),
        )?;
    }
    // Actors that blocked someone stay (without their user), as MediaWiki keeps them.
    let mut keep = HashSet::new();
    let head = format!(
        "SELECT DISTINCT {} FROM {} WHERE ipb_by_actor IN ",
        ap.int("ipb_by_actor"),
        wiki.table("ipblocks")
    );
    ap.select_in(
        &head,
        &actors,
        |actor| Value::int(*actor),
        &[ReadAs::Int],
        "cannot read blockers",
        |row| {
            if let Some(actor) = row.first().and_then(Value::as_int) {
                keep.insert(actor);
            }
        },
    )?;
    let (kept, gone): (Vec<i64>, Vec<i64>) = actors.iter().partition(|a| keep.contains(*a));
    ap.exec_in(
        &format!("DELETE FROM {} WHERE actor_id IN ", wiki.table("actor")),
        &gone,
        "cannot delete actors",
    )?;
    ap.exec_in(
        &format!(
            "UPDATE {} SET actor_user = NULL WHERE actor_id IN ",
            wiki.table("actor")
        ),
        &kept,
        "cannot detach actors",
    )?;
    let deleted = ap.exec_in(
        &format!("DELETE FROM {} WHERE user_id IN ", wiki.table("user")),
        &keys,
        "cannot delete users",
    )?;
    ap.users_delta -= i64::try_from(deleted).unwrap_or(0);
    for target in targets {
        ap.report.counts.deleted += 1;
        ap.change(|| PlannedChange::Delete {
            id: target.id,
            name: target.name.clone(),
        });
        ap.forget_mapping(target.id);
    }
    Ok(())
}
