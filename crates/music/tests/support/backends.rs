//! Running the same store tests on SQLite and on PostgreSQL.
//!
//! A test written as a plain function that opens its stores with [`open`]
//! runs twice through [`on_both_backends!`]: as `sqlite::NAME`, where
//! `open` gives an in-memory SQLite store, and as `postgres::NAME`, where
//! it gives a store on a database of its own, created for the test (and
//! dropped after it) on the server `MELODORA_TEST_DATABASE_URL` names.
//! `scripts/test.sh` starts that server (`scripts/postgres.sh`); without
//! it the PostgreSQL runs fail, saying how to start one.

#![allow(dead_code)]

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

use melodora_music::Store;

/// Which backend [`open`] uses on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

thread_local! {
    static KIND: RefCell<Option<Kind>> = const { RefCell::new(None) };
    static DATABASES: RefCell<Vec<TestDatabase>> = const { RefCell::new(Vec::new()) };
}

/// Runs `test` with [`open`] giving stores of `kind`; databases it made
/// are dropped afterwards.
pub fn with_backend(kind: Kind, test: impl FnOnce()) {
    KIND.with(|k| *k.borrow_mut() = Some(kind));
    test();
    DATABASES.with(|d| d.borrow_mut().clear());
}

/// A fresh store of the test's backend, seeded with the default catalog
/// when `seed`.
pub fn open(seed: bool) -> Store {
    match KIND
        .with(|k| *k.borrow())
        .expect("run through on_both_backends!")
    {
        Kind::Sqlite => Store::open_in_memory(seed).unwrap(),
        Kind::Postgres => {
            let database = TestDatabase::create();
            let store = if seed {
                Store::connect(&database.url)
            } else {
                Store::connect_unseeded(&database.url)
            }
            .unwrap();
            DATABASES.with(|d| d.borrow_mut().push(database));
            store
        }
    }
}

/// The server the PostgreSQL tests use.
pub fn server_url() -> String {
    std::env::var("MELODORA_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "MELODORA_TEST_DATABASE_URL is not set: start a test server with \
             `eval \"$(scripts/postgres.sh start)\"` (scripts/test.sh does)"
        )
    })
}

/// A database created for one test, dropped when this is.
pub struct TestDatabase {
    pub url: String,
    pub name: String,
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "melodora_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let server = server_url();
        let mut admin = postgres::Client::connect(&server, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot reach the test server {server}: {e}"));
        // One statement each: neither may run inside a transaction, and a
        // batch of several is one.
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        admin.batch_execute(&drop).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = match server.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("MELODORA_TEST_DATABASE_URL must end in /DATABASE: {server}"),
        };
        TestDatabase { url, name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&server_url(), postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Declares each test function once and runs it on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {
        $($(#[$meta])* fn $name() $body)*
        mod sqlite {
            $(#[test] fn $name() {
                $crate::support::backends::with_backend($crate::support::backends::Kind::Sqlite, super::$name)
            })*
        }
        mod postgres {
            $(#[test] fn $name() {
                $crate::support::backends::with_backend($crate::support::backends::Kind::Postgres, super::$name)
            })*
        }
    };
}
