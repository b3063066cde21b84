//! The PostgreSQL schema, as numbered migrations.
//!
//! `schema_migrations` records each migration applied. Migrating takes a
//! session advisory lock first, so when several servers start on one empty
//! database at once, one applies each migration and the others wait, then
//! find it applied. A database from a newer build (a version this list does
//! not know) is refused rather than guessed at. Never edit a released
//! migration; append one.

use postgres::Client;

use crate::error::{Error, Result};
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

/// The advisory lock key migrations hold ("melodora" in ASCII, folded).
const MIGRATION_LOCK: i64 = 0x6d65_6c6f_646f_7261;

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Applies the migrations the database has not seen, one server at a time.
pub(super) fn migrate(client: &mut Client, location: &str) -> Result<()> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let result = migrate_locked(client, location);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    result?;
    unlocked?;
    Ok(())
}

fn migrate_locked(client: &mut Client, location: &str) -> Result<()> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version     INTEGER PRIMARY KEY,
             applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let found: i64 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
            &[],
        )?
        .get(0);
    if found > latest_version() {
        return Err(Error::NewerSchema {
            path: location.into(),
            found,
            known: latest_version(),
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let mut tx = client.transaction()?;
        tx.batch_execute(migration.sql)?;
        let version = index as i32 + 1;
        tx.execute(
            "INSERT INTO schema_migrations(version) VALUES ($1)",
            &[&version],
        )?;
        tx.commit()?;
        tracing::info!(
            migration = migration.name,
            location,
            "PostgreSQL database migrated"
        );
    }
    Ok(())
}
