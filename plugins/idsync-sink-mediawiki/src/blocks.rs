//! Disabling is an indefinite block, as MediaWiki 1.39 writes it in `ipblocks`, by a system
//! user, with a reason from `comment`; the user's sessions end (new `user_token`). Enabling
//! lifts the blocks the sink made, never anyone else's.

use idsync_sql::{ReadAs, SqlBuilder, SqlError, Value};

use crate::context::{Applier, BlockerCache, BlockerIds};
use crate::values::{comment_hash, new_token, INVALID_TOKEN};
use crate::wiki::Cell;

/// A block on a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// `ipb_id`.
    pub id: i64,
    /// True when the sink's blocker made it.
    pub ours: bool,
}

/// The blocker's actor and the reason's comment, created on first use (like
/// `User::newSystemUser` and `CommentStore::createComment`). Cached for the sink's lifetime;
/// the first block of each batch checks that the cached rows still exist (one statement) and
/// resolves them again when they vanished.
pub fn blocker(ap: &mut Applier<'_, '_>) -> Result<BlockerIds, SqlError> {
    if let Some(ids) = ap.blocker.ids {
        if ap.blocker_checked || still_there(ap, ids)? {
            ap.blocker_checked = true;
            return Ok(ids);
        }
        ap.blocker = BlockerCache::default();
    }
    let actor = match find_blocker(ap)? {
        Some(actor) => actor,
        None => create_blocker(ap)?,
    };
    let comment = comment_id(ap)?;
    let ids = BlockerIds { actor, comment };
    ap.blocker = BlockerCache {
        ids: Some(ids),
        actor: Some(Some(actor)),
    };
    ap.blocker_checked = true;
    Ok(ids)
}

/// True when the blocker's user still holds the cached actor and the reason's comment row
/// still exists.
fn still_there(ap: &mut Applier<'_, '_>, ids: BlockerIds) -> Result<bool, SqlError> {
    let wiki = ap.wiki;
    let mut sql = SqlBuilder::new(wiki.dialect());
    sql.sql("SELECT ")
        .sql(&ap.int("COUNT(*)"))
        .sql(" FROM ")
        .sql(&wiki.table("actor"))
        .sql(" a JOIN ")
        .sql(&wiki.table("user"))
        .sql(" u ON u.user_id = a.actor_user JOIN ")
        .sql(&wiki.table("comment"))
        .sql(" c ON c.comment_id = ")
        .param(Value::int(ids.comment))
        .sql(" WHERE a.actor_id = ")
        .param(Value::int(ids.actor))
        .sql(" AND u.user_name = ")
        .param(Value::text(ap.config.blocker.clone()));
    let rows = ap
        .session
        .load(&sql.build_cached(), &[ReadAs::Int])
        .map_err(|source| SqlError::query("cannot check the blocker", source))?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| row.first().and_then(Value::as_int))
        .is_some_and(|count| count > 0))
}

/// The blocker's actor for telling the sink's blocks from others': cached for the sink's
/// lifetime (also when the blocker does not exist yet).
fn our_actor(ap: &mut Applier<'_, '_>) -> Result<Option<i64>, SqlError> {
    if let Some(ids) = ap.blocker.ids {
        return Ok(Some(ids.actor));
    }
    if let Some(actor) = ap.blocker.actor {
        return Ok(actor);
    }
    let actor = find_blocker(ap)?;
    ap.blocker.actor = Some(actor);
    Ok(actor)
}

