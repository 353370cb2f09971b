//! Multi-row `INSERT … VALUES (…), (…)` and chunked `IN (…)` lists within each backend's
//! bind-parameter limit, so a million rows never mean a million statements.

use crate::connection::Session;
use crate::dialect::Dialect;
use crate::statement::{SqlBuilder, Statement, Value};

/// Rows per multi-row statement: at most `wanted`, within the dialect's parameter limit.
pub fn rows_per_statement(dialect: Dialect, params_per_row: usize, wanted: usize) -> usize {
    let by_limit = dialect.max_bind_params() / params_per_row.max(1);
    wanted.min(by_limit).max(1)
}

/// Items per `IN (…)` list when the statement binds `fixed_params` other parameters.
pub fn in_chunk_size(dialect: Dialect, fixed_params: usize, wanted: usize) -> usize {
    dialect
        .max_bind_params()
        .saturating_sub(fixed_params)
        .min(wanted)
        .max(1)
}

/// A multi-row `INSERT` for one table and column list, split into statements of bounded size.
///
/// Each row is `(?, ?, …[row_tail])`; the statement ends with `tail` (an upsert clause or
/// `RETURNING …`). Full-size statements are kept prepared by the driver (their text repeats).
#[derive(Clone, Debug)]
pub struct MultiInsert {
    dialect: Dialect,
    head: String,
    row_tail: String,
    tail: String,
    params_per_row: usize,
    rows_per_statement: usize,
}

impl MultiInsert {
    /// `INSERT INTO {table_sql} ({columns}) VALUES …`; `table_sql` and `columns` must already
    /// be quoted (see [`crate::Ident::quoted`], [`Dialect::quote_ident`]).
    pub fn new(dialect: Dialect, table_sql: &str, columns: &[String], max_rows: usize) -> Self {
        let head = format!("INSERT INTO {table_sql} ({}) VALUES ", columns.join(", "));
        Self {
            dialect,
            head,
            row_tail: String::new(),
            tail: String::new(),
            params_per_row: columns.len(),
            rows_per_statement: rows_per_statement(dialect, columns.len(), max_rows),
        }
    }

    /// SQL appended inside every row after its parameters, e.g. `, CURRENT_TIMESTAMP` for a
    /// trailing column that takes no parameter. Columns named in `new` must match.
    pub fn with_row_tail(mut self, sql: &str) -> Self {
        self.row_tail = sql.to_owned();
        self
    }

    /// SQL appended to each statement (an upsert clause, `RETURNING …`).
    pub fn with_tail(mut self, sql: &str) -> Self {
        self.tail = sql.to_owned();
        self
    }

    /// Declares that each row binds `params` parameters (when `row_tail` covers columns).
    pub fn with_params_per_row(mut self, params: usize, max_rows: usize) -> Self {
        self.params_per_row = params;
        self.rows_per_statement = rows_per_statement(self.dialect, params, max_rows);
        self
    }

    /// Rows per statement.
    pub fn rows_per_statement(&self) -> usize {
        self.rows_per_statement
    }

    /// The statement inserting `rows` (at most [`Self::rows_per_statement`] of them).
    pub fn statement(&self, rows: Vec<Vec<Value>>) -> Statement {
        let full = rows.len() == self.rows_per_statement;
        let mut sql = SqlBuilder::new(self.dialect);
        sql.sql(&self.head);
        for (index, row) in rows.into_iter().enumerate() {
            if index > 0 {
                sql.sql(", ");
            }
            sql.sql("(");
            for (column, value) in row.into_iter().enumerate() {
                if column > 0 {
                    sql.sql(", ");
                }
                sql.param(value);
            }
            sql.sql(&self.row_tail).sql(")");
        }
        if !self.tail.is_empty() {
            sql.sql(" ").sql(&self.tail);
        }
        if full {
            sql.build_cached()
        } else {
            sql.build()
        }
    }

    /// Splits `rows` into statements of bounded size.
    pub fn statements<I>(&self, rows: I) -> Vec<Statement>
    where
        I: IntoIterator<Item = Vec<Value>>,
    {
        let mut statements = Vec::new();
        let mut chunk = Vec::with_capacity(self.rows_per_statement);
        for row in rows {
            chunk.push(row);
            if chunk.len() == self.rows_per_statement {
                statements.push(self.statement(std::mem::take(&mut chunk)));
            }
        }
        if !chunk.is_empty() {
            statements.push(self.statement(chunk));
        }
        statements
    }

