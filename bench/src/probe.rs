//! Reading the target database the way a test checks it: one connection (idsync-sql, so
//! SQLite, MariaDB and PostgreSQL alike), one bound-parameter query per poll.

use anyhow::{anyhow, Context, Result};
use idsync_sql::{ConnectOptions, Database, DatabaseUrl, ReadAs, SqlBuilder, Value};

/// A read connection and the query that returns a user's display name by login name.
pub struct Probe {
    db: Database,
    /// `SELECT <display> FROM <users> WHERE <name> = ` (the name is bound).
    select_display: String,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("select_display", &self.select_display)
            .finish_non_exhaustive()
    }
}

impl Probe {
    /// Connects to `url`; `select_display` is the query text up to the bound name.
    pub fn connect(url: &str, select_display: &str) -> Result<Self> {
        let url = DatabaseUrl::parse(url).map_err(|error| anyhow!("database url: {error}"))?;
        let db = Database::connect(&url, &ConnectOptions::default())
            .map_err(|error| anyhow!("connect to {}: {error}", url.redacted()))?;
        Ok(Self {
            db,
            select_display: select_display.to_owned(),
        })
    }

    /// The display name stored for the user `name` (bytes; None: no row or NULL).
    pub fn display_name(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        let mut builder = SqlBuilder::new(self.db.dialect());
        builder.sql(&self.select_display).param(Value::text(name));
        let statement = builder.build_cached();
        let rows = self
            .db
            .session()
            .load(&statement, &[ReadAs::Blob])
            .context("poll the display name")?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .and_then(Value::into_blob))
    }

    /// The integer the query `sql` (no parameters) returns, e.g. a `COUNT(*)`.
    pub fn count(&mut self, sql: &str) -> Result<i64> {
        let mut builder = SqlBuilder::new(self.db.dialect());
        builder.sql(sql);
        let statement = builder.build();
        let rows = self
            .db
            .session()
            .load(&statement, &[ReadAs::Int])
            .with_context(|| format!("run `{sql}`"))?;
        rows.into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .and_then(|value| value.as_int())
            .ok_or_else(|| anyhow!("`{sql}` returned no integer"))
    }
}