/// The blocker's actor id, if the blocker exists with an actor row (read-only).
pub fn find_blocker(ap: &mut Applier<'_, '_>) -> Result<Option<i64>, SqlError> {
    let name = ap.config.blocker.clone();
    let wiki = ap.wiki;
    let mut sql = SqlBuilder::new(wiki.dialect());
    sql.sql("SELECT ")
        .sql(&ap.int("u.user_id"))
        .sql(", ")
        .sql(&ap.int("a.actor_id"))
        .sql(" FROM ")
        .sql(&wiki.table("user"))
        .sql(" u LEFT JOIN ")
        .sql(&wiki.table("actor"))
        .sql(" a ON a.actor_user = u.user_id WHERE u.user_name = ")
        .param(Value::text(name.clone()));
    let rows = ap
        .session
        .load(&sql.build_cached(), &[ReadAs::Int, ReadAs::Int])
        .map_err(|source| SqlError::query("cannot look up the blocker", source))?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let user = row.first().and_then(Value::as_int);
    let actor = row.get(1).and_then(Value::as_int);
    match (user, actor) {
        (_, Some(actor)) => Ok(Some(actor)),
        (Some(user), None) => insert_actor(ap, user, &name).map(Some),
        (None, None) => Ok(None),
    }
}

fn create_blocker(ap: &mut Applier<'_, '_>) -> Result<i64, SqlError> {
    let name = ap.config.blocker.clone();
    let wiki = ap.wiki;
    let now = wiki.time(&ap.now);
    wiki.insert(
        ap.session,
        "user",
        &[
            "user_name",
            "user_real_name",
            "user_password",
            "user_newpassword",
            "user_email",
            "user_touched",
            "user_token",
            "user_registration",
            "user_editcount",
        ],
        vec![vec![
            Cell::text(name.clone()),
            Cell::text(""),
            Cell::text(""),
            Cell::text(""),
            Cell::text(""),
            now.clone(),
            Cell::text(INVALID_TOKEN),
            now,
            Cell::int(0),
        ]],
        "",
        1,
    )?;
    let user = user_id_by_name(ap, &name)?;
    ap.users_delta += 1;
    insert_actor(ap, user, &name)
}

fn user_id_by_name(ap: &mut Applier<'_, '_>, name: &str) -> Result<i64, SqlError> {
    let mut sql = SqlBuilder::new(ap.wiki.dialect());
    sql.sql("SELECT ")
        .sql(&ap.int("user_id"))
        .sql(" FROM ")
        .sql(&ap.wiki.table("user"))
        .sql(" WHERE user_name = ")
        .param(Value::text(name));
    let rows = ap
        .session
        .load(&sql.build_cached(), &[ReadAs::Int])
        .map_err(|source| SqlError::query("cannot read back a new user", source))?;
    rows.into_iter()
        .next()
        .and_then(|row| row.first().and_then(Value::as_int))
        .ok_or_else(|| SqlError::Corrupt {
            table: ap.wiki.display("user"),
            column: "user_name".to_owned(),
            value: name.to_owned(),
        })
}

/// Inserts an actor row for a user and returns its id.
fn insert_actor(ap: &mut Applier<'_, '_>, user: i64, name: &str) -> Result<i64, SqlError> {
    ap.wiki.insert(
        ap.session,
        "actor",
        &["actor_user", "actor_name"],
        vec![vec![Cell::int(user), Cell::text(name)]],
        "",
        1,
    )?;
    let mut sql = SqlBuilder::new(ap.wiki.dialect());
    sql.sql("SELECT ")
        .sql(&ap.int("actor_id"))
        .sql(" FROM ")
        .sql(&ap.wiki.table("actor"))
        .sql(" WHERE actor_user = ")
        .param(Value::int(user));
    let rows = ap
        .session
        .load(&sql.build_cached(), &[ReadAs::Int])
        .map_err(|source| SqlError::query("cannot read back a new actor", source))?;
    rows.into_iter()
        .next()
        .and_then(|row| row.first().and_then(Value::as_int))
        .ok_or_else(|| SqlError::Corrupt {
            table: ap.wiki.display("actor"),
            column: "actor_user".to_owned(),
            value: user.to_string(),
        })
}

