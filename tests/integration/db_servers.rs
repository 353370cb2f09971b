//! The test kit's private PostgreSQL and MariaDB servers: start, SQL, URLs, stop, drop.

use std::time::Instant;

use idsync_testkit::mariadb::MariaDb;
use idsync_testkit::postgres::Postgres;
use idsync_testkit::servers::missing_server;

/// True when `pid` no longer runs (gone, or at most a zombie).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => status
            .lines()
            .any(|line| line.starts_with("State:") && line.contains('Z')),
        Err(_) => true,
    }
}

/// Starts PostgreSQL, or returns None (a loud skip) when it is not installed.
pub fn start_postgres() -> Option<Postgres> {
    if let Err(why) = Postgres::available() {
        missing_server("postgresql", &why);
        return None;
    }
    let started = Instant::now();
    let pg = Postgres::start().unwrap();
    eprintln!(
        "postgresql started in {:?} at {}",
        started.elapsed(),
        pg.url()
    );
    Some(pg)
}

/// Starts MariaDB, or returns None (a loud skip) when it is not installed.
pub fn start_mariadb() -> Option<MariaDb> {
    if let Err(why) = MariaDb::available() {
        missing_server("mariadb", &why);
        return None;
    }
    let started = Instant::now();
    let db = MariaDb::start().unwrap();
    eprintln!(
        "mariadb started in {:?} on port {}",
        started.elapsed(),
        db.port()
    );
    Some(db)
}

#[test]
fn postgres_runs_sql_and_stops_on_drop() {
    let Some(mut pg) = start_postgres() else {
        return;
    };
    assert!(pg.is_running());
    let url = pg.create_database("app").unwrap();
    assert_eq!(
        url,
        format!("postgres://postgres@127.0.0.1:{}/app", pg.port())
    );
    pg.execute_in(
        "app",
        "CREATE TABLE t (id int PRIMARY KEY, name text);
         INSERT INTO t VALUES (1, 'tab\there'), (2, NULL), (3, 'zoë')",
    )
    .unwrap();
    let rows = pg
        .query_in("app", "SELECT id, name FROM t ORDER BY id")
        .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Some("1".to_owned()), Some("tab\there".to_owned())],
            vec![Some("2".to_owned()), None],
            vec![Some("3".to_owned()), Some("zoë".to_owned())],
        ]
    );
    assert!(pg
        .query_in("app", "SELECT 1 WHERE false")
        .unwrap()
        .is_empty());
    let encoding = pg
        .query_in(
            "app",
            "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'app'",
        )
        .unwrap();
    assert_eq!(encoding, vec![vec![Some("UTF8".to_owned())]]);
    // Errors are reported with the server's message, and the server keeps running.
    let error = pg
        .execute_in("app", "SELECT * FROM missing_table")
        .unwrap_err();
    assert!(error.to_string().contains("missing_table"), "{error}");
    assert!(pg.create_database("bad;name").is_err());

    let pid = pg.pid();
    let dir = pg.dir().to_path_buf();
    pg.stop().unwrap();
    assert!(gone(pid));
    assert!(!pg.is_running());
    assert!(
        pg.log().contains("database system is shut down"),
        "{}",
        pg.log()
    );
    drop(pg);
    assert!(!dir.exists());
}

#[test]
fn mariadb_runs_sql_and_stops_on_drop() {
    let Some(mut db) = start_mariadb() else {
        return;
    };
    assert!(db.is_running());
    let url = db.create_database("app").unwrap();
    assert_eq!(
        url,
        format!(
            "mysql://idsync:idsync-test-password@127.0.0.1:{}/app",
            db.port()
        )
    );
    db.execute_in(
        "app",
        "CREATE TABLE t (id int PRIMARY KEY, name varchar(50));
         INSERT INTO t VALUES (1, 'tab\there'), (2, NULL), (3, 'zoë')",
    )
    .unwrap();
    let rows = db
        .query_in("app", "SELECT id, name FROM t ORDER BY id")
        .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Some("1".to_owned()), Some("tab\there".to_owned())],
            vec![Some("2".to_owned()), None],
            vec![Some("3".to_owned()), Some("zoë".to_owned())],
        ]
    );
    let charset = db
        .query_in("app", "SELECT @@character_set_database")
        .unwrap();
    assert_eq!(charset, vec![vec![Some("utf8mb4".to_owned())]]);
    // The TCP account of the URL works, with its password, over 127.0.0.1.
    let over_tcp = std::process::Command::new("mariadb")
        .args(["--no-defaults", "-h", "127.0.0.1", "-u", db.user()])
        .arg(format!("-P{}", db.port()))
        .arg(format!("-p{}", db.password()))
        .args([
            "--batch",
            "--skip-column-names",
            "-e",
            "SELECT CURRENT_USER()",
        ])
        .output()
        .unwrap();
    assert!(over_tcp.status.success(), "{over_tcp:?}");
    assert_eq!(String::from_utf8_lossy(&over_tcp.stdout).trim(), "idsync@%");
    let error = db
        .execute_in("app", "SELECT * FROM missing_table")
        .unwrap_err();
    assert!(error.to_string().contains("missing_table"), "{error}");

    let pid = db.pid();
    let dir = db.dir().to_path_buf();
    db.stop().unwrap();
    assert!(gone(pid));
    assert!(!db.is_running());
    drop(db);
    assert!(!dir.exists());
}

#[test]
fn database_servers_start_side_by_side() {
    let started = Instant::now();
    let pgs: Vec<Postgres> = (0..3).filter_map(|_| start_postgres()).collect();
    let dbs: Vec<MariaDb> = (0..3).filter_map(|_| start_mariadb()).collect();
    eprintln!(
        "3 postgresql + 3 mariadb started in {:?}",
        started.elapsed()
    );
    for (index, pg) in pgs.iter().enumerate() {
        pg.execute(&format!("CREATE TABLE mine_{index} (x int)"))
            .unwrap();
    }
    for (index, pg) in pgs.iter().enumerate() {
        let tables = pg
            .query_in(
                "postgres",
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'mine_%'",
            )
            .unwrap();
        assert_eq!(tables, vec![vec![Some(format!("mine_{index}"))]]);
    }
    for (index, db) in dbs.iter().enumerate() {
        db.create_database(&format!("mine_{index}")).unwrap();
    }
    for (index, db) in dbs.iter().enumerate() {
        let names = db.query_in("mysql", "SHOW DATABASES LIKE 'mine%'").unwrap();
        assert_eq!(names, vec![vec![Some(format!("mine_{index}"))]]);
    }
    let pids: Vec<u32> = pgs
        .iter()
        .map(Postgres::pid)
        .chain(dbs.iter().map(MariaDb::pid))
        .collect();
    let stopping = Instant::now();
    drop(pgs);
    drop(dbs);
    eprintln!("6 servers stopped in {:?}", stopping.elapsed());
    assert!(pids.into_iter().all(gone));
}
