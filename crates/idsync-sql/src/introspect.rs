//! Column introspection for schema verification: which columns a table has, of which broad
//! type, how long, and whether they take NULL.

use crate::connection::Session;
use crate::database_url::Backend;
use crate::error::SqlError;
use crate::ident::TableName;
use crate::statement::{ReadAs, SqlBuilder, Value};

/// The broad type of a column, as far as value checks are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeClass {
    /// Whole numbers.
    Integer,
    /// Character or byte strings.
    Text,
    /// True/false.
    Boolean,
    /// Anything else (dates, decimals, …): values are passed as text.
    Other,
}

/// One column of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Its name.
    pub name: String,
    /// The type as declared (`VARCHAR(8)`, `integer`, `varbinary(255)`, …).
    pub declared_type: String,
    /// The backend's own type name, usable in a cast (PostgreSQL's `udt_name`).
    pub native_type: String,
    /// Broad class.
    pub class: TypeClass,
    /// Declared maximum length, for text columns.
    pub max_length: Option<u32>,
    /// True when the length counts bytes (binary strings), not characters.
    pub length_in_bytes: bool,
    /// True when the column accepts NULL.
    pub nullable: bool,
    /// True when the column has a default or is generated (identity, auto-increment, rowid).
    pub has_default: bool,
    /// True for (part of) the primary key.
    pub primary_key: bool,
}

/// The columns of `table` in declaration order; `None` when the table does not exist.
pub fn table_columns(
    session: &mut Session<'_>,
    table: &TableName,
) -> Result<Option<Vec<ColumnInfo>>, SqlError> {
    let context = || format!("cannot read the columns of `{table}`");
    let columns =
        match session.dialect().backend() {
            Backend::Sqlite => sqlite_columns(session, table)
                .map_err(|source| SqlError::query(context(), source))?,
            Backend::Postgres => postgres_columns(session, table)
                .map_err(|source| SqlError::query(context(), source))?,
            Backend::Mysql => mysql_columns(session, table)
                .map_err(|source| SqlError::query(context(), source))?,
        };
    Ok(if columns.is_empty() {
        None
    } else {
        Some(columns)
    })
}

fn text(value: Option<Value>) -> String {
    value.and_then(Value::into_text).unwrap_or_default()
}

fn sqlite_columns(
    session: &mut Session<'_>,
    table: &TableName,
) -> diesel::QueryResult<Vec<ColumnInfo>> {
    let mut sql = SqlBuilder::new(session.dialect());
    sql.sql("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(")
        .param(Value::text(table.table().as_str()));
    if let Some(schema) = table.schema() {
        sql.sql(", ").param(Value::text(schema.as_str()));
    }
    sql.sql(") ORDER BY cid");
    let rows = session.load(
        &sql.build(),
        &[
            ReadAs::Text,
            ReadAs::Text,
            ReadAs::Int,
            ReadAs::Text,
            ReadAs::Int,
        ],
    )?;
    let pk_count = rows
        .iter()
        .filter(|row| row.get(4).and_then(Value::as_int).unwrap_or(0) > 0)
        .count();
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut values = row.into_iter();
            let name = text(values.next());
            let declared = text(values.next());
            let not_null = values.next().and_then(|value| value.as_int()).unwrap_or(0) != 0;
            let default = values.next().is_some_and(|value| !value.is_null());
            let pk = values.next().and_then(|value| value.as_int()).unwrap_or(0) > 0;
            let (class, max_length, bytes) = classify_sqlite(&declared);
            // `INTEGER PRIMARY KEY` alone is the rowid: generated when not given.
            let rowid = pk && pk_count == 1 && declared.eq_ignore_ascii_case("integer");
            ColumnInfo {
                name,
                native_type: declared.clone(),
                declared_type: declared,
                class,
                max_length,
                length_in_bytes: bytes,
                nullable: !not_null && !rowid,
                has_default: default || rowid,
                primary_key: pk,
            }
        })
        .collect())
}

