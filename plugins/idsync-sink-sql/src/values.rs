//! Values for application columns: taken from an entry, checked against the column's type,
//! bound as parameters, and compared with what the database holds.

use idsync_core::Entry;
use idsync_sql::introspect::{ColumnInfo, TypeClass};
use idsync_sql::{Backend, SqlBuilder, Value};

use crate::config::Field;
use crate::schema::ColumnPlan;

/// A value as one column holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// NULL.
    Null,
    /// A whole number.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// Text (also for columns of other types, passed as text).
    Text(String),
}

impl Cell {
    /// How the value is shown in reports.
    pub fn display(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Int(n) => Some(n.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Text(text) => Some(text.clone()),
        }
    }

    /// The bound parameter for a column of class `class`.
    pub fn to_value(&self, class: TypeClass) -> Value {
        match (self, class) {
            (Cell::Null, TypeClass::Integer) => Value::Int(None),
            (Cell::Null, TypeClass::Boolean) => Value::Bool(None),
            (Cell::Null, TypeClass::Text | TypeClass::Other) => Value::Text(None),
            (Cell::Int(n), _) => Value::Int(Some(*n)),
            (Cell::Bool(b), _) => Value::Bool(Some(*b)),
            (Cell::Text(text), _) => Value::Text(Some(text.clone())),
        }
    }
}

/// Appends the placeholder for `cell` in `column` (with a cast for PostgreSQL columns of
/// other types, which refuse text parameters).
pub fn push_cell(sql: &mut SqlBuilder, info: &ColumnInfo, cell: &Cell) {
    let cast = info.class == TypeClass::Other && sql.dialect().backend() == Backend::Postgres;
    if cast {
        sql.sql("CAST(");
    }
    sql.param(cell.to_value(info.class));
    if cast {
        let ty = sql.dialect().quote_ident(&info.native_type);
        sql.sql(" AS ").sql(&ty).sql(")");
    }
}

/// The raw value of `field` for `entry` (multi-valued attributes give their first value).
pub fn field_value(entry: &Entry, field: &Field) -> Option<Source> {
    match field {
        Field::Name => Some(Source::Text(entry.name.clone())),
        Field::Id => Some(Source::Text(entry.id.to_string())),
        Field::Locator => Some(Source::Text(entry.locator.clone())),
        Field::Enabled => Some(Source::Bool(entry.enabled)),
        Field::Attribute(name) => entry.attr(name).map(|value| Source::Text(value.to_owned())),
    }
}

/// A value before it is fitted to a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Text from the directory.
    Text(String),
    /// A boolean pseudo-field.
    Bool(bool),
}

/// Fits `source` to `column`; an error explains why it does not fit (naming column and value).
pub fn convert(source: Option<Source>, column: &ColumnPlan) -> Result<Cell, String> {
    match source {
        None => {
            if !column.info.nullable && !column.info.has_default {
                Err(format!(
                    "column `{}` requires a value and the entry has no `{}`",
                    column.ident, column.field
                ))
            } else {
                Ok(Cell::Null)
            }
        }
        Some(Source::Bool(value)) => Ok(match column.info.class {
            TypeClass::Integer => Cell::Int(i64::from(value)),
            TypeClass::Boolean => Cell::Bool(value),
            TypeClass::Text | TypeClass::Other => Cell::Text(value.to_string()),
        }),
        Some(Source::Text(text)) => convert_text(&text, &column.info)
            .map_err(|reason| format!("column `{}`: {reason}", column.ident)),
    }
}

/// Fits a text value to a column of the given type.
pub fn convert_text(text: &str, info: &ColumnInfo) -> Result<Cell, String> {
    match info.class {
        TypeClass::Integer => text.trim().parse::<i64>().map(Cell::Int).map_err(|_| {
            format!(
                "`{text}` is not an integer (column `{}` is `{}`)",
                info.name, info.declared_type
            )
        }),
        TypeClass::Boolean => parse_bool(text).map(Cell::Bool).ok_or_else(|| {
            format!(
                "`{text}` is not a boolean (column `{}` is `{}`)",
                info.name, info.declared_type
            )
        }),
        TypeClass::Text => {
            if let Some(max) = info.max_length {
                let length = if info.length_in_bytes {
                    text.len()
                } else {
                    text.chars().count()
                };
                if u64::try_from(length).unwrap_or(u64::MAX) > u64::from(max) {
                    return Err(format!(
                        "`{text}` is {length} {} long, more than the {max} allowed by column `{}` (`{}`)",
                        if info.length_in_bytes { "bytes" } else { "characters" },
                        info.name,
                        info.declared_type
                    ));
                }
            }
            Ok(Cell::Text(text.to_owned()))
        }
        TypeClass::Other => Ok(Cell::Text(text.to_owned())),
    }
}

/// Reads a boolean the way databases and people write them.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// True when the database's current value (read as text) equals `wanted` for this column.
pub fn same(current: Option<&str>, wanted: &Cell, class: TypeClass) -> bool {
    match (current, wanted) {
        (None, Cell::Null) => true,
        (None, _) | (Some(_), Cell::Null) => false,
        (Some(current), Cell::Int(n)) => current.trim().parse::<i64>().ok() == Some(*n),
        (Some(current), Cell::Bool(b)) => parse_bool(current) == Some(*b),
        (Some(current), Cell::Text(text)) => match class {
            TypeClass::Integer => {
                current.trim().parse::<i64>().ok() == text.trim().parse::<i64>().ok()
            }
            _ => current == text,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_and_comparisons() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert!(same(Some("1"), &Cell::Bool(true), TypeClass::Boolean));
        assert!(same(Some("t"), &Cell::Bool(true), TypeClass::Boolean));
        assert!(same(Some("42"), &Cell::Int(42), TypeClass::Integer));
        assert!(!same(Some("a"), &Cell::Text("A".into()), TypeClass::Text));
        assert!(same(None, &Cell::Null, TypeClass::Text));
        assert!(!same(Some(""), &Cell::Null, TypeClass::Text));
    }
}
