//! The catalog's records on PostgreSQL: songs, their filings under emotions,
//! imports (each one transaction).

use std::collections::HashMap;

use melodora_core::Emotion;
use postgres::fallible_iterator::FallibleIterator;

use super::{each_filing, each_filing_in, import, track_from_row, PgStore};
use crate::circumplex::MoodPoint;
use crate::error::Result;
use crate::recommend::{IndexRows, IndexSong};
use crate::song::{Song, Track};
use crate::store::{CatalogOrigin, CatalogRepository};

impl CatalogRepository for PgStore {
    fn origin(&self) -> Result<CatalogOrigin> {
        let rows = self
            .connection()?
            .query("SELECT value FROM meta WHERE key = 'catalog'", &[])?;
        let value: Option<String> = rows.first().map(|row| row.get(0));
        Ok(CatalogOrigin::from_meta(value.as_deref()))
    }

    fn catalog_generation(&self) -> Result<i64> {
        let rows = self
            .connection()?
            .query("SELECT COALESCE(MAX(id), 0)::BIGINT FROM imports", &[])?;
        Ok(rows.first().map_or(0, |row| row.get(0)))
    }

    fn song_count(&self) -> Result<u64> {
        self.connection()?.count("SELECT COUNT(*) FROM songs")
    }

    fn songs(&self, ids: &[i64]) -> Result<Vec<Song>> {
        let mut connection = self.connection()?;
        let sql_songs = "SELECT id, title, album, artist, spotify_id, link, valence, energy, tempo, popularity FROM songs WHERE id = ANY($1)";
        let found = connection.query(sql_songs, &[&ids])?;
        let filed = connection.query(
            "SELECT song_id, emotion FROM filings WHERE song_id = ANY($1)",
            &[&ids],
        )?;
        let mut emotions: HashMap<i64, Vec<Emotion>> = HashMap::new();
        for row in &filed {
            let name: &str = row.get(1);
            // A name this build does not know (a newer build's) is skipped.
            if let Ok(emotion) = name.parse() {
                emotions.entry(row.get(0)).or_default().push(emotion);
            }
        }
        drop(connection);
        let mut library = self.library_songs(ids)?;
        let mut by_id: HashMap<i64, Track> = HashMap::new();
        for row in &found {
            by_id.insert(row.get(0), track_from_row(row)?);
        }
        Ok(ids
            .iter()
            .filter_map(|&id| {
                let track = by_id.remove(&id)?;
                let mut emotions = emotions.remove(&id).unwrap_or_default();
                emotions.sort();
                Some(Song {
                    id,
                    link: track.link(),
                    track,
                    emotions,
                    library: library.remove(&id),
                })
            })
            .collect())
    }

    fn all_songs(&self) -> Result<Vec<Song>> {
        let mut library = self.all_library_songs()?;
        let mut connection = self.connection()?;
        let mut rows = connection.client.query_raw(
            "SELECT id, title, album, artist, spotify_id, link, valence, energy, tempo, popularity FROM songs ORDER BY id",
            std::iter::empty::<i64>(),
        )?;
        let mut songs = Vec::new();
        while let Some(row) = rows.next()? {
            let track = track_from_row(&row)?;
            let id = row.get(0);
            songs.push(Song {
                id,
                link: track.link(),
                track,
                emotions: Vec::new(),
                library: library.remove(&id),
            });
        }
        Ok(songs)
    }

    fn listed_ids(&self, emotion: Emotion) -> Result<Vec<i64>> {
        let rows = self.connection()?.query(
            "SELECT s.id FROM filings f JOIN songs s ON s.id = f.song_id
             WHERE f.emotion = $1
             ORDER BY f.rank, COALESCE(s.popularity, 0) DESC, s.id",
            &[&emotion.name()],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn placed_songs(&self) -> Result<Vec<(i64, MoodPoint)>> {
        let rows = self.connection()?.query(
            "SELECT id, valence, energy FROM songs s
             WHERE valence IS NOT NULL AND energy IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM filings f WHERE f.song_id = s.id)
             ORDER BY id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), MoodPoint::new(row.get(1), row.get(2))))
            .collect())
    }

    fn listed_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows = self.connection()?.query(
            "SELECT emotion, COUNT(*) FROM filings GROUP BY emotion",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get::<_, i64>(1) as u64))
            .collect())
    }

    fn counts(&self) -> Result<(u64, u64, u64)> {
        let mut connection = self.connection()?;
        Ok((
            connection.count("SELECT COUNT(*) FROM songs WHERE spotify_id IS NOT NULL")?,
            connection.count("SELECT COUNT(*) FROM songs WHERE valence IS NOT NULL")?,
            connection.count("SELECT COUNT(*) FROM imports")?,
        ))
    }

    fn each_filing(&self, each: &mut dyn FnMut(i64, Emotion, u32)) -> Result<()> {
        let mut connection = self.connection()?;
        each_filing(&mut connection.client, each)
    }

    fn index_rows(&self, sink: &mut dyn IndexRows) -> Result<()> {
        let mut connection = self.connection()?;
        // One snapshot for songs and filings alike.
        let mut tx = connection
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        {
            let mut rows = tx.query_raw(
                "SELECT id, artist, valence, energy, popularity, origin = 'library' FROM songs ORDER BY id",
                std::iter::empty::<i64>(),
            )?;
            while let Some(row) = rows.next()? {
                let point = match (row.get::<_, Option<f32>>(2), row.get::<_, Option<f32>>(3)) {
                    (Some(valence), Some(energy)) => Some(MoodPoint::new(valence, energy)),
                    _ => None,
                };
                sink.song(IndexSong {
                    id: row.get(0),
                    artist: row.get(1),
                    point,
                    popularity: row.get::<_, Option<i64>>(4).unwrap_or(0).clamp(0, 100) as u8,
                    heard: row.get(5),
                });
            }
        }
        each_filing_in(&mut tx, &mut |song_id, emotion, rank| {
            sink.filing(song_id, emotion, rank)
        })?;
        tx.commit()?;
        Ok(())
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
        let mut connection = self.connection()?;
        import::run(&mut connection.client, source, kind, body)
    }
}