/// The comment row holding the block reason (reused when it exists).
fn comment_id(ap: &mut Applier<'_, '_>) -> Result<i64, SqlError> {
    let text = ap.config.block_reason.clone();
    let hash = comment_hash(&text);
    let wiki = ap.wiki;
    let select = |ap: &mut Applier<'_, '_>| -> Result<Option<i64>, SqlError> {
        let mut sql = SqlBuilder::new(wiki.dialect());
        sql.sql("SELECT ")
            .sql(&ap.int("comment_id"))
            .sql(" FROM ")
            .sql(&wiki.table("comment"))
            .sql(" WHERE comment_hash = ")
            .param(Value::int(hash))
            .sql(" AND comment_text = ")
            .param(Value::text(text.clone()))
            .sql(" AND comment_data IS NULL ORDER BY comment_id");
        let rows = ap
            .session
            .load(&sql.build_cached(), &[ReadAs::Int])
            .map_err(|source| SqlError::query("cannot look up the block reason", source))?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.first().and_then(Value::as_int)))
    };
    if let Some(id) = select(ap)? {
        return Ok(id);
    }
    wiki.insert(
        ap.session,
        "comment",
        &["comment_hash", "comment_text", "comment_data"],
        vec![vec![
            Cell::int(hash),
            Cell::text(text.clone()),
            Cell::null(),
        ]],
        "",
        1,
    )?;
    select(ap)?.ok_or_else(|| SqlError::Corrupt {
        table: wiki.display("comment"),
        column: "comment_text".to_owned(),
        value: text,
    })
}

/// Blocks these users (`(user_id, user_name)`) indefinitely and ends their sessions.
pub fn block(ap: &mut Applier<'_, '_>, users: &[(i64, String)]) -> Result<(), SqlError> {
    if users.is_empty() {
        return Ok(());
    }
    let ids = blocker(ap)?;
    let wiki = ap.wiki;
    let now = wiki.time(&ap.now);
    let rows = users
        .iter()
        .map(|(user, name)| {
            vec![
                Cell::text(name.clone()),
                Cell::int(*user),
                Cell::int(ids.actor),
                Cell::int(ids.comment),
                now.clone(),
                Cell::int(0),
                Cell::int(0),
                Cell::int(1),
                Cell::int(0),
                wiki.infinity(),
                Cell::text(""),
                Cell::text(""),
                Cell::int(0),
                Cell::int(0),
                Cell::int(1),
                Cell::Value(Value::Int(None)),
                Cell::int(1),
            ]
        })
        .collect();
    wiki.insert(
        ap.session,
        "ipblocks",
        &[
            "ipb_address",
            "ipb_user",
            "ipb_by_actor",
            "ipb_reason_id",
            "ipb_timestamp",
            "ipb_auto",
            "ipb_anon_only",
            "ipb_create_account",
            "ipb_enable_autoblock",
            "ipb_expiry",
            "ipb_range_start",
            "ipb_range_end",
            "ipb_deleted",
            "ipb_block_email",
            "ipb_allow_usertalk",
            "ipb_parent_block_id",
            "ipb_sitewide",
        ],
        rows,
        "",
        ap.config.batch_rows,
    )?;
    let keys: Vec<i64> = users.iter().map(|(user, _)| *user).collect();
    ap.blocked_changes
        .extend(keys.iter().map(|key| (*key, true)));
    end_sessions(ap, &keys)
}

/// Gives these users a new `user_token`: every session and "remember me" cookie ends.
pub fn end_sessions(ap: &mut Applier<'_, '_>, users: &[i64]) -> Result<(), SqlError> {
    let wiki = ap.wiki;
    for user in users {
        let mut sql = SqlBuilder::new(wiki.dialect());
        sql.sql("UPDATE ")
            .sql(&wiki.table("user"))
            .sql(" SET user_token = ")
            .param(Value::text(new_token()))
            .sql(", user_touched = ");
        wiki.push(&mut sql, wiki.time(&ap.now));
        sql.sql(" WHERE user_id = ").param(Value::int(*user));
        ap.exec(&sql.build_cached(), "cannot end the sessions of a user")?;
    }
    Ok(())
}

