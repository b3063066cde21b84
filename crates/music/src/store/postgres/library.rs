//! The library's records on PostgreSQL: roots, heard files, skipped files.

use std::collections::HashMap;
use std::path::PathBuf;

use postgres::Row;

use super::PgStore;
use crate::error::Result;
use crate::song::LibrarySong;
use crate::store::library::{
    library_key, path_text, stored_point, FileStamp, KnownFile, LibraryBatch, LibraryEntry,
    LibraryRepository, LibraryRoot, SkippedFile, LIBRARY_ORIGIN,
};

/// A [`LibrarySong`] from `duration_s, tempo_bpm, loudness_lufs, valence,
/// arousal, quadrant, media_type, cover_type`, starting at column `at`.
fn library_song(row: &Row, at: usize) -> LibrarySong {
    LibrarySong {
        duration_s: row.get(at),
        tempo_bpm: row.get(at + 1),
        loudness_lufs: row.get(at + 2),
        valence: row.get(at + 3),
        arousal: row.get(at + 4),
        quadrant: row.get(at + 5),
        media_type: row.get(at + 6),
        cover_type: row.get(at + 7),
        file: None,
        cover_file: None,
    }
}

fn entry_from_row(row: &Row) -> LibraryEntry {
    LibraryEntry {
        id: row.get(0),
        path: PathBuf::from(row.get::<_, String>(1)),
        root: PathBuf::from(row.get::<_, String>(2)),
        size: row.get::<_, i64>(3).max(0) as u64,
        mtime_ns: row.get(4),
        hash: row.get(5),
        title: row.get(6),
        album: row.get(7),
        artist: row.get(8),
        song: library_song(row, 9),
    }
}

fn root_from_row(row: &Row) -> LibraryRoot {
    LibraryRoot {
        id: row.get(0),
        path: PathBuf::from(row.get::<_, String>(1)),
        added: row.get(2),
    }
}

impl PgStore {
    /// The library part of songs `ids`, by id.
    pub(super) fn library_songs(&self, ids: &[i64]) -> Result<HashMap<i64, LibrarySong>> {
        let rows = self.connection()?.query(
            "SELECT f.song_id, f.duration_s, f.tempo_bpm, f.loudness_lufs, f.valence, f.arousal,
                    f.quadrant, f.media_type, f.cover_type
             FROM library_files f WHERE f.song_id = ANY($1)",
            &[&ids],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), library_song(row, 1)))
            .collect())
    }

    /// The library part of every library song, by id.
    pub(super) fn all_library_songs(&self) -> Result<HashMap<i64, LibrarySong>> {
        let rows = self.connection()?.query(
            "SELECT f.song_id, f.duration_s, f.tempo_bpm, f.loudness_lufs, f.valence, f.arousal,
                    f.quadrant, f.media_type, f.cover_type
             FROM library_files f",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), library_song(row, 1)))
            .collect())
    }
}

impl LibraryRepository for PgStore {
    fn library_roots(&self) -> Result<Vec<LibraryRoot>> {
        let rows = self.connection()?.query(
            "SELECT id, path, added FROM library_roots ORDER BY path COLLATE \"C\"",
            &[],
        )?;
        Ok(rows.iter().map(root_from_row).collect())
    }

    fn add_library_root(&mut self, path: &str, now: i64) -> Result<LibraryRoot> {
        let mut connection = self.connection()?;
        connection.query(
            "INSERT INTO library_roots(path, added) VALUES ($1, $2) ON CONFLICT (path) DO NOTHING",
            &[&path, &now],
        )?;
        let rows = connection.query(
            "SELECT id, path, added FROM library_roots WHERE path = $1",
            &[&path],
        )?;
        Ok(root_from_row(&rows[0]))
    }

    fn remove_library_root(&mut self, root_id: i64, now: i64) -> Result<u64> {
        let mut connection = self.connection()?;
        let mut tx = connection.client.transaction()?;
        let source = tx.query("SELECT path FROM library_roots WHERE id = $1", &[&root_id])?;
        let removed = tx.execute(
            "DELETE FROM songs WHERE id IN (SELECT song_id FROM library_files WHERE root_id = $1)",
            &[&root_id],
        )?;
        tx.execute("DELETE FROM library_roots WHERE id = $1", &[&root_id])?;
        if let Some(row) = source.first() {
            let path: String = row.get(0);
            tx.execute(
                "INSERT INTO imports(source, at, accepted, rejected) VALUES ($1, $2, 0, 0)",
                &[&format!("library remove {path}"), &now],
            )?;
        }
        tx.commit()?;
        Ok(removed)
    }

