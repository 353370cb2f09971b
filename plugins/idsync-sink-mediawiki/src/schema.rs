//! Which MediaWiki schema the database holds, and whether the sink can write it.
//!
//! Supported: the 1.39 layout (the `actor` and `comment` tables, blocks in `ipblocks` with
//! `ipb_by_actor` and `ipb_reason_id`), which MediaWiki's installer creates from 1.35 to 1.41.
//! Refused with a message naming what was found: the 1.42+ block layout (`block` and
//! `block_target`, the only one from 1.43), layouts without `actor` (before 1.31) or with the
//! old `ipb_by` column, and a database without MediaWiki tables (wrong prefix or schema).

use std::collections::BTreeSet;

use idsync_sql::{table_columns, ReadAs, Session, SqlError, Statement, Value};

use crate::wiki::Wiki;

/// The tables and columns the sink writes.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "user",
        &[
            "user_id",
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
        ],
    ),
    ("actor", &["actor_id", "actor_user", "actor_name"]),
    ("user_groups", &["ug_user", "ug_group", "ug_expiry"]),
    ("user_former_groups", &["ufg_user", "ufg_group"]),
    ("user_properties", &["up_user"]),
    (
        "comment",
        &["comment_id", "comment_hash", "comment_text", "comment_data"],
    ),
    (
        "ipblocks",
        &[
            "ipb_id",
            "ipb_address",
            "ipb_user",
            "ipb_by_actor",
            "ipb_reason_id",
            "ipb_timestamp",
            "ipb_auto",
            "ipb_expiry",
            "ipb_parent_block_id",
        ],
    ),
    ("ipblocks_restrictions", &["ir_ipb_id"]),
    ("logging", &["log_actor", "log_type"]),
    ("recentchanges", &["rc_actor"]),
    ("revision", &["rev_actor"]),
    ("archive", &["ar_actor"]),
    ("image", &["img_actor"]),
    ("oldimage", &["oi_actor"]),
    ("filearchive", &["fa_actor"]),
    ("site_stats", &["ss_users"]),
];

/// What the database holds, as far as the sink cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    /// A one-line description of the layout found.
    pub description: String,
    /// Interwiki prefixes (lower case): names starting with `prefix:` are refused.
    pub interwiki: BTreeSet<String>,
    /// True when `revision_actor_temp` exists (its actors count as history).
    pub revision_actor_temp: bool,
}

/// Why the schema cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported MediaWiki schema: {0}")]
pub struct Unsupported(pub String);

/// Detects the schema version and verifies every table and column the sink uses.
pub fn detect(
    session: &mut Session<'_>,
    wiki: &Wiki,
) -> Result<Result<Detected, Unsupported>, SqlError> {
    let exists =
        |session: &mut Session<'_>, base: &str| -> Result<Option<BTreeSet<String>>, SqlError> {
            let table = wiki.table_name(base)?;
            Ok(table_columns(session, &table)?
                .map(|columns| columns.into_iter().map(|column| column.name).collect()))
        };
    let Some(user) = exists(session, "user")? else {
        return Ok(Err(Unsupported(format!(
            "no `{}` table: not a MediaWiki database, or a wrong `prefix`/`schema`",
            wiki.display("user")
        ))));
    };
    if exists(session, "block_target")?.is_some() {
        let ipblocks = if exists(session, "ipblocks")?.is_some() {
            " (`ipblocks` is still there, but MediaWiki 1.43 reads blocks from the new tables)"
        } else {
            ""
        };
        return Ok(Err(Unsupported(format!(
            "found the `{}` and `{}` tables of MediaWiki 1.42+/1.43{ipblocks}; this sink writes the MediaWiki 1.39 layout (`ipblocks`)",
            wiki.display("block"),
            wiki.display("block_target")
        ))));
    }
    if exists(session, "actor")?.is_none() {
        return Ok(Err(Unsupported(format!(
            "no `{}` table: MediaWiki older than 1.31; this sink writes the 1.39 layout",
            wiki.display("actor")
        ))));
    }
    let mut problems = Vec::new();
    for (base, columns) in REQUIRED {
        let found = if *base == "user" {
            Some(user.clone())
        } else {
            exists(session, base)?
        };
        let Some(found) = found else {
            problems.push(format!("table `{}` is missing", wiki.display(base)));
            continue;
        };
        if *base == "ipblocks" && found.contains("ipb_by") && !found.contains("ipb_by_actor") {
            return Ok(Err(Unsupported(format!(
                "`{}` has `ipb_by` but no `ipb_by_actor` (MediaWiki before 1.34)",
                wiki.display(base)
            ))));
        }
        for column in *columns {
            if !found.contains(*column) {
                problems.push(format!(
                    "column `{}.{column}` is missing",
                    wiki.display(base)
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Err(Unsupported(format!(
            "not the MediaWiki 1.39 layout: {}",
            problems.join("; ")
        ))));
    }
    let temp_users = user.contains("user_is_temp");
    let revision_actor_temp = exists(session, "revision_actor_temp")?.is_some();
    let interwiki = match exists(session, "interwiki")? {
        Some(_) => read_interwiki(session, wiki)?,
        None => BTreeSet::new(),
    };
    Ok(Ok(Detected {
        description: format!(
            "MediaWiki 1.39 layout (actor, comment, ipblocks with ipb_by_actor{})",
            if temp_users { ", user_is_temp" } else { "" }
        ),
        interwiki,
        revision_actor_temp,
    }))
}

fn read_interwiki(session: &mut Session<'_>, wiki: &Wiki) -> Result<BTreeSet<String>, SqlError> {
    let dialect = wiki.dialect();
    let sql = format!(
        "SELECT {} FROM {}",
        dialect.cast_to_text("iw_prefix"),
        wiki.table("interwiki")
    );
    let rows = session
        .load(&Statement::raw(sql), &[ReadAs::Text])
        .map_err(|source| SqlError::query("cannot read the interwiki prefixes", source))?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.into_iter().next().and_then(Value::into_text))
        .map(|prefix| prefix.to_lowercase())
        .collect())
}
