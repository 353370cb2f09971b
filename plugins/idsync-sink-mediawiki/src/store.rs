//! Directory groups as the sink remembers them: name, the wiki group they feed, and their
//! complete member set (entry ids), in the `idsync_mw_groups` table and in memory.
//!
//! MediaWiki has no group rows: a wiki group is only a name in `user_groups`. Several
//! directory groups may feed one wiki group, so the sink keeps each directory group's member
//! set to compute the union; a set is written only when it changed (compare before write).

use foldhash::{HashMap, HashMapExt};
use idsync_core::EntryId;
use idsync_sql::{
    in_statements, Backend, Dialect, MultiInsert, ReadAs, Session, SqlBuilder, SqlError, Value,
};

/// The table holding directory groups.
pub const GROUPS_TABLE: &str = "idsync_mw_groups";
/// Ids per `DELETE … IN (…)`.
const ID_CHUNK: usize = 1_000;

/// One directory group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    /// Its directory name.
    pub name: String,
    /// The wiki group it feeds when it was last written (`None`: none).
    pub wiki: Option<String>,
    /// Its complete member set, sorted.
    pub members: Vec<EntryId>,
}

/// The directory groups of one scope, with an undo journal for rollbacks.
#[derive(Clone, Debug, Default)]
pub struct GroupStore {
    groups: HashMap<EntryId, GroupRecord>,
    journal: Vec<(EntryId, Option<GroupRecord>)>,
    dirty: Vec<EntryId>,
    removed: Vec<EntryId>,
}

/// Creates the table when missing.
pub fn create_table(session: &mut Session<'_>) -> Result<(), SqlError> {
    let ddl = match session.dialect().backend() {
        Backend::Sqlite => "CREATE TABLE IF NOT EXISTS idsync_mw_groups (scope TEXT NOT NULL, entry_id TEXT NOT NULL, name TEXT NOT NULL, wiki_group TEXT NULL, members BLOB NOT NULL, PRIMARY KEY (scope, entry_id))",
        Backend::Postgres => "CREATE TABLE IF NOT EXISTS idsync_mw_groups (scope VARCHAR(64) NOT NULL, entry_id VARCHAR(36) NOT NULL, name TEXT NOT NULL, wiki_group TEXT NULL, members BYTEA NOT NULL, PRIMARY KEY (scope, entry_id))",
        Backend::Mysql => "CREATE TABLE IF NOT EXISTS idsync_mw_groups (scope VARCHAR(64) NOT NULL, entry_id VARCHAR(36) NOT NULL, name TEXT NOT NULL, wiki_group VARCHAR(255) NULL, members LONGBLOB NOT NULL, PRIMARY KEY (scope, entry_id)) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
    };
    session
        .batch_execute(ddl)
        .map_err(|source| SqlError::query(format!("cannot create `{GROUPS_TABLE}`"), source))
}

fn encode(members: &[EntryId]) -> Vec<u8> {
    let mut out = Vec::with_capacity(members.len() * 16);
    for member in members {
        out.extend_from_slice(member.as_bytes());
    }
    out
}

fn decode(bytes: &[u8]) -> Option<Vec<EntryId>> {
    if bytes.len() % 16 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(16)
            .filter_map(|chunk| <[u8; 16]>::try_from(chunk).ok())
            .map(EntryId::from_bytes)
            .collect(),
    )
}

impl GroupStore {
    /// Loads the groups of `scope`.
    pub fn load(session: &mut Session<'_>, scope: &str) -> Result<Self, SqlError> {
        let mut sql = SqlBuilder::new(session.dialect());
        sql.sql("SELECT entry_id, name, wiki_group, members FROM idsync_mw_groups WHERE scope = ")
            .param(Value::text(scope));
        let mut groups = HashMap::new();
        let mut bad = None;
        session
            .for_each_row(
                &sql.build(),
                &[ReadAs::Text, ReadAs::Text, ReadAs::Text, ReadAs::Blob],
                |row| {
                    let mut values = row.drain(..);
                    let id = values.next().and_then(Value::into_text).unwrap_or_default();
                    let name = values.next().and_then(Value::into_text).unwrap_or_default();
                    let wiki = values.next().and_then(Value::into_text);
                    let blob = values.next().and_then(Value::into_blob).unwrap_or_default();
                    match (id.parse::<EntryId>(), decode(&blob)) {
                        (Ok(id), Some(members)) => {
                            groups.insert(
                                id,
                                GroupRecord {
                                    name,
                                    wiki,
                                    members,
                                },
                            );
                        }
                        _ => bad = Some(id),
                    }
                },
            )
            .map_err(|source| SqlError::query(format!("cannot read `{GROUPS_TABLE}`"), source))?;
        if let Some(id) = bad {
            return Err(SqlError::Corrupt {
                table: GROUPS_TABLE.to_owned(),
                column: "entry_id/members".to_owned(),
                value: id,
            });
        }
        Ok(Self {
            groups,
            ..Self::default()
        })
    }