fn postgres_columns(
    session: &mut Session<'_>,
    table: &TableName,
) -> diesel::QueryResult<Vec<ColumnInfo>> {
    let select = "SELECT c.column_name::text, c.data_type::text, c.udt_name::text, \
         CAST(c.character_maximum_length AS BIGINT), c.is_nullable::text, \
         CASE WHEN c.column_default IS NOT NULL OR c.is_identity = 'YES' OR c.is_generated <> 'NEVER' THEN 1 ELSE 0 END::bigint, \
         CASE WHEN EXISTS (SELECT 1 FROM information_schema.table_constraints tc \
              JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name \
               AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name \
              WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema \
               AND tc.table_name = c.table_name AND k.column_name = c.column_name) THEN 1 ELSE 0 END::bigint \
         FROM information_schema.columns c WHERE c.table_schema = ";
    information_schema_columns(
        session,
        table,
        select,
        "current_schema()",
        |data_type, udt| {
            let class = classify_postgres(&data_type);
            (data_type, udt, class, false)
        },
    )
}

fn mysql_columns(
    session: &mut Session<'_>,
    table: &TableName,
) -> diesel::QueryResult<Vec<ColumnInfo>> {
    let select = "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(column_type AS CHAR), \
         CAST(character_maximum_length AS SIGNED), CAST(is_nullable AS CHAR), \
         CAST(CASE WHEN column_default IS NOT NULL OR extra LIKE '%auto_increment%' THEN 1 ELSE 0 END AS SIGNED), \
         CAST(CASE WHEN column_key = 'PRI' THEN 1 ELSE 0 END AS SIGNED) \
         FROM information_schema.columns c WHERE c.table_schema = ";
    information_schema_columns(
        session,
        table,
        select,
        "DATABASE()",
        |data_type, column_type| {
            let (class, bytes) = classify_mysql(&data_type, &column_type);
            (column_type.clone(), column_type, class, bytes)
        },
    )
}

/// Reads a table's columns from `information_schema`. `select` yields, per column: name, data
/// type, a backend-specific type detail, max length, nullable (`YES`/`NO`), has-default (0/1)
/// and primary key (0/1), and ends with `… WHERE c.table_schema = `; `current_schema` is the
/// SQL for the connection's schema. `describe(data type, detail)` gives the declared type,
/// the native type, the type class and whether lengths count bytes.
fn information_schema_columns(
    session: &mut Session<'_>,
    table: &TableName,
    select: &str,
    current_schema: &str,
    describe: impl Fn(String, String) -> (String, String, TypeClass, bool),
) -> diesel::QueryResult<Vec<ColumnInfo>> {
    let mut sql = SqlBuilder::new(session.dialect());
    sql.sql(select);
    match table.schema() {
        Some(schema) => sql.param(Value::text(schema.as_str())),
        None => sql.sql(current_schema),
    };
    sql.sql(" AND c.table_name = ")
        .param(Value::text(table.table().as_str()))
        .sql(" ORDER BY c.ordinal_position");
    let rows = session.load(
        &sql.build(),
        &[
            ReadAs::Text,
            ReadAs::Text,
            ReadAs::Text,
            ReadAs::Int,
            ReadAs::Text,
            ReadAs::Int,
            ReadAs::Int,
        ],
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut values = row.into_iter();
            let name = text(values.next());
            let data_type = text(values.next());
            let detail = text(values.next());
            let max_length = values
                .next()
                .and_then(|value| value.as_int())
                .and_then(|n| u32::try_from(n).ok());
            let nullable = text(values.next()) == "YES";
            let has_default = values.next().and_then(|value| value.as_int()).unwrap_or(0) != 0;
            let primary_key = values.next().and_then(|value| value.as_int()).unwrap_or(0) != 0;
            let (declared_type, native_type, class, length_in_bytes) = describe(data_type, detail);
            ColumnInfo {
                name,
                declared_type,
                native_type,
                class,
                max_length: if class == TypeClass::Text {
                    max_length
                } else {
                    None
                },
                length_in_bytes,
                nullable,
                has_default,
                primary_key,
            }
        })
        .collect())
}