/// Lifts these blocks (with their autoblocks and restrictions) on these users: `(user_id,
/// ipb_id)`.
pub fn unblock(ap: &mut Applier<'_, '_>, lifted: &[(i64, i64)]) -> Result<(), SqlError> {
    if lifted.is_empty() {
        return Ok(());
    }
    ap.blocked_changes
        .extend(lifted.iter().map(|(user, _)| (*user, false)));
    let blocks: Vec<i64> = lifted.iter().map(|(_, block)| *block).collect();
    let blocks = blocks.as_slice();
    let wiki = ap.wiki;
    let mut children = Vec::new();
    let head = format!(
        "SELECT {} FROM {} WHERE ipb_parent_block_id IN ",
        ap.int("ipb_id"),
        wiki.table("ipblocks")
    );
    ap.select_in(
        &head,
        blocks,
        |id| Value::int(*id),
        &[ReadAs::Int],
        "cannot read autoblocks",
        |row| {
            if let Some(id) = row.first().and_then(Value::as_int) {
                children.push(id);
            }
        },
    )?;
    let mut all = blocks.to_vec();
    all.extend(children);
    let head = format!(
        "DELETE FROM {} WHERE ir_ipb_id IN ",
        wiki.table("ipblocks_restrictions")
    );
    ap.exec_in(&head, &all, "cannot delete block restrictions")?;
    let head = format!("DELETE FROM {} WHERE ipb_id IN ", wiki.table("ipblocks"));
    ap.exec_in(&head, &all, "cannot lift blocks")?;
    Ok(())
}

/// The blocks on these users (`ipb_auto = 0`), ours preferred when there are several.
pub fn blocks_of(
    ap: &mut Applier<'_, '_>,
    users: &[i64],
) -> Result<foldhash::HashMap<i64, Block>, SqlError> {
    if users.is_empty() {
        return Ok(foldhash::HashMap::default());
    }
    let ours = our_actor(ap)?;
    let wiki = ap.wiki;
    let head = format!(
        "SELECT {}, {}, {} FROM {} WHERE ipb_auto = 0 AND ipb_user IN ",
        ap.int("ipb_id"),
        ap.int("ipb_user"),
        ap.int("ipb_by_actor"),
        wiki.table("ipblocks")
    );
    let mut found: foldhash::HashMap<i64, Block> = foldhash::HashMap::default();
    ap.select_in(
        &head,
        users,
        |id| Value::int(*id),
        &[ReadAs::Int, ReadAs::Int, ReadAs::Int],
        "cannot read blocks",
        |row| {
            let id = row.first().and_then(Value::as_int);
            let user = row.get(1).and_then(Value::as_int);
            let by = row.get(2).and_then(Value::as_int);
            if let (Some(id), Some(user)) = (id, user) {
                let block = Block {
                    id,
                    ours: by.is_some() && by == ours,
                };
                let entry = found.entry(user).or_insert(block);
                if block.ours && !entry.ours {
                    *entry = block;
                }
            }
        },
    )?;
    Ok(found)
}

/// Every account with a block (`ipb_auto = 0`), loaded once at `prepare`: the start of the
/// sink's `maybe_blocked` set.
pub fn load_blocked(
    session: &mut idsync_sql::Session<'_>,
    wiki: &crate::wiki::Wiki,
) -> Result<foldhash::HashSet<i64>, SqlError> {
    let dialect = session.dialect();
    let mut sql = SqlBuilder::new(dialect);
    sql.sql("SELECT DISTINCT ")
        .sql(&dialect.cast_to_bigint("ipb_user"))
        .sql(" FROM ")
        .sql(&wiki.table("ipblocks"))
        .sql(" WHERE ipb_auto = 0 AND ipb_user <> 0");
    let mut blocked = foldhash::HashSet::default();
    session
        .for_each_row(&sql.build(), &[ReadAs::Int], |row| {
            if let Some(user) = row.first().and_then(Value::as_int) {
                blocked.insert(user);
            }
        })
        .map_err(|source| SqlError::query("cannot read blocked accounts", source))?;
    Ok(blocked)
}
