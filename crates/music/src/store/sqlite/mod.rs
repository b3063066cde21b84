//! The SQLite backend: one file, `melodora.sqlite3`, in the user's data
//! directory. WAL mode lets the server read while a `catalog import`
//! writes; every import is one `IMMEDIATE` transaction.

mod feedback;
mod import;
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

    fn origin(&self) -> Result<CatalogOrigin> {
        SqliteStore::origin(self)
    }

    fn catalog_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM imports", [], |row| {
                row.get(0)
            })?)
    }

    fn song_count(&self) -> Result<u64> {
        self.count("SELECT COUNT(*) FROM songs")
    }

    fn songs(&self, ids: &[i64]) -> Result<Vec<crate::song::Song>> {
        self.songs_by_id(ids)
    }

    fn all_songs(&self) -> Result<Vec<crate::song::Song>> {
        SqliteStore::all_songs(self)
    }

    fn listed_ids(&self, emotion: melodora_core::Emotion) -> Result<Vec<i64>> {
        SqliteStore::listed_ids(self, emotion)
    }

    fn placed_songs(&self) -> Result<Vec<(i64, crate::circumplex::MoodPoint)>> {
        SqliteStore::placed_songs(self)
    }

    fn listed_counts(&self) -> Result<Vec<(String, u64)>> {
        SqliteStore::listed_counts(self)
    }

    fn counts(&self) -> Result<(u64, u64, u64)> {
        Ok((
            self.count("SELECT COUNT(*) FROM songs WHERE spotify_id IS NOT NULL")?,
            self.count("SELECT COUNT(*) FROM songs WHERE valence IS NOT NULL")?,
            self.count("SELECT COUNT(*) FROM imports")?,
        ))
    }

    fn each_filing(&self, each: &mut dyn FnMut(i64, melodora_core::Emotion, u32)) -> Result<()> {
        SqliteStore::each_filing(self, each)
    }

    fn index_rows(&self, sink: &mut dyn crate::recommend::IndexRows) -> Result<()> {
        SqliteStore::index_rows(self, sink)
    }

    fn record_feedback(
        &mut self,
        profile: &str,
        song_id: i64,
        verdict: crate::feedback::Verdict,
    ) -> Result<()> {
        SqliteStore::record_feedback(self, profile, song_id, verdict)
    }

    fn clear_feedback(&mut self, profile: &str, song_id: i64) -> Result<()> {
        SqliteStore::clear_feedback(self, profile, song_id)
    }

    fn feedback(&self, profile: &str) -> Result<Vec<(i64, crate::feedback::Verdict)>> {
        SqliteStore::feedback(self, profile)
    }

    fn session_seen(&self, session: &str) -> Result<std::collections::HashSet<i64>> {
        SqliteStore::session_seen(self, session)
    }

    fn save_session(&mut self, session: &str, seen: &std::collections::HashSet<i64>) -> Result<()> {
        SqliteStore::save_session(self, session, seen)
    }

    fn calibration(&self, profile: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT offsets FROM calibrations WHERE profile = ?1",
                [profile],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn set_calibration(&mut self, profile: &str, offsets_json: Option<&str>) -> Result<()> {
        match offsets_json {
            Some(json) => self.conn.execute(
                "INSERT INTO calibrations(profile, offsets, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(profile) DO UPDATE SET offsets = excluded.offsets, at = excluded.at",
                rusqlite::params![profile, json, crate::store::import::now_secs()],
            )?,
            None => self
                .conn
                .execute("DELETE FROM calibrations WHERE profile = ?1", [profile])?,
        };
        Ok(())
    }

    fn import(
        &mut self,
        source: &str,
        kind: super::import::ImportKind,
        body: &mut dyn FnMut(
            &mut dyn super::import::SongTable,
            &mut super::ImportSummary,
        ) -> Result<()>,
    ) -> Result<super::ImportSummary> {
        SqliteStore::import(self, source, kind, body)
    }

    fn ping(&self) -> Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}
