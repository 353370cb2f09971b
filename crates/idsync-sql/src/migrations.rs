//! The bookkeeping migrations: embedded, one directory per backend, recorded in
//! `idsync_schema_migrations` (not diesel's own table, which may belong to the application).

use std::collections::HashSet;
use std::error::Error as StdError;

use diesel::migration::{Migration, MigrationSource};
use diesel::query_builder::QueryFragment;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use tracing::info;

use crate::connection::{AnyConnection, Database};
use crate::dialect::{ColumnType, Dialect};
use crate::error::SqlError;
use crate::statement::{ReadAs, SqlBuilder, Statement, Value};

/// Migrations for SQLite.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Migrations for MySQL and MariaDB.
pub const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// The table recording which bookkeeping migrations ran.
pub const MIGRATIONS_TABLE: &str = "idsync_schema_migrations";

/// Creates or upgrades the `idsync_*` tables; returns the versions applied now (none when the
/// schema is current). Safe to run at every start.
pub fn run_migrations(db: &mut Database) -> Result<Vec<String>, SqlError> {
    let dialect = db.dialect();
    let mut session = db.session();
    session
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} ({} VARCHAR(50) NOT NULL PRIMARY KEY, {} {} NOT NULL DEFAULT CURRENT_TIMESTAMP)",
            dialect.quote_ident(MIGRATIONS_TABLE),
            dialect.quote_ident("version"),
            dialect.quote_ident("run_on"),
            dialect.type_name(ColumnType::Timestamp),
        ))
        .map_err(|source| SqlError::query("cannot create the migrations table", source))?;
    let applied: HashSet<String> = session
        .load(
            &Statement::raw(format!(
                "SELECT {} FROM {}",
                dialect.quote_ident("version"),
                dialect.quote_ident(MIGRATIONS_TABLE)
            )),
            &[ReadAs::Text],
        )
        .map_err(|source| SqlError::query("cannot read the applied migrations", source))?
        .into_iter()
        .filter_map(|row| row.into_iter().next().and_then(Value::into_text))
        .collect();
    let ran = match db.connection() {
        AnyConnection::Sqlite(conn) => {
            run_source(conn, &SQLITE_MIGRATIONS, dialect, &applied, true)
        }
        AnyConnection::Pg(conn) => run_source(conn, &POSTGRES_MIGRATIONS, dialect, &applied, true),
        // MySQL commits implicitly around DDL: a transaction would only pretend.
        AnyConnection::Mysql(conn) => run_source(conn, &MYSQL_MIGRATIONS, dialect, &applied, false),
    }?;
    for version in &ran {
        info!(%version, "applied bookkeeping migration");
    }
    Ok(ran)
}

fn run_source<C>(
    conn: &mut C,
    source: &EmbeddedMigrations,
    dialect: Dialect,
    applied: &HashSet<String>,
    transactional: bool,
) -> Result<Vec<String>, SqlError>
where
    C: Connection + 'static,
    EmbeddedMigrations: MigrationSource<C::Backend>,
    Statement: QueryFragment<C::Backend>,
{
    let mut migrations = MigrationSource::<C::Backend>::migrations(source).map_err(|source| {
        SqlError::Migration {
            version: "*".to_owned(),
            source,
        }
    })?;
    migrations.sort_by_key(|migration| migration.name().version().to_string());
    let mut ran = Vec::new();
    for migration in migrations {
        let version = migration.name().version().to_string();
        if applied.contains(&version) {
            continue;
        }
        let mut record = SqlBuilder::new(dialect);
        record
            .sql("INSERT INTO ")
            .quoted(MIGRATIONS_TABLE)
            .sql(" (")
            .quoted("version")
            .sql(") VALUES (")
            .param(Value::text(version.clone()))
            .sql(")");
        let record = record.build();
        let apply = |conn: &mut C| -> Result<(), Box<dyn StdError + Send + Sync>> {
            migration.run(conn)?;
            conn.execute_returning_count(&record)?;
            Ok(())
        };
        let outcome = if transactional {
            conn.transaction(apply)
        } else {
            apply(conn)
        };
        outcome.map_err(|source| SqlError::Migration {
            version: version.clone(),
            source,
        })?;
        ran.push(version);
    }
    Ok(ran)
}
