//! Groups: directory groups feed wiki groups (`user_groups` rows) through the configured
//! mapping. A wiki group's members are the union of its directory groups' (effective) member
//! sets; only managed wiki groups and only accounts the sink manages are ever touched.
//! Removing a membership also records it in `user_former_groups`, as MediaWiki does.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use foldhash::{HashMap, HashMapExt};
use idsync_core::{Entry, EntryId, EntryKind, GroupMembers, PlannedChange};
use idsync_sql::{diff_sorted, Mapping, MappingState, ReadAs, SqlBuilder, SqlError, Value};

use crate::context::{Applier, LOOKUP_CHUNK};
use crate::store::GroupRecord;
use crate::wiki::Cell;

/// Upserts directory groups (no wiki rows: a name and a mapping).
pub fn upsert_groups(ap: &mut Applier<'_, '_>, entries: &[&Entry]) {
    for entry in entries {
        let previous = ap.index.get(&entry.id).cloned();
        if let Some(mapping) = &previous {
            if mapping.kind != EntryKind::Group {
                let reason = format!(
                    "entry is recorded as a {} and now arrives as a group",
                    mapping.kind
                );
                ap.refuse(entry, reason);
                continue;
            }
        }
        let wiki = ap.config.wiki_group(&entry.name);
        let stored = ap.groups.get(&entry.id).cloned();
        match (&previous, &stored) {
            (Some(mapping), Some(record)) => {
                let mut changed = false;
                if record.name != entry.name {
                    ap.report.counts.renamed += 1;
                    let from = record.name.clone();
                    ap.change(|| PlannedChange::Rename {
                        id: entry.id,
                        from,
                        to: entry.name.clone(),
                    });
                    changed = true;
                }
                if mapping.state == MappingState::Gone {
                    ap.report.counts.enabled += 1;
                    ap.change(|| PlannedChange::Enable {
                        id: entry.id,
                        name: entry.name.clone(),
                    });
                    changed = true;
                }
                if changed || record.wiki != wiki {
                    mark(ap, record.wiki.as_deref());
                    mark(ap, wiki.as_deref());
                    ap.groups.set(
                        entry.id,
                        GroupRecord {
                            name: entry.name.clone(),
                            wiki,
                            members: record.members.clone(),
                        },
                    );
                }
                if !changed {
                    ap.report.counts.unchanged += 1;
                }
            }
            _ => {
                ap.report.counts.created += 1;
                ap.change(|| PlannedChange::Create {
                    id: entry.id,
                    kind: EntryKind::Group,
                    name: entry.name.clone(),
                    fields: wiki
                        .iter()
                        .map(|wiki| ("wiki_group".to_owned(), wiki.clone()))
                        .collect(),
                });
                let members = stored.map(|record| record.members).unwrap_or_default();
                if !members.is_empty() {
                    mark(ap, wiki.as_deref());
                }
                ap.groups.set(
                    entry.id,
                    GroupRecord {
                        name: entry.name.clone(),
                        wiki,
                        members,
                    },
                );
            }
        }
        ap.set_mapping(Mapping {
            id: entry.id,
            kind: EntryKind::Group,
            row_key: None,
            state: MappingState::Live,
        });
        ap.accepted(entry.id);
    }
}

fn mark(ap: &mut Applier<'_, '_>, wiki: Option<&str>) {
    if let Some(wiki) = wiki {
        ap.dirty_wiki.insert(wiki.to_owned());
    }
}

/// Stores new member sets; the wiki groups they feed become dirty.
pub fn set_members(ap: &mut Applier<'_, '_>, sets: &[GroupMembers]) {
    for set in sets {
        let live = ap
            .index
            .get(&set.group)
            .is_some_and(|m| m.kind == EntryKind::Group && m.state == MappingState::Live);
        if !live {
            continue;
        }
        let Some(record) = ap.groups.get(&set.group) else {
            continue;
        };
        if record.members == set.members {
            continue;
        }
        let wiki = record.wiki.clone();
        let name = record.name.clone();
        mark(ap, wiki.as_deref());
        ap.groups.set(
            set.group,
            GroupRecord {
                name,
                wiki,
                members: set.members.clone(),
            },
        );
    }
}

