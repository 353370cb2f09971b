//! User upserts: each entry's wiki account is found (mapping, then adoption by name),
//! compared, and only what differs is written: `user` and `actor` rows, renames (user, actor,
//! block target), real name and email, blocks for disabled accounts.

use std::collections::{HashMap, HashSet};

use idsync_core::{Entry, EntryId, EntryKind, MatchPolicy, PlannedChange};
use idsync_sql::{Mapping, MappingState, ReadAs, SqlBuilder, SqlError, Value};

use crate::blocks::{block, blocks_of, end_sessions, unblock, Block};
use crate::context::Applier;
use crate::values::new_token;
use crate::wiki::Cell;

/// Longest `user_real_name` and `user_email`, in bytes.
const MAX_FIELD_BYTES: usize = 255;

/// What an entry's account should hold.
struct Wanted<'e> {
    entry: &'e Entry,
    name: String,
    real_name: String,
    email: String,
}

/// An account as it is in the wiki.
#[derive(Clone, Debug)]
struct Row {
    name: String,
    real_name: String,
    email: String,
    actor: Option<i64>,
}

/// An entry with its account.
struct Existing<'e> {
    wanted: Wanted<'e>,
    key: i64,
    row: Row,
    /// The mapping state before this batch (`None`: adopted now).
    previous: Option<MappingState>,
}

fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_owned()
}

fn attribute(entry: &Entry, name: Option<&String>) -> String {
    name.filter(|name| !name.is_empty())
        .and_then(|name| entry.attr(name))
        .unwrap_or_default()
        .to_owned()
}

impl Applier<'_, '_> {
    fn wanted<'e>(&self, entry: &'e Entry) -> Result<Wanted<'e>, String> {
        let raw = match self.config.name_attribute.as_deref() {
            Some(attr) if !attr.is_empty() => entry
                .attr(attr)
                .ok_or_else(|| format!("has no `{attr}` attribute (name_attribute)"))?,
            _ => entry.name.as_str(),
        };
        let name = self.rules.canonical(raw).map_err(|error| {
            format!("MediaWiki would refuse the user name `{raw}`: {}", error.0)
        })?;
        if name == self.config.blocker {
            return Err(format!("`{name}` is the blocker system user of this sink"));
        }
        let email = attribute(entry, self.config.email_attribute.as_ref());
        if email.len() > MAX_FIELD_BYTES {
            return Err(format!(
                "the email address is longer than {MAX_FIELD_BYTES} bytes"
            ));
        }
        let real_name = truncate_bytes(
            &attribute(entry, self.config.real_name_attribute.as_ref()),
            MAX_FIELD_BYTES,
        );
        Ok(Wanted {
            entry,
            name,
            real_name,
            email,
        })
    }

    /// Reads accounts by `user_id`.
    fn load_users(&mut self, keys: &[i64]) -> Result<HashMap<i64, Row>, SqlError> {
        let head = format!(
            "SELECT {}, {}, {}, {}, {} FROM {} u LEFT JOIN {} a ON a.actor_user = u.user_id WHERE u.user_id IN ",
            self.int("u.user_id"),
            self.text("u.user_name"),
            self.text("u.user_real_name"),
            self.text("u.user_email"),
            self.int("a.actor_id"),
            self.wiki.table("user"),
            self.wiki.table("actor"),
        );
        let mut rows = HashMap::with_capacity(keys.len());
        self.select_in(
            &head,
            keys,
            |key| Value::int(*key),
            &[
                ReadAs::Int,
                ReadAs::Text,
                ReadAs::Text,
                ReadAs::Text,
                ReadAs::Int,
            ],
            "cannot read users",
            |row| {
                let mut values = row.drain(..);
                let key = values.next().and_then(|value| value.as_int());
                let name = values.next().and_then(Value::into_text).unwrap_or_default();
                let real_name = values.next().and_then(Value::into_text).unwrap_or_default();
                let email = values.next().and_then(Value::into_text).unwrap_or_default();
                let actor = values.next().and_then(|value| value.as_int());
                if let Some(key) = key {
                    rows.insert(
                        key,
                        Row {
                            name,
                            real_name,
                            email,
                            actor,
                        },
                    );
                }
            },
        )?;
        Ok(rows)
    }

    /// `user_name` → `user_id` for these names.
    fn users_named(&mut self, names: &[String]) -> Result<HashMap<String, i64>, SqlError> {
        let head = format!(
            "SELECT {}, {} FROM {} WHERE user_name IN ",
            self.int("user_id"),
            self.text("user_name"),
            self.wiki.table("user")
        );
        let mut found = HashMap::with_capacity(names.len());
        self.select_in(
            &head,
            names,
            |name| Value::text(name.clone()),
            &[ReadAs::Int, ReadAs::Text],
            "cannot look up user names",
            |row| {
                let key = row.first().and_then(Value::as_int);
                let name = row.get(1).and_then(Value::as_text).map(str::to_owned);
                if let (Some(key), Some(name)) = (key, name) {
                    found.insert(name, key);
                }
            },
        )?;
        Ok(found)
    }

    /// `actor_name` → (`actor_id`, `actor_user` of an existing user or `None`).
    fn actors_named(
        &mut self,
        names: &[String],
    ) -> Result<HashMap<String, (i64, Option<i64>)>, SqlError> {
        let head = format!(
            "SELECT {}, {}, {} FROM {} a LEFT JOIN {} u ON u.user_id = a.actor_user WHERE a.actor_name IN ",
            self.int("a.actor_id"),
            self.text("a.actor_name"),
            self.int("u.user_id"),
            self.wiki.table("actor"),
            self.wiki.table("user"),
        );
        let mut found = HashMap::new();
        self.select_in(
            &head,
            names,
            |name| Value::text(name.clone()),
            &[ReadAs::Int, ReadAs::Text, ReadAs::Int],
            "cannot look up actor names",
            |row| {
                let actor = row.first().and_then(Value::as_int);
                let name = row.get(1).and_then(Value::as_text).map(str::to_owned);
                let user = row.get(2).and_then(Value::as_int);
                if let (Some(actor), Some(name)) = (actor, name) {
                    found.insert(name, (actor, user));
                }
            },
        )?;
        Ok(found)
    }
}

