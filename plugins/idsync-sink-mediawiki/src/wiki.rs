//! The wiki's tables (prefix, PostgreSQL schema) and how values are written into them.

use idsync_sql::{
    Backend, Dialect, ReadAs, Session, SqlBuilder, SqlError, Statement, TableName, Value,
};

use crate::values::Timestamp;

/// Where the wiki's tables are and how to name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wiki {
    dialect: Dialect,
    prefix: String,
    schema: Option<String>,
}

/// One value of a row to insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// A bound value.
    Value(Value),
    /// A timestamp or NULL (bound, cast to `timestamptz` on PostgreSQL, which refuses a text
    /// value, even a NULL one, in such a column).
    Time(Option<String>),
}

impl Cell {
    /// A text cell.
    pub fn text(value: impl Into<String>) -> Self {
        Cell::Value(Value::text(value))
    }

    /// An integer cell.
    pub fn int(value: i64) -> Self {
        Cell::Value(Value::int(value))
    }

    /// A NULL text or integer cell.
    pub fn null() -> Self {
        Cell::Value(Value::Text(None))
    }

    /// A NULL timestamp cell.
    pub fn no_time() -> Self {
        Cell::Time(None)
    }
}

impl Wiki {
    /// The wiki reached through `dialect`, its tables named `{prefix}{table}`, in `schema` on
    /// PostgreSQL.
    pub fn new(dialect: Dialect, prefix: &str, schema: &str) -> Self {
        let schema = matches!(dialect.backend(), Backend::Postgres).then(|| schema.to_owned());
        Self {
            dialect,
            prefix: prefix.to_owned(),
            schema,
        }
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The full (unquoted) name of a table, for messages.
    pub fn display(&self, base: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}{base}", self.prefix),
            None => format!("{}{base}", self.prefix),
        }
    }

    /// A table, quoted (and schema-qualified on PostgreSQL).
    pub fn table(&self, base: &str) -> String {
        let table = self.dialect.quote_ident(&format!("{}{base}", self.prefix));
        match &self.schema {
            Some(schema) => format!("{}.{table}", self.dialect.quote_ident(schema)),
            None => table,
        }
    }

    /// The table as a [`TableName`], for introspection.
    pub fn table_name(&self, base: &str) -> Result<TableName, SqlError> {
        TableName::parse("sink.prefix", &self.display(base))
    }

    /// A timestamp in the backend's format.
    pub fn time(&self, at: &Timestamp) -> Cell {
        Cell::Time(Some(match self.dialect.backend() {
            Backend::Postgres => at.iso(),
            Backend::Sqlite | Backend::Mysql => at.mw14(),
        }))
    }

    /// The "never expires" value.
    pub fn infinity(&self) -> Cell {
        Cell::Time(Some("infinity".to_owned()))
    }

    /// Appends a cell to a statement.
    pub fn push(&self, sql: &mut SqlBuilder, cell: Cell) {
        match cell {
            Cell::Value(value) => {
                sql.param(value);
            }
            Cell::Time(text) => {
                if matches!(self.dialect.backend(), Backend::Postgres) {
                    sql.sql("CAST(")
                        .param(Value::Text(text))
                        .sql(" AS TIMESTAMPTZ)");
                } else {
                    sql.param(Value::Text(text));
                }
            }
        }
    }

    /// Multi-row `INSERT INTO {table} ({columns}) VALUES … {tail}`, `rows_per_statement` rows
    /// at a time; returns the rows affected.
    pub fn insert(
        &self,
        session: &mut Session<'_>,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Cell>>,
        tail: &str,
        rows_per_statement: usize,
    ) -> Result<usize, SqlError> {
        let mut affected = 0;
        for statement in self.insert_statements(table, columns, rows, tail, rows_per_statement) {
            affected += run(session, &statement, || {
                format!("cannot insert into `{}`", self.display(table))
            })?;
        }
        Ok(affected)
    }

    /// Like [`Self::insert`] with `RETURNING {returning}` (only where the dialect supports
    /// it): `each` is called with every returned row, read as `shape`.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_returning(
        &self,
        session: &mut Session<'_>,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Cell>>,
        returning: &str,
        shape: &[ReadAs],
        rows_per_statement: usize,
        mut each: impl FnMut(&mut Vec<Value>),
    ) -> Result<(), SqlError> {
        let tail = format!("RETURNING {returning}");
        for statement in self.insert_statements(table, columns, rows, &tail, rows_per_statement) {
            session
                .for_each_row(&statement, shape, &mut each)
                .map_err(|source| {
                    SqlError::query(
                        format!("cannot insert into `{}`", self.display(table)),
                        source,
                    )
                })?;
        }
        Ok(())
    }

    /// The statements of a multi-row insert (full and short ones kept prepared).
    fn insert_statements(
        &self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Cell>>,
        tail: &str,
        rows_per_statement: usize,
    ) -> Vec<Statement> {
        if rows.is_empty() {
            return Vec::new();
        }
        let per_statement =
            idsync_sql::rows_per_statement(self.dialect, columns.len(), rows_per_statement);
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table(table),
            columns
                .iter()
                .map(|column| self.dialect.quote_ident(column))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut statements = Vec::with_capacity(rows.len().div_ceil(per_statement.max(1)));
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut sql = SqlBuilder::new(self.dialect);
            sql.sql(&head);
            let mut count = 0;
            for row in rows.by_ref().take(per_statement) {
                if count > 0 {
                    sql.sql(", ");
                }
                sql.sql("(");
                for (index, cell) in row.into_iter().enumerate() {
                    if index > 0 {
                        sql.sql(", ");
                    }
                    self.push(&mut sql, cell);
                }
                sql.sql(")");
                count += 1;
            }
            if !tail.is_empty() {
                sql.sql(" ").sql(tail);
            }
            statements.push(if crate::context::cacheable(count, per_statement) {
                sql.build_cached()
            } else {
                sql.build()
            });
        }
        statements
    }

    /// `INSERT … DO NOTHING` on a duplicate key, in the backend's words.
    pub fn ignore_duplicates(&self, key: &[&str]) -> String {
        self.dialect.upsert_clause(key, &[])
    }
}

/// Runs a statement, naming what failed.
pub fn run(
    session: &mut Session<'_>,
    statement: &Statement,
    context: impl FnOnce() -> String,
) -> Result<usize, SqlError> {
    session
        .execute(statement)
        .map_err(|source| SqlError::query(context(), source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_prefixed_and_qualified() {
        let pg = Wiki::new(Dialect::new(Backend::Postgres), "mw_", "mediawiki");
        assert_eq!(pg.table("user"), "\"mediawiki\".\"mw_user\"");
        assert_eq!(pg.display("actor"), "mediawiki.mw_actor");
        let my = Wiki::new(Dialect::new(Backend::Mysql), "", "mediawiki");
        assert_eq!(my.table("user"), "`user`");
        assert_eq!(
            my.time(&Timestamp::from_unix(0)),
            Cell::Time(Some("19700101000000".to_owned()))
        );
    }
}
