//! Reading the catalog back: songs by id, per-emotion lists, statistics and
//! the compact rows the recommender's index is built from.

use std::collections::HashMap;

use melodora_core::Emotion;
use rusqlite::Row;
use serde::Serialize;

use super::{CatalogOrigin, Store};
use crate::circumplex::{center, nearest_emotion, MoodPoint};
use crate::error::Result;
use crate::recommend::{IndexRows, IndexSong};
use crate::snapshot::CatalogSnapshot;
use crate::song::{AudioFeatures, Song, SpotifyId, Track};

const SONG_COLUMNS: &str =
    "id, title, album, artist, spotify_id, link, valence, energy, tempo, popularity";

/// How many songs each emotion has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmotionCount {
    /// The emotion.
    pub emotion: Emotion,
    /// Songs an emotion list names explicitly.
    pub listed: u64,
    /// Songs with audio features and no list, placed here by the circumplex.
    pub placed: u64,
}

/// A summary of the catalog (`melodora catalog stats`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogStats {
    /// Whether the catalog is the embedded default or imported.
    pub origin: CatalogOrigin,
    /// Songs in the catalog.
    pub songs: u64,
    /// Of those, songs with a Spotify id.
    pub with_spotify_id: u64,
    /// Of those, songs with audio features.
    pub with_audio_features: u64,
    /// Imports run on this store.
    pub imports: u64,
    /// Songs per emotion, in [`Emotion::ALL`] order.
    pub emotions: Vec<EmotionCount>,
}

impl Store {
    /// Songs by id, in the order asked; unknown ids are left out.
    pub fn songs(&self, ids: &[i64]) -> Result<Vec<Song>> {
        let mut by_id = self
            .conn
            .prepare_cached(&format!("SELECT {SONG_COLUMNS} FROM songs WHERE id = ?1"))?;
        let mut emotions_of = self
            .conn
            .prepare_cached("SELECT emotion FROM filings WHERE song_id = ?1")?;
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
            });
        }
        Ok(songs)
    }

    /// The songs filed under `emotion` (by rank, then popularity), followed by
    /// the unlisted songs the circumplex places there (nearest first). This
    /// is the order `catalog export` writes.
    pub fn emotion_list(&self, emotion: Emotion) -> Result<Vec<Song>> {
        let mut listed = self.conn.prepare(
            "SELECT s.id FROM filings f JOIN songs s ON s.id = f.song_id
             WHERE f.emotion = ?1
             ORDER BY f.rank, COALESCE(s.popularity, 0) DESC, s.id",
        )?;
        let mut ids: Vec<i64> = listed
            .query_map([emotion.name()], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut placed: Vec<(f32, i64)> = self
            .placed_songs()?
            .into_iter()
            .filter(|(_, point)| nearest_emotion(*point) == emotion)
            .map(|(id, point)| (point.distance(center(emotion)), id))
            .collect();
        placed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        ids.extend(placed.into_iter().map(|(_, id)| id));
        self.songs(&ids)
    }

    /// Songs with audio features and no emotion list: (id, point).
    fn placed_songs(&self) -> Result<Vec<(i64, MoodPoint)>> {
        let mut statement = self.conn.prepare(
            "SELECT id, valence, energy FROM songs s
             WHERE valence IS NOT NULL AND energy IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM filings f WHERE f.song_id = s.id)",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get(0)?, MoodPoint::new(row.get(1)?, row.get(2)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Counts for `melodora catalog stats`.
    pub fn stats(&self) -> Result<CatalogStats> {
        let count = |sql: &str| -> Result<u64> {
            Ok(self.conn.query_row(sql, [], |row| row.get::<_, i64>(0))? as u64)
        };
        let mut listed: HashMap<String, u64> = HashMap::new();
        let mut statement = self
            .conn
            .prepare("SELECT emotion, COUNT(*) FROM filings GROUP BY emotion")?;
        for row in statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (emotion, n) = row?;
            listed.insert(emotion, n as u64);
        }
        let mut placed = [0u64; Emotion::ALL.len()];
        for (_, point) in self.placed_songs()? {
            placed[nearest_emotion(point) as usize] += 1;
        }
        Ok(CatalogStats {
            origin: self.origin()?,
            songs: count("SELECT COUNT(*) FROM songs")?,
            with_spotify_id: count("SELECT COUNT(*) FROM songs WHERE spotify_id IS NOT NULL")?,
            with_audio_features: count("SELECT COUNT(*) FROM songs WHERE valence IS NOT NULL")?,
            imports: count("SELECT COUNT(*) FROM imports")?,
            emotions: Emotion::ALL
                .into_iter()
                .map(|emotion| EmotionCount {
                    emotion,
                    listed: listed.get(emotion.name()).copied().unwrap_or(0),
                    placed: placed[emotion as usize],
                })
                .collect(),
        })
    }

    /// The whole catalog as a [`CatalogSnapshot`]: every song, and the filings
    /// in the order [`Store::index_rows`] streams them, so the file's index
    /// is this store's.
    pub fn snapshot(&self) -> Result<CatalogSnapshot> {
        let mut statement = self
            .conn
            .prepare(&format!("SELECT {SONG_COLUMNS} FROM songs ORDER BY id"))?;
        let mut rows = statement.query([])?;
        let mut songs = Vec::new();
        while let Some(row) = rows.next()? {
            let track = track_from_row(row)?;
            songs.push(Song {
                id: row.get(0)?,
                link: track.link(),
                track,
                emotions: Vec::new(),
            });
        }
        let mut filings = Vec::new();
        self.each_filing(|song_id, emotion, rank| filings.push((song_id, emotion, rank)))?;
        let position: HashMap<i64, usize> =
            songs.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        for &(song_id, emotion, _) in &filings {
            if let Some(&i) = position.get(&song_id) {
                songs[i].emotions.push(emotion);
            }
        }
        for song in &mut songs {
            song.emotions.sort();
            song.emotions.dedup();
        }
        let mut snapshot = CatalogSnapshot::new(songs, filings);
        snapshot.default_catalog = self.origin()? == CatalogOrigin::Default;
        Ok(snapshot)
    }

    /// Every filing the build knows the emotion of, by emotion, rank and
    /// song (the order of the `filings_by_emotion` index, so no sort): a
    /// stated order, which a snapshot's import reproduces.
    fn each_filing(&self, mut each: impl FnMut(i64, Emotion, u32)) -> Result<()> {
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
    pub fn index_rows(&self, sink: &mut dyn IndexRows) -> Result<()> {
        let mut songs = self
            .conn
            .prepare("SELECT id, artist, valence, energy, popularity FROM songs ORDER BY id")?;
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
            });
        }
        self.each_filing(|song_id, emotion, rank| sink.filing(song_id, emotion, rank))
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