    /// Inserts every row, in as few statements as the limits allow; returns rows affected.
    pub fn execute<I>(&self, session: &mut Session<'_>, rows: I) -> diesel::QueryResult<usize>
    where
        I: IntoIterator<Item = Vec<Value>>,
    {
        let mut affected = 0;
        let mut chunk = Vec::with_capacity(self.rows_per_statement);
        for row in rows {
            chunk.push(row);
            if chunk.len() == self.rows_per_statement {
                affected += session.execute(&self.statement(std::mem::take(&mut chunk)))?;
            }
        }
        if !chunk.is_empty() {
            affected += session.execute(&self.statement(chunk))?;
        }
        Ok(affected)
    }
}

/// Builds one statement per chunk of `items`: `build` writes the statement around the list,
/// calling `list` (which appends `(?, ?, …)`) where the `IN` list goes. Statements for full
/// chunks are kept prepared.
pub fn in_statements<T>(
    dialect: Dialect,
    items: &[T],
    chunk_size: usize,
    to_value: impl Fn(&T) -> Value,
    mut build: impl FnMut(&mut SqlBuilder, &mut dyn FnMut(&mut SqlBuilder)),
) -> Vec<Statement> {
    let chunk_size = chunk_size.max(1);
    items
        .chunks(chunk_size)
        .map(|chunk| {
            let mut sql = SqlBuilder::new(dialect);
            let mut list = |sql: &mut SqlBuilder| {
                sql.param_list(chunk.iter().map(&to_value));
            };
            build(&mut sql, &mut list);
            if chunk.len() == chunk_size {
                sql.build_cached()
            } else {
                sql.build()
            }
        })
        .collect()
}

/// The common case of [`in_statements`]: `head` (ending in `IN `) followed by the list.
pub fn in_list_statements<T>(
    dialect: Dialect,
    head: &str,
    items: &[T],
    chunk_size: usize,
    to_value: impl Fn(&T) -> Value,
) -> Vec<Statement> {
    in_statements(dialect, items, chunk_size, to_value, |sql, list| {
        sql.sql(head);
        list(sql);
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::database_url::Backend;

    #[test]
    fn rows_fit_the_bind_limit() {
        let sqlite = Dialect::new(Backend::Sqlite);
        assert_eq!(rows_per_statement(sqlite, 2, 500), 500);
        assert_eq!(rows_per_statement(sqlite, 100, 1_000), 327);
        assert_eq!(rows_per_statement(sqlite, 0, 10), 10);
        let pg = Dialect::new(Backend::Postgres);
        assert_eq!(in_chunk_size(pg, 1, 1_000_000), 65_534);
    }

    #[test]
    fn multi_row_inserts_are_chunked() {
        let dialect = Dialect::new(Backend::Postgres);
        let insert = MultiInsert::new(
            dialect,
            "\"t\"",
            &["\"a\"".to_owned(), "\"b\"".to_owned()],
            2,
        )
        .with_tail("ON CONFLICT DO NOTHING");
        let rows = (0..5).map(|n| vec![Value::int(n), Value::text(n.to_string())]);
        let statements = insert.statements(rows);
        assert_eq!(statements.len(), 3);
        assert_eq!(
            statements.first().unwrap().sql(),
            "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert!(statements.first().unwrap().is_cacheable());
        assert!(!statements.last().unwrap().is_cacheable());
        assert_eq!(statements.last().unwrap().params().len(), 2);
    }

    #[test]
    fn in_lists_are_chunked() {
        let dialect = Dialect::new(Backend::Sqlite);
        let ids: Vec<i64> = (0..7).collect();
        let statements = in_statements(
            dialect,
            &ids,
            3,
            |id| Value::int(*id),
            |sql, list| {
                sql.sql("DELETE FROM t WHERE id IN ");
                list(sql);
            },
        );
        assert_eq!(statements.len(), 3);
        assert_eq!(
            statements.first().unwrap().sql(),
            "DELETE FROM t WHERE id IN (?, ?, ?)"
        );
    }
}
