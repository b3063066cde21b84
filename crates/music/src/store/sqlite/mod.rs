//! The SQLite backend: one file, `melodora.sqlite3`, in the user's data
//! directory. WAL mode lets the server read while a `catalog import`
//! writes; every import is one `IMMEDIATE` transaction.

mod catalog;
mod import;
mod library;
mod plays;
mod profiles;
mod queries;
pub(crate) mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use super::{CatalogOrigin, STORE_FILE};
use crate::error::{Error, Result};

/// An open SQLite store.
pub(crate) struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir` and migrates it.
    pub(crate) fn open(data_dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Write {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(STORE_FILE);
        let conn = Connection::open(&path)?;
        SqliteStore::configure(conn, path)
    }

    /// An in-memory store, migrated and empty.
    pub(crate) fn open_in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory()?;
        SqliteStore::configure(conn, PathBuf::from(":memory:"))
    }

    fn configure(mut conn: Connection, path: PathBuf) -> Result<SqliteStore> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // journal_mode answers with a row; in-memory databases stay "memory".
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let found = schema::version(&conn)?;
        if found > schema::latest_version() {
            return Err(Error::NewerSchema {
                path,
                found,
                known: schema::latest_version(),
            });
        }
        schema::migrate(&mut conn)?;
        Ok(SqliteStore { conn, path })
    }

    fn origin(&self) -> Result<CatalogOrigin> {
        let value: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'catalog'", [], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(CatalogOrigin::from_meta(value.as_deref()))
    }

    fn count(&self, sql: &str) -> Result<u64> {
        Ok(self.conn.query_row(sql, [], |row| row.get::<_, i64>(0))? as u64)
    }
}

impl super::Backend for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn ping(&self) -> Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}
