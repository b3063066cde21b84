//! The catalog's records on SQLite: songs, their filings under emotions,
//! imports (each one transaction).

use super::SqliteStore;
use crate::error::Result;
use crate::store::{CatalogOrigin, CatalogRepository};

impl CatalogRepository for SqliteStore {
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

    fn import(
        &mut self,
        source: &str,
        kind: crate::store::import::ImportKind,
        body: &mut dyn FnMut(
            &mut dyn crate::store::import::SongTable,
            &mut crate::store::ImportSummary,
        ) -> Result<()>,
    ) -> Result<crate::store::ImportSummary> {
        SqliteStore::import(self, source, kind, body)
    }
}