    /// A group.
    pub fn get(&self, id: &EntryId) -> Option<&GroupRecord> {
        self.groups.get(id)
    }

    /// Every group.
    pub fn iter(&self) -> impl Iterator<Item = (&EntryId, &GroupRecord)> {
        self.groups.iter()
    }

    /// Sets a group (journaled, written at [`Self::flush`]).
    pub fn set(&mut self, id: EntryId, record: GroupRecord) {
        let previous = self.groups.insert(id, record);
        self.journal.push((id, previous));
        self.dirty.push(id);
    }

    /// Forgets a group (journaled, deleted at [`Self::flush`]).
    pub fn remove(&mut self, id: &EntryId) -> Option<GroupRecord> {
        let previous = self.groups.remove(id)?;
        self.journal.push((*id, Some(previous.clone())));
        self.removed.push(*id);
        Some(previous)
    }

    /// The database committed: forget the journal.
    pub fn commit(&mut self) {
        self.journal.clear();
        self.dirty.clear();
        self.removed.clear();
    }

    /// The database rolled back: undo every journaled change.
    pub fn rollback(&mut self) {
        while let Some((id, previous)) = self.journal.pop() {
            match previous {
                Some(record) => self.groups.insert(id, record),
                None => self.groups.remove(&id),
            };
        }
        self.dirty.clear();
        self.removed.clear();
    }

    /// Writes the changed groups, in multi-row statements.
    pub fn flush(
        &mut self,
        session: &mut Session<'_>,
        scope: &str,
        batch_rows: usize,
    ) -> Result<(), SqlError> {
        let dialect: Dialect = session.dialect();
        let removed = std::mem::take(&mut self.removed);
        let statements = in_statements(
            dialect,
            &removed,
            ID_CHUNK,
            |id| Value::text(id.to_string()),
            |sql, list| {
                sql.sql("DELETE FROM idsync_mw_groups WHERE scope = ")
                    .param(Value::text(scope))
                    .sql(" AND entry_id IN ");
                list(sql);
            },
        );
        for statement in &statements {
            session.execute(statement).map_err(|source| {
                SqlError::query(format!("cannot delete from `{GROUPS_TABLE}`"), source)
            })?;
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort();
        dirty.dedup();
        let columns: Vec<String> = ["scope", "entry_id", "name", "wiki_group", "members"]
            .iter()
            .map(|column| dialect.quote_ident(column))
            .collect();
        let insert = MultiInsert::new(dialect, GROUPS_TABLE, &columns, batch_rows.min(200))
            .with_tail(
                &dialect.upsert_clause(&["scope", "entry_id"], &["name", "wiki_group", "members"]),
            );
        let rows = dirty.iter().filter_map(|id| {
            self.groups.get(id).map(|record| {
                vec![
                    Value::text(scope),
                    Value::text(id.to_string()),
                    Value::text(record.name.clone()),
                    Value::Text(record.wiki.clone()),
                    Value::Blob(Some(encode(&record.members))),
                ]
            })
        });
        insert
            .execute(session, rows)
            .map_err(|source| SqlError::query(format!("cannot write `{GROUPS_TABLE}`"), source))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use uuid::Uuid;

    #[test]
    fn member_sets_round_trip() {
        let ids = vec![
            EntryId(Uuid::from_u128(1)),
            EntryId(Uuid::from_u128(u128::MAX)),
        ];
        assert_eq!(decode(&encode(&ids)).unwrap(), ids);
        assert!(decode(&[1, 2, 3]).is_none());
    }

    #[test]
    fn rollback_restores_groups() {
        let mut store = GroupStore::default();
        let id = EntryId(Uuid::from_u128(7));
        let record = GroupRecord {
            name: "staff".into(),
            wiki: Some("staff".into()),
            members: vec![],
        };
        store.set(id, record.clone());
        store.commit();
        store.remove(&id);
        store.rollback();
        assert_eq!(store.get(&id), Some(&record));
    }
}