/// A directory group left the view: it feeds nothing any more.
pub fn remove_group(ap: &mut Applier<'_, '_>, id: EntryId, delete: bool) {
    let name = ap
        .groups
        .get(&id)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    if let Some(record) = ap.groups.remove(&id) {
        mark(ap, record.wiki.as_deref());
    }
    if delete {
        ap.report.counts.deleted += 1;
        ap.change(|| PlannedChange::Delete { id, name });
        ap.forget_mapping(id);
    } else {
        ap.report.counts.disabled += 1;
        ap.change(|| PlannedChange::Disable { id, name });
        ap.set_mapping(Mapping {
            id,
            kind: EntryKind::Group,
            row_key: None,
            state: MappingState::Gone,
        });
    }
}

/// Marks dirty the wiki groups fed by groups that hold users who became live in this batch.
pub fn mark_groups_of_newly_live(ap: &mut Applier<'_, '_>) {
    if ap.newly_live.is_empty() {
        return;
    }
    let total: usize = ap.groups.iter().map(|(_, r)| r.members.len()).sum();
    let probes = ap.newly_live.len().saturating_mul(ap.groups.iter().count());
    let mut dirty = BTreeSet::new();
    for (_, record) in ap.groups.iter() {
        let Some(wiki) = &record.wiki else { continue };
        if dirty.contains(wiki) {
            continue;
        }
        let hit = if probes < total {
            ap.newly_live
                .iter()
                .any(|id| record.members.binary_search(id).is_ok())
        } else {
            record.members.iter().any(|id| ap.newly_live.contains(id))
        };
        if hit {
            dirty.insert(wiki.clone());
        }
    }
    ap.dirty_wiki.extend(dirty);
}

/// Recomputes the dirty wiki groups and writes only the difference.
pub fn sync_wiki_groups(ap: &mut Applier<'_, '_>) -> Result<(), SqlError> {
    let dirty: Vec<String> = std::mem::take(&mut ap.dirty_wiki)
        .into_iter()
        .filter(|wiki| ap.config.manages(wiki))
        .collect();
    if dirty.is_empty() {
        return Ok(());
    }
    // Wanted members (user ids) of each dirty wiki group, and one directory group id per
    // wiki group for the change report.
    let dirty_set: HashSet<&str> = dirty.iter().map(String::as_str).collect();
    let mut wanted: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut reported_as: BTreeMap<String, EntryId> = BTreeMap::new();
    for (id, record) in ap.groups.iter() {
        let Some(wiki) = record.wiki.as_deref() else {
            continue;
        };
        if !dirty_set.contains(wiki) {
            continue;
        }
        let live = ap
            .index
            .get(id)
            .is_some_and(|m| m.state == MappingState::Live);
        if !live {
            continue;
        }
        reported_as.entry(wiki.to_owned()).or_insert(*id);
        let keys = wanted.entry(wiki.to_owned()).or_default();
        keys.extend(
            record
                .members
                .iter()
                .filter_map(|member| ap.index.live_key(member, EntryKind::User)),
        );
    }
    let mut current: HashMap<String, Vec<i64>> = HashMap::with_capacity(dirty.len());
    let head = format!(
        "SELECT {}, {} FROM {} WHERE ug_group IN ",
        ap.text("ug_group"),
        ap.int("ug_user"),
        ap.wiki.table("user_groups")
    );
    let mut read = Vec::new();
    ap.select_in(
        &head,
        &dirty,
        |name| Value::text(name.clone()),
        &[ReadAs::Text, ReadAs::Int],
        "cannot read user_groups",
        |row| {
            let mut values = row.drain(..);
            let group = values.next().and_then(Value::into_text);
            let user = values.next().and_then(|value| value.as_int());
            if let (Some(group), Some(user)) = (group, user) {
                read.push((group, user));
            }
        },
    )?;
    for (group, user) in read {
        // Only accounts the sink manages count; everyone else's groups are left alone.
        if ap.index.owner(EntryKind::User, user).is_some() {
            current.entry(group).or_default().push(user);
        }
    }
    let mut additions: Vec<(i64, String)> = Vec::new();
    let mut removals: Vec<(String, Vec<i64>)> = Vec::new();
    for wiki in &dirty {
        let mut want = wanted.remove(wiki).unwrap_or_default();
        want.sort_unstable();
        want.dedup();
        let mut have = current.remove(wiki).unwrap_or_default();
        have.sort_unstable();
        have.dedup();
        let (added, extra) = diff_sorted(&want, &have);
        let group = reported_as.get(wiki).copied();
        if ap.record {
            if let Some(group) = group {
                for user in &added {
                    if let Some(member) = ap.index.owner(EntryKind::User, *user) {
                        ap.change(|| PlannedChange::AddMember { group, member });
                    }
                }
                for user in &extra {
                    if let Some(member) = ap.index.owner(EntryKind::User, *user) {
                        ap.change(|| PlannedChange::RemoveMember { group, member });
                    }
                }
            }
        }
        additions.extend(added.into_iter().map(|user| (user, wiki.clone())));
        if !extra.is_empty() {
            removals.push((wiki.clone(), extra));
        }
    }
    add_rows(ap, additions)?;
    for (wiki, users) in removals {
        remove_rows(ap, &wiki, &users)?;
    }
    Ok(())
}