/// Upserts users.
pub fn upsert_users(ap: &mut Applier<'_, '_>, entries: &[&Entry]) -> Result<(), SqlError> {
    let mut mapped = Vec::new();
    let mut unmapped = Vec::new();
    for entry in entries {
        if let Some(mapping) = ap.index.get(&entry.id) {
            if mapping.kind != EntryKind::User {
                let reason = format!(
                    "entry is recorded as a {} and now arrives as a user",
                    mapping.kind
                );
                ap.refuse(entry, reason);
                continue;
            }
        }
        let wanted = match ap.wanted(entry) {
            Ok(wanted) => wanted,
            Err(reason) => {
                ap.refuse(entry, reason);
                continue;
            }
        };
        match ap
            .index
            .get(&entry.id)
            .and_then(|m| m.row_key.map(|key| (key, m.state)))
        {
            Some((key, state)) => mapped.push((wanted, key, state)),
            None => unmapped.push(wanted),
        }
    }
    let keys: Vec<i64> = mapped.iter().map(|(_, key, _)| *key).collect();
    let mut rows = ap.load_users(&keys)?;
    let mut existing = Vec::with_capacity(mapped.len());
    for (wanted, key, state) in mapped {
        match rows.remove(&key) {
            Some(row) => existing.push(Existing {
                wanted,
                key,
                row,
                previous: Some(state),
            }),
            // The account was deleted behind our back: create it again.
            None => unmapped.push(wanted),
        }
    }
    let (adopted, creates) = place_unmapped(ap, unmapped, &existing)?;
    existing.extend(adopted);
    update_existing(ap, existing)?;
    create_users(ap, creates)
}