/// Classifies a SQLite declared type by SQLite's affinity rules, with `BOOL…` as boolean and
/// the length of `VARCHAR(n)` as declared (SQLite does not enforce it; idsync does).
pub fn classify_sqlite(declared: &str) -> (TypeClass, Option<u32>, bool) {
    let upper = declared.to_ascii_uppercase();
    let length = declared_length(&upper);
    if upper.contains("INT") {
        (TypeClass::Integer, None, false)
    } else if upper.contains("BOOL") {
        (TypeClass::Boolean, None, false)
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        (TypeClass::Text, length, false)
    } else if upper.contains("BLOB") || upper.contains("BINARY") {
        (TypeClass::Text, length, true)
    } else if upper.is_empty() {
        (TypeClass::Text, None, false)
    } else {
        (TypeClass::Other, None, false)
    }
}

/// Classifies a PostgreSQL `information_schema.columns.data_type`.
pub fn classify_postgres(data_type: &str) -> TypeClass {
    match data_type {
        "smallint" | "integer" | "bigint" => TypeClass::Integer,
        "character varying" | "character" | "text" | "citext" | "name" => TypeClass::Text,
        "boolean" => TypeClass::Boolean,
        _ => TypeClass::Other,
    }
}

/// Classifies a MySQL `data_type` / `column_type` pair; the flag is true for byte strings.
pub fn classify_mysql(data_type: &str, column_type: &str) -> (TypeClass, bool) {
    let data_type = data_type.to_ascii_lowercase();
    let column_type = column_type.to_ascii_lowercase();
    match data_type.as_str() {
        "tinyint" if column_type.starts_with("tinyint(1)") => (TypeClass::Boolean, false),
        "bit" if column_type == "bit(1)" => (TypeClass::Boolean, false),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => {
            (TypeClass::Integer, false)
        }
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            (TypeClass::Text, false)
        }
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            (TypeClass::Text, true)
        }
        _ => (TypeClass::Other, false),
    }
}

/// The `n` of `TYPE(n)` or `TYPE(n, m)`.
fn declared_length(declared: &str) -> Option<u32> {
    let open = declared.find('(')?;
    let rest = declared.get(open + 1..)?;
    let digits: String = rest.chars().take_while(|ch| ch.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::connection::{ConnectOptions, Database};
    use crate::database_url::DatabaseUrl;

    #[test]
    fn sqlite_types_are_classified() {
        assert_eq!(
            classify_sqlite("INTEGER"),
            (TypeClass::Integer, None, false)
        );
        assert_eq!(
            classify_sqlite("varchar(8)"),
            (TypeClass::Text, Some(8), false)
        );
        assert_eq!(
            classify_sqlite("BOOLEAN"),
            (TypeClass::Boolean, None, false)
        );
        assert_eq!(classify_sqlite("BLOB"), (TypeClass::Text, None, true));
        assert_eq!(classify_sqlite("DATETIME"), (TypeClass::Other, None, false));
        assert_eq!(
            classify_mysql("tinyint", "tinyint(1)"),
            (TypeClass::Boolean, false)
        );
        assert_eq!(
            classify_mysql("varbinary", "varbinary(255)"),
            (TypeClass::Text, true)
        );
        assert_eq!(classify_postgres("character varying"), TypeClass::Text);
    }

    #[test]
    fn sqlite_columns_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let url =
            DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        let mut db = Database::connect(&url, &ConnectOptions::default()).unwrap();
        let mut session = db.session();
        session
            .batch_execute(
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(8) NOT NULL, \
                 age INTEGER, active BOOLEAN NOT NULL DEFAULT 1)",
            )
            .unwrap();
        let table = TableName::parse("t", "users").unwrap();
        let columns = table_columns(&mut session, &table).unwrap().unwrap();
        assert_eq!(columns.len(), 4);
        assert!(columns[0].primary_key && columns[0].has_default && !columns[0].nullable);
        assert_eq!(columns[1].max_length, Some(8));
        assert!(!columns[1].nullable && !columns[1].has_default);
        assert_eq!(columns[2].class, TypeClass::Integer);
        assert!(columns[3].has_default);
        let missing = TableName::parse("t", "nope").unwrap();
        assert!(table_columns(&mut session, &missing).unwrap().is_none());
    }
}