fn add_rows(ap: &mut Applier<'_, '_>, mut additions: Vec<(i64, String)>) -> Result<(), SqlError> {
    if additions.is_empty() {
        return Ok(());
    }
    // Primary-key order: the B-tree grows at its end rather than everywhere.
    additions.sort_unstable();
    let count = additions.len();
    let rows = additions
        .into_iter()
        .map(|(user, group)| vec![Cell::int(user), Cell::text(group), Cell::no_time()])
        .collect();
    let wiki = ap.wiki;
    wiki.insert(
        ap.session,
        "user_groups",
        &["ug_user", "ug_group", "ug_expiry"],
        rows,
        "",
        ap.config.batch_rows.max(LOOKUP_CHUNK),
    )?;
    ap.report.counts.members_added += u64::try_from(count).unwrap_or(0);
    Ok(())
}

/// Removes `users` from `group`, recording the former membership.
pub fn remove_rows(ap: &mut Applier<'_, '_>, group: &str, users: &[i64]) -> Result<(), SqlError> {
    let wiki = ap.wiki;
    for chunk in users.chunks(LOOKUP_CHUNK) {
        let mut sql = SqlBuilder::new(wiki.dialect());
        sql.sql("DELETE FROM ")
            .sql(&wiki.table("user_groups"))
            .sql(" WHERE ug_group = ")
            .param(Value::text(group))
            .sql(" AND ug_user IN ")
            .param_list(chunk.iter().map(|user| Value::int(*user)));
        let statement = if crate::context::cacheable(chunk.len(), LOOKUP_CHUNK) {
            sql.build_cached()
        } else {
            sql.build()
        };
        let removed = ap.exec(&statement, "cannot delete from user_groups")?;
        ap.report.counts.members_removed += u64::try_from(removed).unwrap_or(0);
    }
    let rows = users
        .iter()
        .map(|user| vec![Cell::int(*user), Cell::text(group)])
        .collect();
    let tail = wiki.ignore_duplicates(&["ufg_user", "ufg_group"]);
    wiki.insert(
        ap.session,
        "user_former_groups",
        &["ufg_user", "ufg_group"],
        rows,
        &tail,
        ap.config.batch_rows,
    )?;
    Ok(())
}
