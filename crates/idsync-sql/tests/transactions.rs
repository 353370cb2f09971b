//! `Database::transaction` on every backend: commit, rollback, a nested transaction as a
//! savepoint, and the next transaction after each — on MySQL/MariaDB through the
//! one-round-trip `BEGIN`/`COMMIT` path, checked from a second connection (the commit really
//! happened, nothing is left open).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diesel::Connection;
use idsync_sql::{
    ConnectOptions, Database, DatabaseUrl, ReadAs, Session, SqlBuilder, Statement, Value,
};
use idsync_testkit::mariadb::MariaDb;
use idsync_testkit::postgres::Postgres;
use idsync_testkit::servers::missing_server;

fn connect(url: &str) -> Database {
    Database::connect(
        &DatabaseUrl::parse(url).unwrap(),
        &ConnectOptions::default(),
    )
    .unwrap()
}

fn insert(db: &mut Database, value: i64) -> Statement {
    let mut sql = SqlBuilder::new(db.dialect());
    sql.sql("INSERT INTO tx_probe (v) VALUES ")
        .param_list([Value::int(value)]);
    sql.build_cached()
}

/// The values in `tx_probe`, read by `db`.
fn values(db: &mut Database) -> Vec<i64> {
    db.session()
        .load(
            &Statement::raw("SELECT v FROM tx_probe ORDER BY v"),
            &[ReadAs::Int],
        )
        .unwrap()
        .into_iter()
        .filter_map(|row| row[0].as_int())
        .collect()
}

/// Runs the scenario; returns the connection it used.
fn exercise(url: &str) -> Database {
    let mut db = connect(url);
    let mut other = connect(url);
    db.session()
        .batch_execute("CREATE TABLE tx_probe (v BIGINT NOT NULL PRIMARY KEY)")
        .unwrap();

    // Committed: visible to another connection.
    let one = insert(&mut db, 1);
    db.transaction(|session| session.execute(&one).map(drop))
        .unwrap();
    assert_eq!(values(&mut other), vec![1]);

    // Failed: nothing kept, also when a statement failed inside.
    let two = insert(&mut db, 2);
    let failed: Result<(), diesel::result::Error> = db.transaction(|session| {
        session.execute(&two)?;
        session.execute(&one)?; // duplicate key
        Ok(())
    });
    assert!(failed.is_err());
    assert_eq!(values(&mut other), vec![1]);

    // An error of the caller's own rolls back too.
    let rolled: Result<(), diesel::result::Error> = db.transaction(|session| {
        session.execute(&two)?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(rolled.is_err());
    assert_eq!(values(&mut other), vec![1]);

    // A nested transaction is a savepoint: its rollback keeps the outer work.
    let three = insert(&mut db, 3);
    let four = insert(&mut db, 4);
    let dialect = db.dialect();
    db.transaction(|session| -> Result<(), diesel::result::Error> {
        session.execute(&two)?;
        let inner: Result<(), diesel::result::Error> = session.connection().transaction(|conn| {
            Session::new(conn, dialect).execute(&four)?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(inner.is_err());
        session
            .connection()
            .transaction(|conn| Session::new(conn, dialect).execute(&three).map(drop))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(values(&mut other), vec![1, 2, 3]);

    // Many transactions in a row (the prepared BEGIN/COMMIT are reused), then autocommit
    // outside any transaction still works.
    for value in 10..20 {
        let statement = insert(&mut db, value);
        db.transaction(|session| session.execute(&statement).map(drop))
            .unwrap();
    }
    db.session().execute(&four).unwrap();
    let all = values(&mut other);
    assert_eq!(all.len(), 14);
    assert!(all.contains(&4) && all.contains(&19));
    db
}

/// A session status counter of MariaDB.
fn status(db: &mut Database, name: &str) -> i64 {
    let rows = db
        .session()
        .load(
            &Statement::raw(format!("SHOW SESSION STATUS LIKE '{name}'")),
            &[ReadAs::Text, ReadAs::Text],
        )
        .unwrap();
    rows[0][1].as_text().unwrap().parse().unwrap()
}

#[test]
fn transactions_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    exercise(&format!("sqlite://{}", dir.path().join("t.db").display()));
}

#[test]
fn transactions_on_mariadb() {
    if let Err(why) = MariaDb::available() {
        missing_server("mariadb", &why);
        return;
    }
    let server = MariaDb::start().unwrap();
    let mut db = exercise(&server.create_database("tx").unwrap());
    // BEGIN and COMMIT went as prepared statements: no multi-statement switching
    // (`COM_SET_OPTION`, three round trips per BEGIN or COMMIT through `batch_execute`).
    let before = status(&mut db, "Com_set_option");
    let commits = status(&mut db, "Com_commit");
    let statement = insert(&mut db, 100);
    db.transaction(|session| session.execute(&statement).map(drop))
        .unwrap();
    assert_eq!(status(&mut db, "Com_set_option"), before);
    assert_eq!(status(&mut db, "Com_commit"), commits + 1);
}

#[test]
fn transactions_on_postgres() {
    if let Err(why) = Postgres::available() {
        missing_server("postgres", &why);
        return;
    }
    let server = Postgres::start().unwrap();
    exercise(&server.url());
}
