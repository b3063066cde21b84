//! The store's schema, as numbered migrations.
//!
//! `PRAGMA user_version` records how many migrations a file has seen; on
//! open, the missing ones run in order, each in its own transaction. A file
//! from a newer build (a higher version than this list knows) is refused
//! rather than guessed at. Never edit a released migration; append one.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::migrations::Migration;

/// Migration `i` brings a store from version `i` to version `i + 1`: the
/// numbered files of `migrations/`, in order (the same names as the other
/// backend's; `store::migrations` tests both against their folders).
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "0001_catalog",
        sql: include_str!("migrations/0001_catalog.sql"),
    },
    Migration {
        name: "0002_calibrations",
        sql: include_str!("migrations/0002_calibrations.sql"),
    },
    Migration {
        name: "0003_library",
        sql: include_str!("migrations/0003_library.sql"),
    },
    Migration {
        name: "0004_plays",
        sql: include_str!("migrations/0004_plays.sql"),
    },
];

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The file's schema version.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Runs the migrations a file has not seen; returns the version it had.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    let found = version(conn)?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        if version(&tx)? > index as i64 {
            continue;
        }
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(migration = migration.name, "SQLite store migrated");
    }
    Ok(found)
}