/// Splits entries without an account into adoptions and creations.
fn place_unmapped<'e>(
    ap: &mut Applier<'_, '_>,
    unmapped: Vec<Wanted<'e>>,
    existing: &[Existing<'_>],
) -> Result<(Vec<Existing<'e>>, Vec<Wanted<'e>>), SqlError> {
    let mut seen: HashMap<String, EntryId> = existing
        .iter()
        .map(|e| (e.wanted.name.clone(), e.wanted.entry.id))
        .collect();
    let mut candidates = Vec::with_capacity(unmapped.len());
    for wanted in unmapped {
        if let Some(first) = seen.get(&wanted.name) {
            let reason = format!(
                "the wiki name `{}` is also wanted by entry {first} in the same batch",
                wanted.name
            );
            ap.refuse(wanted.entry, reason);
            continue;
        }
        seen.insert(wanted.name.clone(), wanted.entry.id);
        candidates.push(wanted);
    }
    if candidates.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let names: Vec<String> = candidates.iter().map(|w| w.name.clone()).collect();
    let taken = ap.users_named(&names)?;
    let mut adopt = Vec::new();
    let mut creates = Vec::new();
    for wanted in candidates {
        match taken.get(&wanted.name).copied() {
            None => creates.push(wanted),
            Some(key) => match ap.index.owner(EntryKind::User, key) {
                Some(owner) if owner != wanted.entry.id => {
                    let reason = format!(
                        "the wiki account `{}` belongs to entry {owner}",
                        wanted.name
                    );
                    ap.refuse(wanted.entry, reason);
                }
                _ if ap.policy.match_by == MatchPolicy::Id => {
                    let reason = format!(
                        "the wiki account `{}` exists and is not managed by idsync (match = \"id\")",
                        wanted.name
                    );
                    ap.refuse(wanted.entry, reason);
                }
                _ => adopt.push((wanted, key)),
            },
        }
    }
    let keys: Vec<i64> = adopt.iter().map(|(_, key)| *key).collect();
    let mut rows = ap.load_users(&keys)?;
    let adopted = adopt
        .into_iter()
        .filter_map(|(wanted, key)| {
            rows.remove(&key).map(|row| Existing {
                wanted,
                key,
                row,
                previous: None,
            })
        })
        .collect();
    Ok((adopted, creates))
}

/// Writes what differs on existing accounts, renames in a safe order.
fn update_existing(ap: &mut Applier<'_, '_>, existing: Vec<Existing<'_>>) -> Result<(), SqlError> {
    if existing.is_empty() {
        return Ok(());
    }
    // Only these accounts can have a block that matters: disabled ones (blocked or to be
    // blocked), ones coming back or adopted, and ones that may carry a block of the sink
    // (to lift). An enabled account outside `maybe_blocked` has no block of the sink.
    let keys: Vec<i64> = existing
        .iter()
        .filter(|e| {
            !e.wanted.entry.enabled
                || e.previous != Some(MappingState::Live)
                || ap.maybe_blocked.contains(&e.key)
        })
        .map(|e| e.key)
        .collect();
    let blocks = blocks_of(ap, &keys)?;
    let existing = order_renames(ap, existing)?;
    let mut to_block = Vec::new();
    let mut to_unblock = Vec::new();
    let mut new_sessions_end = Vec::new();
    for item in existing {
        let entry = item.wanted.entry;
        let key = item.key;
        let mut changed = false;
        if item.previous.is_none() {
            ap.report.counts.adopted += 1;
            ap.change(|| PlannedChange::Adopt {
                id: entry.id,
                kind: EntryKind::User,
                name: item.wanted.name.clone(),
            });
        }
        if item.row.actor.is_none() {
            // A user row without an actor is invisible to MediaWiki: repair it.
            ap.wiki.insert(
                ap.session,
                "actor",
                &["actor_user", "actor_name"],
                vec![vec![Cell::int(key), Cell::text(item.wanted.name.clone())]],
                "",
                1,
            )?;
            changed = true;
        }
        if item.row.name != item.wanted.name {
            rename(ap, key, &item.row.name, &item.wanted.name)?;
            ap.report.counts.renamed += 1;
            let from = item.row.name.clone();
            ap.change(|| PlannedChange::Rename {
                id: entry.id,
                from,
                to: item.wanted.name.clone(),
            });
            changed = true;
        }
        let mut fields = Vec::new();
        if item.row.real_name != item.wanted.real_name {
            fields.push((
                "user_real_name".to_owned(),
                Some(item.row.real_name.clone()),
                Some(item.wanted.real_name.clone()),
            ));
        }
        if item.row.email != item.wanted.email {
            fields.push((
                "user_email".to_owned(),
                Some(item.row.email.clone()),
                Some(item.wanted.email.clone()),
            ));
        }
        if !fields.is_empty() {
            update_fields(ap, key, &item.wanted, item.row.email != item.wanted.email)?;
            ap.report.counts.updated += 1;
            let name = item.wanted.name.clone();
            ap.change(|| PlannedChange::Update {
                id: entry.id,
                name,
                fields,
            });
            changed = true;
        }
        let current: Option<Block> = blocks.get(&key).copied();
        let revived = item.previous == Some(MappingState::Gone);
        if entry.enabled {
            if let Some(block) = current.filter(|block| block.ours) {
                to_unblock.push((key, block.id));
                ap.report.counts.enabled += 1;
                ap.change(|| PlannedChange::Enable {
                    id: entry.id,
                    name: item.wanted.name.clone(),
                });
                changed = true;
            } else if revived {
                ap.report.counts.enabled += 1;
                ap.change(|| PlannedChange::Enable {
                    id: entry.id,
                    name: item.wanted.name.clone(),
                });
                changed = true;
            }
        } else if current.is_none() {
            to_block.push((key, item.wanted.name.clone()));
            ap.report.counts.disabled += 1;
            ap.change(|| PlannedChange::Disable {
                id: entry.id,
                name: item.wanted.name.clone(),
            });
            changed = true;
        } else if revived {
            // Came back disabled and is still blocked: make sure no session survived.
            new_sessions_end.push(key);
        }
        if !changed && item.previous.is_some() {
            ap.report.counts.unchanged += 1;
        }
        ap.set_mapping(Mapping {
            id: entry.id,
            kind: EntryKind::User,
            row_key: Some(key),
            state: MappingState::Live,
        });
        let was_quarantined = ap.accepted(entry.id);
        if was_quarantined || item.previous != Some(MappingState::Live) {
            ap.newly_live.insert(entry.id);
        }
    }
    unblock(ap, &to_unblock)?;
    block(ap, &to_block)?;
    end_sessions(ap, &new_sessions_end)
}

