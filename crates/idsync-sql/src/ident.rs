//! SQL identifiers taken from configuration: validated once, quoted per dialect.

use std::fmt;

use crate::dialect::Dialect;
use crate::error::SqlError;

/// Longest identifier accepted (PostgreSQL's limit is 63 bytes).
const MAX_IDENT_LEN: usize = 63;

/// A plain SQL identifier: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(String);

impl Ident {
    /// Validates `value`; `key` names the configuration key in the error.
    pub fn new(key: &str, value: &str) -> Result<Self, SqlError> {
        if is_valid_ident(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(SqlError::InvalidIdentifier {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        }
    }

    /// The identifier as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The identifier quoted for `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        dialect.quote_ident(&self.0)
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ident({})", self.0)
    }
}

/// True when `value` is a plain identifier idsync accepts from configuration.
pub fn is_valid_ident(value: &str) -> bool {
    let mut chars = value.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    value.len() <= MAX_IDENT_LEN
        && (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// A table name, optionally qualified by a schema (`schema.table`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    schema: Option<Ident>,
    table: Ident,
}

impl TableName {
    /// Validates `table` or `schema.table`; `key` names the configuration key in the error.
    pub fn parse(key: &str, value: &str) -> Result<Self, SqlError> {
        let invalid = || SqlError::InvalidIdentifier {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        match value.split_once('.') {
            None => Ok(Self {
                schema: None,
                table: Ident::new(key, value)?,
            }),
            Some((schema, table)) => Ok(Self {
                schema: Some(Ident::new(key, schema).map_err(|_| invalid())?),
                table: Ident::new(key, table).map_err(|_| invalid())?,
            }),
        }
    }

    /// An unqualified table name.
    pub fn unqualified(table: Ident) -> Self {
        Self {
            schema: None,
            table,
        }
    }

    /// The schema, when qualified.
    pub fn schema(&self) -> Option<&Ident> {
        self.schema.as_ref()
    }

    /// The table itself.
    pub fn table(&self) -> &Ident {
        &self.table
    }

    /// The (qualified) name quoted for `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", schema.quoted(dialect), self.table.quoted(dialect)),
            None => self.table.quoted(dialect),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.table),
            None => write!(f, "{}", self.table),
        }
    }
}

impl fmt::Debug for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TableName({self})")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::database_url::Backend;

    #[test]
    fn identifiers_are_validated() {
        for good in ["users", "_x", "User_Name2", &"a".repeat(63)] {
            assert!(is_valid_ident(good), "{good}");
        }
        for bad in [
            "",
            "1users",
            "user-name",
            "users;",
            "a b",
            "\"x\"",
            "ünï",
            &"a".repeat(64),
        ] {
            assert!(!is_valid_ident(bad), "{bad}");
        }
        let error = Ident::new("sink.users.key", "id; drop table x").unwrap_err();
        assert!(error.to_string().contains("`sink.users.key`"), "{error}");
    }

    #[test]
    fn table_names_may_be_qualified() {
        let name = TableName::parse("t", "app.users").unwrap();
        assert_eq!(name.to_string(), "app.users");
        assert_eq!(
            name.quoted(Dialect::new(Backend::Postgres)),
            "\"app\".\"users\""
        );
        assert_eq!(name.quoted(Dialect::new(Backend::Mysql)), "`app`.`users`");
        for bad in ["a.b.c", ".users", "app.", "app.1x"] {
            assert!(TableName::parse("t", bad).is_err(), "{bad}");
        }
    }
}
