//! The SQLite store: songs, emotion lists, feedback and sessions.
//!
//! One file, `melodora.sqlite3`, in the user's data directory. WAL mode lets
//! the server read while a `catalog import` writes; every import is one
//! transaction, so an import that fails or is interrupted leaves the store
//! exactly as it was.

mod default_catalog;
mod feedback;
mod import;
mod queries;
mod recommend;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

pub use default_catalog::{build_default_catalog, DEFAULT_CATALOG_CSV};
pub use import::{ImportOptions, ImportSummary};
pub use queries::{CatalogStats, EmotionCount};

use crate::error::{Error, Result};

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "melodora.sqlite3";

/// The per-user data directory (`~/.local/share/melodora` on Linux), used
/// unless `--data-dir` or `MELODORA_DATA_DIR` says otherwise.
pub fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("melodora"))
}

/// Whose songs the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogOrigin {
    /// Nothing yet (only before seeding, or a store opened unseeded).
    Empty,
    /// Only the catalog embedded in the binary.
    Default,
    /// The user has imported songs.
    User,
}

/// An open catalog store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, migrates it and,
    /// the first time, seeds it with the embedded default catalog.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Write {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(STORE_FILE);
        let conn = Connection::open(&path)?;
        let mut store = Store::configure(conn, path)?;
        store.seed_default_if_new()?;
        Ok(store)
    }

    /// An in-memory store, seeded with the default catalog when `seed`.
    /// For tests and benchmarks.
    pub fn open_in_memory(seed: bool) -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        let mut store = Store::configure(conn, PathBuf::from(":memory:"))?;
        if seed {
            store.seed_default_if_new()?;
        }
        Ok(store)
    }

    fn configure(mut conn: Connection, path: PathBuf) -> Result<Store> {
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
        Ok(Store { conn, path })
    }

    /// Where the store lives (`:memory:` for in-memory stores).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whose songs the store holds.
    pub fn origin(&self) -> Result<CatalogOrigin> {
        let value: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'catalog'", [], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(match value.as_deref() {
            Some("default") => CatalogOrigin::Default,
            Some("user") => CatalogOrigin::User,
            _ => CatalogOrigin::Empty,
        })
    }

    fn seed_default_if_new(&mut self) -> Result<()> {
        if self.origin()? == CatalogOrigin::Empty && self.song_count()? == 0 {
            import::seed_default(&mut self.conn)?;
        }
        Ok(())
    }

    /// Changes whenever an import commits, from this connection or another
    /// process (`melodora catalog import` while `serve` runs): the id of
    /// the latest import. Holders of a [`crate::Recommender`] compare it to
    /// know that their index is stale.
    pub fn catalog_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM imports", [], |row| {
                row.get(0)
            })?)
    }

    /// Number of songs in the store.
    pub fn song_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM songs", [], |row| row.get::<_, i64>(0))?
            as u64)
    }
}