/// Orders renames so that a name is freed before it is taken; refuses names held by
/// accounts outside this batch, and cycles.
fn order_renames<'e>(
    ap: &mut Applier<'_, '_>,
    existing: Vec<Existing<'e>>,
) -> Result<Vec<Existing<'e>>, SqlError> {
    let (renames, mut ordered): (Vec<Existing<'e>>, Vec<Existing<'e>>) = existing
        .into_iter()
        .partition(|item| item.row.name != item.wanted.name);
    if renames.is_empty() {
        return Ok(ordered);
    }
    let targets: Vec<String> = renames.iter().map(|r| r.wanted.name.clone()).collect();
    let user_holders = ap.users_named(&targets)?;
    let actor_holders = ap.actors_named(&targets)?;
    // Names freed by renames of this batch: old name → the account giving it up.
    let mut renaming: HashMap<String, i64> = renames
        .iter()
        .map(|r| (r.row.name.clone(), r.key))
        .collect();
    let mut pending = Vec::new();
    for item in renames {
        let target = &item.wanted.name;
        let held_by_user = user_holders.get(target).copied().filter(|k| *k != item.key);
        let held_by_actor = actor_holders
            .get(target)
            .filter(|(_, user)| *user != Some(item.key))
            .copied();
        let blocked = match (held_by_user, held_by_actor) {
            (Some(holder), _) if renaming.get(target) == Some(&holder) => None,
            (Some(_), _) => Some(format!(
                "cannot rename to `{target}`: another wiki account has that name"
            )),
            (None, Some((_, Some(holder)))) if renaming.get(target) == Some(&holder) => None,
            (None, Some((actor, _))) => Some(format!(
                "cannot rename to `{target}`: the name belongs to actor {actor} (an imported or anonymous actor)"
            )),
            (None, None) => None,
        };
        match blocked {
            Some(reason) => {
                renaming.remove(&item.row.name);
                ap.refuse(item.wanted.entry, reason);
            }
            None => pending.push(item),
        }
    }
    // Free names before taking them: repeatedly apply renames whose target is free now.
    let mut taken: HashSet<String> = pending.iter().map(|r| r.row.name.clone()).collect();
    let mut done = Vec::new();
    loop {
        let before = pending.len();
        let mut waiting = Vec::new();
        for item in pending {
            if taken.contains(&item.wanted.name) {
                waiting.push(item);
            } else {
                taken.remove(&item.row.name);
                taken.insert(item.wanted.name.clone());
                done.push(item);
            }
        }
        if waiting.is_empty() || waiting.len() == before {
            for item in waiting {
                let reason = format!(
                    "cannot rename to `{}`: the renames in this batch form a cycle",
                    item.wanted.name
                );
                ap.refuse(item.wanted.entry, reason);
            }
            break;
        }
        pending = waiting;
    }
    done.append(&mut ordered);
    Ok(done)
}

