//! Reading the catalog back: songs by id, per-emotion lists, statistics and
//! the compact rows the recommender's index is built from.

use melodora_core::Emotion;
use rusqlite::Row;

use super::SqliteStore;
use crate::circumplex::MoodPoint;
use crate::error::Result;
use crate::recommend::{IndexRows, IndexSong};
use crate::song::{AudioFeatures, Song, SpotifyId, Track};

const SONG_COLUMNS: &str =
    "id, title, album, artist, spotify_id, link, valence, energy, tempo, popularity";

impl SqliteStore {
    /// Songs by id, in the order asked; unknown ids are left out.
    pub(super) fn songs_by_id(&self, ids: &[i64]) -> Result<Vec<Song>> {
        let mut by_id = self
            .conn
            .prepare_cached(&format!("SELECT {SONG_COLUMNS} FROM songs WHERE id = ?1"))?;
        let mut emotions_of = self
            .conn
            .prepare_cached("SELECT emotion FROM filings WHERE song_id = ?1")?;
        let mut library = self.library_songs(ids)?;
        let mut songs = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut rows = by_id.query([id])?;
            let Some(row) = rows.next()? else { continue };
            let track = track_from_row(row)?;
            let mut emotions: Vec<Emotion> = Vec::new();
            for name in emotions_of.query_map([id], |row| row.get::<_, String>(0))? {
                // A name this build does not know (a newer build's) is skipped;
                // a failed read is an error.
                if let Ok(emotion) = name?.parse() {
                    emotions.push(emotion);
                }
            }
            emotions.sort();
            songs.push(Song {
                id,
                link: track.link(),
                track,
                emotions,
                library: library.remove(&id),
            });
        }
        Ok(songs)
    }

    /// Ids filed under `emotion`, by rank, popularity (descending), id.
    pub(super) fn listed_ids(&self, emotion: Emotion) -> Result<Vec<i64>> {
        let mut listed = self.conn.prepare(
            "SELECT s.id FROM filings f JOIN songs s ON s.id = f.song_id
             WHERE f.emotion = ?1
             ORDER BY f.rank, COALESCE(s.popularity, 0) DESC, s.id",
        )?;
        let ids = listed
            .query_map([emotion.name()], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Songs with audio features and no emotion list: (id, point).
    pub(super) fn placed_songs(&self) -> Result<Vec<(i64, MoodPoint)>> {
        let mut statement = self.conn.prepare(
            "SELECT id, valence, energy FROM songs s
             WHERE valence IS NOT NULL AND energy IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM filings f WHERE f.song_id = s.id)
             ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get(0)?, MoodPoint::new(row.get(1)?, row.get(2)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Filings per emotion name.
    pub(super) fn listed_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut statement = self
            .conn
            .prepare("SELECT emotion, COUNT(*) FROM filings GROUP BY emotion")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every song by id, without its emotions.
    pub(super) fn all_songs(&self) -> Result<Vec<Song>> {
        let mut statement = self
            .conn
            .prepare(&format!("SELECT {SONG_COLUMNS} FROM songs ORDER BY id"))?;
        let mut library = self.all_library_songs()?;
        let mut rows = statement.query([])?;
        let mut songs = Vec::new();
        while let Some(row) = rows.next()? {
            let track = track_from_row(row)?;
            let id = row.get(0)?;
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

    /// Every filing the build knows the emotion of, by emotion, rank and
    /// song (the order of the `filings_by_emotion` index, so no sort): a
    /// stated order, which a snapshot's import reproduces.
    pub(super) fn each_filing(&self, each: &mut dyn FnMut(i64, Emotion, u32)) -> Result<()> {
        let mut filings = self.conn.prepare(
            "SELECT song_id, emotion, rank FROM filings ORDER BY emotion, rank, song_id",
        )?;
        let mut rows = filings.query([])?;
        while let Some(row) = rows.next()? {
            if let Ok(emotion) = row
                .get_ref(1)?
                .as_str()
                .map_err(rusqlite::Error::from)?
                .parse::<Emotion>()
            {
                each(row.get(0)?, emotion, row.get::<_, i64>(2)?.max(0) as u32);
            }
        }
        Ok(())
    }

    /// Streams every song and filing to `sink`, for the recommender's index.
    pub(super) fn index_rows(&self, sink: &mut dyn IndexRows) -> Result<()> {
        let mut songs = self
            .conn
            .prepare("SELECT id, artist, valence, energy, popularity, origin = 'library' FROM songs ORDER BY id")?;
        let mut rows = songs.query([])?;
        while let Some(row) = rows.next()? {
            let artist: &str = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let point = match (row.get::<_, Option<f32>>(2)?, row.get::<_, Option<f32>>(3)?) {
                (Some(valence), Some(energy)) => Some(MoodPoint::new(valence, energy)),
                _ => None,
            };
            sink.song(IndexSong {
                id: row.get(0)?,
                artist,
                point,
                popularity: row.get::<_, Option<i64>>(4)?.unwrap_or(0).clamp(0, 100) as u8,
                heard: row.get(5)?,
            });
        }
        self.each_filing(&mut |song_id, emotion, rank| sink.filing(song_id, emotion, rank))
    }
}

fn track_from_row(row: &Row<'_>) -> rusqlite::Result<Track> {
    let features = match (row.get::<_, Option<f32>>(6)?, row.get::<_, Option<f32>>(7)?) {
        (Some(valence), Some(energy)) => Some(AudioFeatures {
            valence,
            energy,
            tempo: row.get(8)?,
        }),
        _ => None,
    };
    Ok(Track {
        title: row.get(1)?,
        album: row.get(2)?,
        artist: row.get(3)?,
        spotify_id: row
            .get::<_, Option<String>>(4)?
            .and_then(|id| SpotifyId::parse(&id).ok()),
        explicit_link: row.get(5)?,
        features,
        popularity: row.get::<_, Option<i64>>(9)?.map(|p| p.clamp(0, 100) as u8),
    })
}
