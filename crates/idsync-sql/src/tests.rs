//! Tests of the bookkeeping tables against a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use idsync_core::{EntryId, EntryKind};
use uuid::Uuid;

use crate::bookkeeping::{Bookkeeping, Mapping, MappingState, QuarantineRecord};
use crate::connection::{ConnectOptions, Database};
use crate::database_url::DatabaseUrl;
use crate::error::SqlError;
use crate::migrations::run_migrations;

fn open(dir: &tempfile::TempDir) -> Database {
    let url =
        DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("b.db").display())).unwrap();
    Database::connect(&url, &ConnectOptions::default()).unwrap()
}

fn id(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(n))
}

#[test]
fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(&dir);
    let first = run_migrations(&mut db).unwrap();
    assert_eq!(first.len(), 1);
    assert!(run_migrations(&mut db).unwrap().is_empty());
    drop(db);
    let mut db = open(&dir);
    assert!(run_migrations(&mut db).unwrap().is_empty());
}

#[test]
fn mappings_cookie_and_quarantine_round_trip_per_scope() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(&dir);
    run_migrations(&mut db).unwrap();
    let books = Bookkeeping::new("a", 2).unwrap();
    let other = Bookkeeping::new("b", 2).unwrap();
    let mappings: Vec<Mapping> = (1..=5)
        .map(|n| Mapping {
            id: id(n),
            kind: if n % 2 == 0 {
                EntryKind::Group
            } else {
                EntryKind::User
            },
            row_key: Some(i64::try_from(n).unwrap() * 10),
            state: if n == 5 {
                MappingState::Gone
            } else {
                MappingState::Live
            },
        })
        .collect();
    db.transaction(|session| -> Result<(), SqlError> {
        assert_eq!(books.record_mappings(session, &mappings)?, 5);
        books.store_cookie(session, &[0, 159, 255], "fp1")?;
        books.store_cookie(session, &[1, 2], "fp2")?;
        books.quarantine(
            session,
            &[QuarantineRecord {
                id: id(9),
                name: "x".into(),
                reason: "bad".into(),
            }],
        )?;
        Ok(())
    })
    .unwrap();
    let mut session = db.session();
    let mut loaded = books.load_mappings(&mut session).unwrap();
    loaded.sort_by_key(|mapping| mapping.id);
    assert_eq!(loaded, mappings);
    assert_eq!(books.load_live(&mut session).unwrap().len(), 4);
    assert_eq!(
        books.load_cookie(&mut session).unwrap(),
        Some((vec![1, 2], "fp2".to_owned()))
    );
    assert_eq!(other.load_cookie(&mut session).unwrap(), None);
    assert!(other.load_mappings(&mut session).unwrap().is_empty());
    assert_eq!(books.load_quarantine(&mut session).unwrap().len(), 1);
    assert_eq!(books.unquarantine(&mut session, &[id(9)]).unwrap(), 1);
    assert_eq!(
        books
            .forget_mappings(&mut session, &[id(1), id(2), id(3)])
            .unwrap(),
        3
    );
    assert_eq!(books.load_mappings(&mut session).unwrap().len(), 2);
}

#[test]
fn a_failed_transaction_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(&dir);
    run_migrations(&mut db).unwrap();
    let books = Bookkeeping::new("a", 500).unwrap();
    let result = db.transaction(|session| -> Result<(), SqlError> {
        books.store_cookie(session, b"c", "f")?;
        session
            .batch_execute("INSERT INTO no_such_table VALUES (1)")
            .map_err(|source| SqlError::query("boom", source))?;
        Ok(())
    });
    let error = result.unwrap_err();
    assert_eq!(error.kind(), idsync_core::SinkErrorKind::Schema);
    assert_eq!(books.load_cookie(&mut db.session()).unwrap(), None);
}

#[test]
fn scopes_are_validated() {
    assert!(Bookkeeping::new("", 1).is_err());
    assert!(Bookkeeping::new(&"x".repeat(65), 1).is_err());
    assert!(Bookkeeping::new("wiki-prod", 1).is_ok());
}