/// Renames an account: `user`, `actor` and the target of its blocks; sessions end.
fn rename(ap: &mut Applier<'_, '_>, key: i64, old: &str, new: &str) -> Result<(), SqlError> {
    let wiki = ap.wiki;
    let mut sql = SqlBuilder::new(wiki.dialect());
    sql.sql("UPDATE ")
        .sql(&wiki.table("user"))
        .sql(" SET user_name = ")
        .param(Value::text(new))
        .sql(", user_token = ")
        .param(Value::text(new_token()))
        .sql(", user_touched = ");
    wiki.push(&mut sql, wiki.time(&ap.now));
    sql.sql(" WHERE user_id = ").param(Value::int(key));
    ap.exec(&sql.build_cached(), "cannot rename a user")?;
    let mut sql = SqlBuilder::new(wiki.dialect());
    sql.sql("UPDATE ")
        .sql(&wiki.table("actor"))
        .sql(" SET actor_name = ")
        .param(Value::text(new))
        .sql(" WHERE actor_user = ")
        .param(Value::int(key));
    ap.exec(&sql.build_cached(), "cannot rename an actor")?;
    let mut sql = SqlBuilder::new(wiki.dialect());
    sql.sql("UPDATE ")
        .sql(&wiki.table("ipblocks"))
        .sql(" SET ipb_address = ")
        .param(Value::text(new))
        .sql(" WHERE ipb_user = ")
        .param(Value::int(key))
        .sql(" AND ipb_address = ")
        .param(Value::text(old));
    ap.exec(&sql.build_cached(), "cannot move a block to the new name")?;
    Ok(())
}

fn update_fields(
    ap: &mut Applier<'_, '_>,
    key: i64,
    wanted: &Wanted<'_>,
    email_changed: bool,
) -> Result<(), SqlError> {
    let wiki = ap.wiki;
    let mut sql = SqlBuilder::new(wiki.dialect());
    sql.sql("UPDATE ")
        .sql(&wiki.table("user"))
        .sql(" SET user_real_name = ")
        .param(Value::text(wanted.real_name.clone()))
        .sql(", user_email = ")
        .param(Value::text(wanted.email.clone()))
        .sql(", user_touched = ");
    wiki.push(&mut sql, wiki.time(&ap.now));
    if email_changed {
        sql.sql(", user_email_authenticated = ");
        wiki.push(&mut sql, email_authenticated(ap, &wanted.email));
        sql.sql(", user_email_token = NULL, user_email_token_expires = NULL");
    }
    sql.sql(" WHERE user_id = ").param(Value::int(key));
    ap.exec(&sql.build_cached(), "cannot update a user")?;
    Ok(())
}

fn email_authenticated(ap: &Applier<'_, '_>, email: &str) -> Cell {
    if ap.config.confirm_email && !email.is_empty() {
        ap.wiki.time(&ap.now)
    } else {
        Cell::no_time()
    }
}

