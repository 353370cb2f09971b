//! Transactions on MySQL/MariaDB with one round trip for `BEGIN` and one for `COMMIT`.
//!
//! diesel's `AnsiTransactionManager` sends `BEGIN`/`COMMIT` with `batch_execute`, which on
//! MySQL switches the multi-statement option on and off around the query: three round trips
//! each, a third of a one-change batch. Here both are statements the driver keeps prepared
//! (one `COM_STMT_EXECUTE` each). diesel's transaction status is kept exactly as its own
//! manager keeps it, so a nested `transaction` inside still becomes a savepoint and a broken
//! connection is still reported as such. A server that cannot prepare `BEGIN` (MySQL answers
//! error 1295; MariaDB prepares every statement since 10.6) falls back to diesel's manager for
//! the rest of the connection's life. `ROLLBACK` (the rare path) is always diesel's.

use diesel::connection::{
    AnsiTransactionManager, TransactionDepthChange, TransactionManager, TransactionManagerStatus,
};
use diesel::result::Error;
use diesel::{Connection, MysqlConnection, QueryResult};

use crate::connection::AnyConnection;
use crate::database_url::Backend;
use crate::dialect::Dialect;
use crate::statement::SqlBuilder;

/// How `BEGIN`/`COMMIT` are sent on one MySQL connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MysqlBegin {
    /// Not tried yet.
    #[default]
    Unknown,
    /// As kept-prepared statements (one round trip each).
    Prepared,
    /// Through diesel's manager (the server refused to prepare `BEGIN`).
    Diesel,
}

fn mysql(conn: &mut AnyConnection) -> Option<&mut MysqlConnection> {
    match conn {
        AnyConnection::Mysql(inner) => Some(inner),
        AnyConnection::Sqlite(_) | AnyConnection::Pg(_) => None,
    }
}

/// `BEGIN` or `COMMIT` as a statement the driver keeps prepared.
fn run_prepared(conn: &mut MysqlConnection, sql: &'static str) -> QueryResult<()> {
    let mut statement = SqlBuilder::new(Dialect::new(Backend::Mysql));
    statement.sql(sql);
    conn.execute_returning_count(&statement.build_cached())
        .map(|_| ())
}

fn status(conn: &mut MysqlConnection) -> &mut TransactionManagerStatus {
    <AnsiTransactionManager as TransactionManager<MysqlConnection>>::transaction_manager_status_mut(
        conn,
    )
}

/// True when a top-level transaction can start here (no transaction open, manager valid).
fn at_top_level(conn: &mut MysqlConnection) -> bool {
    matches!(
        status(conn).transaction_state(),
        Ok(state) if state.transaction_depth().is_none()
    )
}

/// Starts a top-level transaction; returns false when the caller must use diesel's manager
/// instead (not on MySQL, inside a transaction already, or `BEGIN` cannot be prepared).
fn begin(conn: &mut AnyConnection, mode: &mut MysqlBegin) -> QueryResult<bool> {
    let Some(inner) = mysql(conn) else {
        return Ok(false);
    };
    if *mode == MysqlBegin::Diesel || !at_top_level(inner) {
        return Ok(false);
    }
    match run_prepared(inner, "BEGIN") {
        Ok(()) => *mode = MysqlBegin::Prepared,
        Err(error) if *mode == MysqlBegin::Prepared => return Err(error),
        Err(_) => {
            // The first prepared BEGIN failed: the server cannot prepare it (MySQL). Nothing
            // started; diesel's manager takes over for this connection.
            *mode = MysqlBegin::Diesel;
            return Ok(false);
        }
    }
    status(inner)
        .transaction_state()?
        .change_transaction_depth(TransactionDepthChange::IncreaseDepth)?;
    Ok(true)
}

/// Commits the top-level transaction started by [`begin`]. A failed `COMMIT` is rolled back
/// (as diesel does); if that fails too the connection is marked broken.
fn commit(conn: &mut MysqlConnection) -> QueryResult<()> {
    match run_prepared(conn, "COMMIT") {
        Ok(()) => {
            status(conn)
                .transaction_state()?
                .change_transaction_depth(TransactionDepthChange::DecreaseDepth)?;
            Ok(())
        }
        Err(commit_error) => match AnsiTransactionManager::rollback_transaction(conn) {
            Ok(()) => Err(commit_error),
            Err(rollback_error) => {
                status(conn).set_in_error();
                Err(Error::RollbackErrorOnCommit {
                    rollback_error: Box::new(rollback_error),
                    commit_error: Box::new(commit_error),
                })
            }
        },
    }
}

/// Runs `work` in a transaction on `conn`: MySQL's top-level transactions as described in the
/// module documentation, everything else through diesel's own manager.
pub fn run<T, E>(
    conn: &mut AnyConnection,
    mode: &mut MysqlBegin,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    if !begin(conn, mode)? {
        return conn.transaction(work);
    }
    let outcome = work(conn);
    let Some(inner) = mysql(conn) else {
        // `begin` only returns true on MySQL.
        return Err(Error::NotInTransaction.into());
    };
    match outcome {
        Ok(value) => {
            commit(inner)?;
            Ok(value)
        }
        Err(user_error) => match AnsiTransactionManager::rollback_transaction(inner) {
            Ok(()) | Err(Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}