    fn known_files(&self) -> Result<Vec<KnownFile>> {
        let rows = self.connection()?.query(
            "SELECT song_id, root_id, path, size, mtime_ns, hash FROM library_files
             ORDER BY path COLLATE \"C\"",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| KnownFile {
                song_id: row.get(0),
                root_id: row.get(1),
                stamp: FileStamp {
                    path: PathBuf::from(row.get::<_, String>(2)),
                    size: row.get::<_, i64>(3).max(0) as u64,
                    mtime_ns: row.get(4),
                },
                hash: row.get(5),
            })
            .collect())
    }

    fn skipped_files(&self, root_id: Option<i64>) -> Result<Vec<SkippedFile>> {
        let rows = self.connection()?.query(
            "SELECT path, size, mtime_ns, reason FROM library_skipped
             WHERE $1::BIGINT IS NULL OR root_id = $1 ORDER BY path COLLATE \"C\"",
            &[&root_id],
        )?;
        Ok(rows
            .iter()
            .map(|row| SkippedFile {
                path: PathBuf::from(row.get::<_, String>(0)),
                size: row.get::<_, i64>(1).max(0) as u64,
                mtime_ns: row.get(2),
                reason: row.get(3),
            })
            .collect())
    }

    fn apply_library_batch(&mut self, batch: &LibraryBatch, now: i64) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection()?;
        let mut tx = connection.client.transaction()?;
        for &song_id in &batch.removed {
            tx.execute("DELETE FROM songs WHERE id = $1", &[&song_id])?;
        }
        for (song_id, stamp) in &batch.restamped {
            tx.execute(
                "UPDATE library_files SET path = $2, size = $3, mtime_ns = $4, root_id = $5
                 WHERE song_id = $1",
                &[
                    song_id,
                    &path_text(&stamp.path),
                    &(stamp.size as i64),
                    &stamp.mtime_ns,
                    &batch.root_id,
                ],
            )?;
        }
        for heard in &batch.heard {
            let path = path_text(&heard.stamp.path);
            // A file heard again (it changed) replaces its old song.
            tx.execute(
                "DELETE FROM songs WHERE id IN (SELECT song_id FROM library_files WHERE path = $1)",
                &[&path],
            )?;
            let (valence, energy) = stored_point(&heard.song);
            let tempo = heard.song.tempo_bpm.map(|t| t as f32);
            let song_id: i64 = tx
                .query_one(
                    "INSERT INTO songs(key, title, album, artist, valence, energy, tempo, origin)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &library_key(&heard.hash),
                        &heard.title,
                        &heard.album,
                        &heard.artist,
                        &(valence as f32),
                        &(energy as f32),
                        &tempo,
                        &LIBRARY_ORIGIN,
                    ],
                )?
                .get(0);
            tx.execute(
                "INSERT INTO library_files(song_id, root_id, path, size, mtime_ns, hash, media_type,
                     duration_s, tempo_bpm, loudness_lufs, valence, arousal, quadrant, cover_type,
                     features, scanned_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                &[
                    &song_id,
                    &batch.root_id,
                    &path,
                    &(heard.stamp.size as i64),
                    &heard.stamp.mtime_ns,
                    &heard.hash,
                    &heard.song.media_type,
                    &heard.song.duration_s,
                    &heard.song.tempo_bpm,
                    &heard.song.loudness_lufs,
                    &heard.song.valence,
                    &heard.song.arousal,
                    &heard.song.quadrant,
                    &heard.song.cover_type,
                    &heard.features_json,
                    &now,
                ],
            )?;
        }
        for path in &batch.unskipped {
            tx.execute(
                "DELETE FROM library_skipped WHERE path = $1",
                &[&path_text(path)],
            )?;
        }
        for skipped in &batch.skipped {
            tx.execute(
                "INSERT INTO library_skipped(path, root_id, size, mtime_ns, reason)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (path) DO UPDATE SET root_id = excluded.root_id, size = excluded.size,
                     mtime_ns = excluded.mtime_ns, reason = excluded.reason",
                &[
                    &path_text(&skipped.path),
                    &batch.root_id,
                    &(skipped.size as i64),
                    &skipped.mtime_ns,
                    &skipped.reason,
                ],
            )?;
        }
        if batch.changes_songs() {
            tx.execute(
                "INSERT INTO imports(source, at, accepted, rejected)
                 SELECT 'library scan ' || path, $2, $3, $4 FROM library_roots WHERE id = $1",
                &[
                    &batch.root_id,
                    &now,
                    &(batch.heard.len() as i64),
                    &(batch.skipped.len() as i64),
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn library_entries(&self) -> Result<Vec<LibraryEntry>> {
        let rows = self.connection()?.query(
            "SELECT s.id, f.path, r.path, f.size, f.mtime_ns, f.hash, s.title, s.album, s.artist,
                    f.duration_s, f.tempo_bpm, f.loudness_lufs, f.valence, f.arousal, f.quadrant,
                    f.media_type, f.cover_type
             FROM library_files f JOIN songs s ON s.id = f.song_id
             JOIN library_roots r ON r.id = f.root_id ORDER BY f.path COLLATE \"C\"",
            &[],
        )?;
        Ok(rows.iter().map(entry_from_row).collect())
    }

    fn library_song_count(&self) -> Result<u64> {
        self.connection()?
            .count("SELECT COUNT(*) FROM library_files")
    }

    fn library_entry(&self, song_id: i64) -> Result<Option<LibraryEntry>> {
        let rows = self.connection()?.query(
            "SELECT s.id, f.path, r.path, f.size, f.mtime_ns, f.hash, s.title, s.album, s.artist,
                    f.duration_s, f.tempo_bpm, f.loudness_lufs, f.valence, f.arousal, f.quadrant,
                    f.media_type, f.cover_type
             FROM library_files f JOIN songs s ON s.id = f.song_id
             JOIN library_roots r ON r.id = f.root_id WHERE f.song_id = $1",
            &[&song_id],
        )?;
        Ok(rows.first().map(entry_from_row))
    }
}