/// Creates accounts: `user` rows in multi-row statements, then their actors (claiming an
/// actor row that already holds the name without a user), then blocks for disabled ones.
fn create_users(ap: &mut Applier<'_, '_>, creates: Vec<Wanted<'_>>) -> Result<(), SqlError> {
    if creates.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = creates.iter().map(|w| w.name.clone()).collect();
    let actors = ap.actors_named(&names)?;
    let mut ready = Vec::with_capacity(creates.len());
    for wanted in creates {
        match actors.get(&wanted.name) {
            Some((actor, Some(user))) => {
                let reason = format!(
                    "the name `{}` is held by actor {actor} of user {user}",
                    wanted.name
                );
                ap.refuse(wanted.entry, reason);
            }
            _ => ready.push(wanted),
        }
    }
    let wiki = ap.wiki;
    let now = wiki.time(&ap.now);
    let rows = ready
        .iter()
        .map(|wanted| {
            vec![
                Cell::text(wanted.name.clone()),
                Cell::text(wanted.real_name.clone()),
                Cell::text(""),
                Cell::text(""),
                Cell::text(wanted.email.clone()),
                email_authenticated(ap, &wanted.email),
                now.clone(),
                Cell::text(new_token()),
                now.clone(),
                Cell::int(0),
            ]
        })
        .collect();
    let columns = [
        "user_name",
        "user_real_name",
        "user_password",
        "user_newpassword",
        "user_email",
        "user_email_authenticated",
        "user_touched",
        "user_token",
        "user_registration",
        "user_editcount",
    ];
    let keys = if wiki.dialect().supports_returning() {
        // The new ids come back with the insert (SQLite, PostgreSQL).
        let returning = format!("{}, {}", ap.int("user_id"), ap.text("user_name"));
        let mut keys = HashMap::with_capacity(ready.len());
        wiki.insert_returning(
            ap.session,
            "user",
            &columns,
            rows,
            &returning,
            &[ReadAs::Int, ReadAs::Text],
            ap.config.batch_rows,
            |row| {
                let name = row.pop().and_then(Value::into_text);
                let key = row.first().and_then(Value::as_int);
                if let (Some(key), Some(name)) = (key, name) {
                    keys.insert(name, key);
                }
            },
        )?;
        keys
    } else {
        wiki.insert(ap.session, "user", &columns, rows, "", ap.config.batch_rows)?;
        let names: Vec<String> = ready.iter().map(|w| w.name.clone()).collect();
        ap.users_named(&names)?
    };
    let mut claims = Vec::new();
    let mut new_actors = Vec::new();
    let mut to_block = Vec::new();
    for wanted in &ready {
        let Some(key) = keys.get(&wanted.name).copied() else {
            return Err(SqlError::Corrupt {
                table: wiki.display("user"),
                column: "user_name".to_owned(),
                value: wanted.name.clone(),
            });
        };
        match actors.get(&wanted.name) {
            Some((actor, None)) => claims.push((*actor, key)),
            _ => new_actors.push(vec![Cell::int(key), Cell::text(wanted.name.clone())]),
        }
        if !wanted.entry.enabled {
            to_block.push((key, wanted.name.clone()));
        }
        let entry = wanted.entry;
        ap.report.counts.created += 1;
        if ap.record {
            let fields = vec![
                ("user_real_name".to_owned(), wanted.real_name.clone()),
                ("user_email".to_owned(), wanted.email.clone()),
            ];
            ap.change(|| PlannedChange::Create {
                id: entry.id,
                kind: EntryKind::User,
                name: wanted.name.clone(),
                fields,
            });
        }
        ap.set_mapping(Mapping {
            id: entry.id,
            kind: EntryKind::User,
            row_key: Some(key),
            state: MappingState::Live,
        });
        ap.accepted(entry.id);
        ap.newly_live.insert(entry.id);
    }
    ap.users_delta += i64::try_from(ready.len()).unwrap_or(0);
    wiki.insert(
        ap.session,
        "actor",
        &["actor_user", "actor_name"],
        new_actors,
        "",
        ap.config.batch_rows,
    )?;
    for (actor, user) in claims {
        let mut sql = SqlBuilder::new(wiki.dialect());
        sql.sql("UPDATE ")
            .sql(&wiki.table("actor"))
            .sql(" SET actor_user = ")
            .param(Value::int(user))
            .sql(" WHERE actor_id = ")
            .param(Value::int(actor));
        ap.exec(&sql.build_cached(), "cannot give an actor to a new user")?;
    }
    block(ap, &to_block)
}
