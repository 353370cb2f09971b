//! The application schema as the sink uses it: configured tables resolved against the
//! database's columns, verified (every problem at once), or created for a quickstart.

use idsync_core::{CheckItem, EntryKind};
use idsync_sql::introspect::{table_columns, ColumnInfo, TypeClass};
use idsync_sql::{ColumnType, Dialect, Ident, Session, SqlError, TableName};

use crate::config::{DisableConfig, Field, MembershipConfig, SqlSinkConfig, TableConfig};
use crate::values::{convert_text, Cell};

/// One mapped column.
#[derive(Clone, Debug)]
pub struct ColumnPlan {
    /// The column.
    pub ident: Ident,
    /// Where its value comes from.
    pub field: Field,
    /// What the database says about it.
    pub info: ColumnInfo,
}

/// What disabling does in one table.
#[derive(Clone, Debug)]
pub enum DisablePlan {
    /// Nothing happens to the row.
    Keep,
    /// The row is deleted.
    Delete,
    /// A flag column is set.
    Flag {
        /// The column.
        column: Ident,
        /// Its type.
        info: ColumnInfo,
        /// Value for a disabled account.
        disabled: Cell,
        /// Value for an enabled account.
        enabled: Cell,
    },
}

/// A users or groups table, resolved.
#[derive(Clone, Debug)]
pub struct TablePlan {
    /// Users or groups.
    pub kind: EntryKind,
    /// The table.
    pub table: TableName,
    /// Its generated integer key.
    pub key: Ident,
    /// Mapped columns, in configuration order.
    pub columns: Vec<ColumnPlan>,
    /// Index of the column holding the name.
    pub name_column: usize,
    /// What disabling does.
    pub disable: DisablePlan,
}

impl TablePlan {
    /// The column holding the name.
    pub fn name(&self) -> Option<&ColumnPlan> {
        self.columns.get(self.name_column)
    }
}

/// The membership table, resolved.
#[derive(Clone, Debug)]
pub struct MembershipPlan {
    /// The table.
    pub table: TableName,
    /// Column holding the group's key.
    pub group: Ident,
    /// Column holding the user's key.
    pub member: Ident,
}

/// Everything the sink writes to.
#[derive(Clone, Debug)]
pub struct SchemaPlan {
    /// Users.
    pub users: TablePlan,
    /// Groups, when configured.
    pub groups: Option<TablePlan>,
    /// Memberships, when configured.
    pub memberships: Option<MembershipPlan>,
}

impl SchemaPlan {
    /// The table of `kind`, when configured.
    pub fn table(&self, kind: EntryKind) -> Option<&TablePlan> {
        match kind {
            EntryKind::User => Some(&self.users),
            EntryKind::Group => self.groups.as_ref(),
        }
    }
}

/// Findings of a verification: check lines, and the problems that make the schema unusable.
#[derive(Debug, Default)]
pub struct Findings {
    /// One line per finding.
    pub items: Vec<CheckItem>,
    /// Every blocking problem.
    pub problems: Vec<String>,
    /// Missing tables are expected (`create_tables = true` and only checking): they are
    /// reported as warnings, since the first run creates them.
    pub tables_created_later: bool,
}

impl Findings {
    fn ok(&mut self, message: String) {
        self.items.push(CheckItem::ok(message));
    }

    fn warn(&mut self, message: String) {
        self.items.push(CheckItem::warning(message));
    }

    fn fail(&mut self, message: String) {
        self.items.push(CheckItem::failed(message.clone()));
        self.problems.push(message);
    }

    fn missing_table(&mut self, message: String) {
        if self.tables_created_later {
            self.warn(format!(
                "{message}: it is created at the first run (create_tables = true)"
            ));
        } else {
            self.fail(message);
        }
    }
}

/// Resolves and verifies the configured schema. Returns the plan when nothing blocks.
pub fn resolve(
    session: &mut Session<'_>,
    config: &SqlSinkConfig,
    findings: &mut Findings,
) -> Result<Option<SchemaPlan>, SqlError> {
    let users = resolve_table(
        session,
        "sink.users",
        EntryKind::User,
        &config.users,
        findings,
    )?;
    let groups = match &config.groups {
        Some(groups) => Some(resolve_table(
            session,
            "sink.groups",
            EntryKind::Group,
            groups,
            findings,
        )?),
        None => None,
    };
    let memberships = match &config.memberships {
        Some(memberships) => resolve_memberships(session, memberships, findings)?,
        None => None,
    };
    if !findings.problems.is_empty() {
        return Ok(None);
    }
    let Some(users) = users else {
        return Ok(None);
    };
    let groups = match groups {
        Some(Some(groups)) => Some(groups),
        Some(None) => return Ok(None),
        None => None,
    };
    Ok(Some(SchemaPlan {
        users,
        groups,
        memberships,
    }))
}

