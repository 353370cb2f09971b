//! Dynamic SQL statements: text built from validated identifiers, values always bound.

use std::fmt::Write as _;

use diesel::mysql::Mysql;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Binary, Bool, Nullable, Text, Untyped};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

use crate::dialect::Dialect;
use crate::ident::{Ident, TableName};

/// A value bound to a statement (or read from a row), typed for the driver.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// Text, or a NULL of text type.
    Text(Option<String>),
    /// A 64-bit integer, or a NULL of integer type.
    Int(Option<i64>),
    /// A boolean, or a NULL of boolean type.
    Bool(Option<bool>),
    /// Bytes, or a NULL of binary type.
    Blob(Option<Vec<u8>>),
}

impl Value {
    /// A non-null text value.
    pub fn text(value: impl Into<String>) -> Self {
        Value::Text(Some(value.into()))
    }

    /// A non-null integer value.
    pub fn int(value: i64) -> Self {
        Value::Int(Some(value))
    }

    /// True for a NULL of any type.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Text(value) => value.is_none(),
            Value::Int(value) => value.is_none(),
            Value::Bool(value) => value.is_none(),
            Value::Blob(value) => value.is_none(),
        }
    }

    /// The text, when this is non-null text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(value) => value.as_deref(),
            _ => None,
        }
    }

    /// The integer, when this is a non-null integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(value) => *value,
            _ => None,
        }
    }

    /// Takes the text out, when this is non-null text.
    pub fn into_text(self) -> Option<String> {
        match self {
            Value::Text(value) => value,
            _ => None,
        }
    }

    /// Takes the bytes out, when this is a non-null blob.
    pub fn into_blob(self) -> Option<Vec<u8>> {
        match self {
            Value::Blob(value) => value,
            _ => None,
        }
    }
}

/// How to read one column of a result row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAs {
    /// As (nullable) text.
    Text,
    /// As a (nullable) 64-bit integer.
    Int,
    /// As (nullable) bytes.
    Blob,
}

/// One SQL statement: its text (with the dialect's placeholders) and its bound values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    sql: String,
    params: Vec<Value>,
    cacheable: bool,
}

impl Statement {
    /// A statement without parameters.
    pub fn raw(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
            cacheable: false,
        }
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The bound values.
    pub fn params(&self) -> &[Value] {
        &self.params
    }

    /// True when the driver may keep this statement prepared for reuse.
    pub fn is_cacheable(&self) -> bool {
        self.cacheable
    }
}

/// Builds a [`Statement`]: SQL text from validated identifiers, values as bound parameters.
#[derive(Clone, Debug)]
pub struct SqlBuilder {
    dialect: Dialect,
    sql: String,
    params: Vec<Value>,
}

impl SqlBuilder {
    /// An empty statement for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            sql: String::with_capacity(128),
            params: Vec::new(),
        }
    }

    /// The dialect being written.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Appends SQL text. Never pass configuration values or data here: only keywords.
    pub fn sql(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    /// Appends a quoted identifier.
    pub fn ident(&mut self, ident: &Ident) -> &mut Self {
        self.sql.push_str(&ident.quoted(self.dialect));
        self
    }

    /// Appends a built-in name (bookkeeping tables and columns), quoted. Configuration values
    /// go through [`Ident`] instead.
    pub fn quoted(&mut self, name: &str) -> &mut Self {
        self.sql.push_str(&self.dialect.quote_ident(name));
        self
    }

    /// Appends a quoted, possibly schema-qualified, table name.
    pub fn table(&mut self, table: &TableName) -> &mut Self {
        self.sql.push_str(&table.quoted(self.dialect));
        self
    }

    /// Appends a placeholder and binds `value` to it.
    pub fn param(&mut self, value: Value) -> &mut Self {
        self.params.push(value);
        match self.dialect.backend() {
            crate::database_url::Backend::Postgres => {
                // Writing to a String cannot fail.
                let _ = write!(self.sql, "${}", self.params.len());
            }
            crate::database_url::Backend::Sqlite | crate::database_url::Backend::Mysql => {
                self.sql.push('?');
            }
        }
        self
    }

    /// Appends `(?, ?, …)` binding every value.
    pub fn param_list(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.sql.push('(');
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.sql.push_str(", ");
            }
            self.param(value);
        }
        self.sql.push(')');
        self
    }

    /// Appends items separated by `separator`, each written by `write`.
    pub fn list<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        separator: &str,
        mut write: impl FnMut(&mut Self, T),
    ) -> &mut Self {
        for (index, item) in items.into_iter().enumerate() {
            if index > 0 {
                self.sql.push_str(separator);
            }
            write(self, item);
        }
        self
    }

    /// Number of parameters bound so far.
    pub fn param_count(&self) -> usize {
        self.params.len()
    }

    /// The statement, prepared afresh each time it runs.
    pub fn build(self) -> Statement {
        Statement {
            sql: self.sql,
            params: self.params,
            cacheable: false,
        }
    }

    /// The statement, kept prepared by the driver for reuse. Use only for statements whose
    /// text repeats (a fixed shape), or the driver's statement cache grows without bound.
    pub fn build_cached(self) -> Statement {
        Statement {
            sql: self.sql,
            params: self.params,
            cacheable: true,
        }
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement {
    type SqlType = Untyped;
}

macro_rules! impl_query_fragment {
    ($backend:ty) => {
        impl QueryFragment<$backend> for Statement {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                if !self.cacheable {
                    out.unsafe_to_cache_prepared();
                }
                out.push_sql(&self.sql);
                for param in &self.params {
                    match param {
                        Value::Text(value) => {
                            out.push_bind_param_value_only::<Nullable<Text>, _>(value)?
                        }
                        Value::Int(value) => {
                            out.push_bind_param_value_only::<Nullable<BigInt>, _>(value)?
                        }
                        Value::Bool(value) => {
                            out.push_bind_param_value_only::<Nullable<Bool>, _>(value)?
                        }
                        Value::Blob(value) => {
                            out.push_bind_param_value_only::<Nullable<Binary>, _>(value)?
                        }
                    }
                }
                Ok(())
            }
        }
    };
}

impl_query_fragment!(Sqlite);
impl_query_fragment!(Pg);
impl_query_fragment!(Mysql);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::database_url::Backend;

    #[test]
    fn placeholders_are_numbered_on_postgres() {
        let mut sql = SqlBuilder::new(Dialect::new(Backend::Postgres));
        let table = TableName::parse("t", "users").unwrap();
        sql.sql("SELECT 1 FROM ")
            .table(&table)
            .sql(" WHERE a IN ")
            .param_list([Value::int(1), Value::int(2)])
            .sql(" AND b = ")
            .param(Value::text("x"));
        let statement = sql.build();
        assert_eq!(
            statement.sql(),
            "SELECT 1 FROM \"users\" WHERE a IN ($1, $2) AND b = $3"
        );
        assert_eq!(statement.params().len(), 3);
    }

    #[test]
    fn values_never_enter_the_sql_text() {
        let mut sql = SqlBuilder::new(Dialect::new(Backend::Sqlite));
        sql.sql("SELECT ")
            .param(Value::text("'; DROP TABLE users; --"));
        let statement = sql.build();
        assert_eq!(statement.sql(), "SELECT ?");
    }
}