fn find<'a>(columns: &'a [ColumnInfo], name: &str) -> Option<&'a ColumnInfo> {
    columns
        .iter()
        .find(|column| column.name == name)
        .or_else(|| {
            columns
                .iter()
                .find(|column| column.name.eq_ignore_ascii_case(name))
        })
}

fn resolve_table(
    session: &mut Session<'_>,
    prefix: &str,
    kind: EntryKind,
    config: &TableConfig,
    findings: &mut Findings,
) -> Result<Option<TablePlan>, SqlError> {
    let table = TableName::parse(&format!("{prefix}.table"), &config.table)?;
    let key = Ident::new(&format!("{prefix}.key"), &config.key)?;
    let Some(columns) = table_columns(session, &table)? else {
        findings.missing_table(format!(
            "{kind} table `{table}` does not exist ({prefix}.table)"
        ));
        return Ok(None);
    };
    let before = findings.problems.len();
    match find(&columns, key.as_str()) {
        None => findings.fail(format!("key column `{key}` does not exist in table `{table}` ({prefix}.key)")),
        Some(info) if info.class != TypeClass::Integer => findings.fail(format!(
            "key column `{table}`.`{key}` is `{}`, not an integer ({prefix}.key)",
            info.declared_type
        )),
        Some(info) if !info.has_default => findings.warn(format!(
            "key column `{table}`.`{key}` has no default or identity: inserts will fail unless the database generates it"
        )),
        Some(_) => {}
    }
    let mut plans = Vec::new();
    let mut name_column = 0;
    for (column, field) in &config.columns {
        let ident = Ident::new(&format!("{prefix}.columns.{column}"), column)?;
        let Some(field) = Field::parse(field) else {
            continue;
        };
        match find(&columns, column) {
            None => findings.fail(format!(
                "column `{column}` does not exist in table `{table}` ({prefix}.columns.{column})"
            )),
            Some(info) => {
                if info.class == TypeClass::Other {
                    findings.warn(format!(
                        "column `{table}`.`{column}` is `{}`: values are passed as text and compared as text",
                        info.declared_type
                    ));
                }
                if field == Field::Name {
                    name_column = plans.len();
                }
                plans.push(ColumnPlan {
                    ident,
                    field,
                    info: info.clone(),
                });
            }
        }
    }
    let disable = match &config.disable {
        DisableConfig::Keep => {
            if kind == EntryKind::User {
                findings.warn(format!(
                    "{prefix}.disable is \"keep\": disabled accounts keep their rows in `{table}` and only lose their memberships"
                ));
            }
            DisablePlan::Keep
        }
        DisableConfig::Delete => DisablePlan::Delete,
        DisableConfig::Flag(flag) => {
            let column = Ident::new(&format!("{prefix}.disable.column"), &flag.column)?;
            match find(&columns, column.as_str()) {
                None => {
                    findings.fail(format!(
                        "column `{column}` does not exist in table `{table}` ({prefix}.disable.column)"
                    ));
                    DisablePlan::Keep
                }
                Some(info) => {
                    let disabled = convert_text(&flag.disabled_value, info);
                    let enabled = convert_text(&flag.enabled_value, info);
                    match (disabled, enabled) {
                        (Ok(disabled), Ok(enabled)) => DisablePlan::Flag {
                            column,
                            info: info.clone(),
                            disabled,
                            enabled,
                        },
                        (Err(reason), _) | (_, Err(reason)) => {
                            findings.fail(format!("{prefix}.disable: {reason}"));
                            DisablePlan::Keep
                        }
                    }
                }
            }
        }
    };
    if findings.problems.len() > before {
        return Ok(None);
    }
    findings.ok(format!(
        "{kind} table `{table}`: key `{key}` and {} mapped column(s) present",
        plans.len()
    ));
    Ok(Some(TablePlan {
        kind,
        table,
        key,
        columns: plans,
        name_column,
        disable,
    }))
}

fn resolve_memberships(
    session: &mut Session<'_>,
    config: &MembershipConfig,
    findings: &mut Findings,
) -> Result<Option<MembershipPlan>, SqlError> {
    let table = TableName::parse("sink.memberships.table", &config.table)?;
    let group = Ident::new("sink.memberships.group", &config.group)?;
    let member = Ident::new("sink.memberships.member", &config.member)?;
    let Some(columns) = table_columns(session, &table)? else {
        findings.missing_table(format!(
            "membership table `{table}` does not exist (sink.memberships.table)"
        ));
        return Ok(None);
    };
    let before = findings.problems.len();
    for (key, column) in [("group", &group), ("member", &member)] {
        match find(&columns, column.as_str()) {
            None => findings.fail(format!(
                "column `{column}` does not exist in table `{table}` (sink.memberships.{key})"
            )),
            Some(info) if info.class != TypeClass::Integer => findings.fail(format!(
                "column `{table}`.`{column}` is `{}`, not an integer (sink.memberships.{key})",
                info.declared_type
            )),
            Some(_) => {}
        }
    }
    if findings.problems.len() > before {
        return Ok(None);
    }
    findings.ok(format!(
        "membership table `{table}`: columns `{group}` and `{member}` present"
    ));
    Ok(Some(MembershipPlan {
        table,
        group,
        member,
    }))
}

/// Creates the configured tables that are missing (quickstart, `create_tables = true`).
pub fn create_missing_tables(
    session: &mut Session<'_>,
    config: &SqlSinkConfig,
) -> Result<Vec<String>, SqlError> {
    let dialect = session.dialect();
    let mut created = Vec::new();
    let mut tables = vec![("sink.users", &config.users)];
    if let Some(groups) = &config.groups {
        tables.push(("sink.groups", groups));
    }
    for (prefix, table) in tables {
        let name = TableName::parse(&format!("{prefix}.table"), &table.table)?;
        if table_columns(session, &name)?.is_some() {
            continue;
        }
        let ddl = table_ddl(dialect, prefix, table, &name)?;
        session
            .batch_execute(&ddl)
            .map_err(|source| SqlError::query(format!("cannot create table `{name}`"), source))?;
        created.push(name.to_string());
    }
    if let (Some(memberships), Some(_)) = (&config.memberships, &config.groups) {
        let name = TableName::parse("sink.memberships.table", &memberships.table)?;
        if table_columns(session, &name)?.is_none() {
            let group = Ident::new("sink.memberships.group", &memberships.group)?;
            let member = Ident::new("sink.memberships.member", &memberships.member)?;
            let bigint = dialect.type_name(ColumnType::BigInt);
            // Only the primary key (group, member): no foreign keys and no index on the member
            // column. Each of those costs a random B-tree operation per inserted row (a 1M
            // membership sync took 14 s instead of 9 s with both); the sink keeps memberships
            // consistent itself. Removals by member then scan the table: add an index on the
            // member column to your own schema if users are removed often.
            let ddl = format!(
                "CREATE TABLE {t} ({g} {bigint} NOT NULL, {m} {bigint} NOT NULL, PRIMARY KEY ({g}, {m})){without_rowid}",
                without_rowid = if dialect.backend() == idsync_sql::Backend::Sqlite { " WITHOUT ROWID" } else { "" },
                t = name.quoted(dialect),
                g = group.quoted(dialect),
                m = member.quoted(dialect),
            );
            session.batch_execute(&ddl).map_err(|source| {
                SqlError::query(format!("cannot create table `{name}`"), source)
            })?;
            created.push(name.to_string());
        }
    }
    Ok(created)
}

fn table_ddl(
    dialect: Dialect,
    prefix: &str,
    table: &TableConfig,
    name: &TableName,
) -> Result<String, SqlError> {
    let key = Ident::new(&format!("{prefix}.key"), &table.key)?;
    let short_text = match dialect.backend() {
        idsync_sql::Backend::Mysql => ColumnType::VarChar(255),
        _ => ColumnType::Text,
    };
    let mut columns = vec![format!(
        "{} {}",
        key.quoted(dialect),
        dialect.type_name(ColumnType::AutoKey)
    )];
    for (column, field) in &table.columns {
        let ident = Ident::new(&format!("{prefix}.columns.{column}"), column)?;
        let field = Field::parse(field);
        let ty = match &field {
            Some(Field::Name) => format!(
                "{} NOT NULL UNIQUE",
                dialect.type_name(ColumnType::VarChar(255))
            ),
            Some(Field::Id) => dialect.type_name(ColumnType::VarChar(36)),
            Some(Field::Enabled) => dialect.type_name(ColumnType::Boolean),
            Some(Field::Attribute(attr)) if attr == "uidNumber" || attr == "gidNumber" => {
                dialect.type_name(ColumnType::BigInt)
            }
            _ => dialect.type_name(short_text),
        };
        columns.push(format!("{} {ty}", ident.quoted(dialect)));
    }
    if let DisableConfig::Flag(flag) = &table.disable {
        let column = Ident::new(&format!("{prefix}.disable.column"), &flag.column)?;
        let numeric =
            flag.disabled_value.parse::<i64>().is_ok() && flag.enabled_value.parse::<i64>().is_ok();
        let ty = if numeric {
            ColumnType::BigInt
        } else {
            short_text
        };
        columns.push(format!(
            "{} {}",
            column.quoted(dialect),
            dialect.type_name(ty)
        ));
    }
    Ok(format!(
        "CREATE TABLE {} ({})",
        name.quoted(dialect),
        columns.join(", ")
    ))
}
