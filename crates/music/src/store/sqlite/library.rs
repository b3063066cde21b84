//! The library's records on SQLite: roots, heard files, skipped files.

use std::collections::HashMap;
use std::path::PathBuf;

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};

use super::SqliteStore;
use crate::error::Result;
use crate::song::LibrarySong;
use crate::store::library::{
    library_key, path_text, stored_point, FileStamp, KnownFile, LibraryBatch, LibraryEntry,
    LibraryRepository, LibraryRoot, SkippedFile, LIBRARY_ORIGIN,
};

/// The columns [`library_song`] reads, from `library_files f`.
pub(super) const LIBRARY_SONG_COLUMNS: &str = "f.duration_s, f.tempo_bpm, f.loudness_lufs, f.valence, f.arousal, f.quadrant, f.media_type, f.cover_type";

/// A [`LibrarySong`] from the columns of [`LIBRARY_SONG_COLUMNS`],
/// starting at `at`.
pub(super) fn library_song(row: &Row<'_>, at: usize) -> rusqlite::Result<LibrarySong> {
    Ok(LibrarySong {
        duration_s: row.get(at)?,
        tempo_bpm: row.get(at + 1)?,
        loudness_lufs: row.get(at + 2)?,
        valence: row.get(at + 3)?,
        arousal: row.get(at + 4)?,
        quadrant: row.get(at + 5)?,
        media_type: row.get(at + 6)?,
        cover_type: row.get(at + 7)?,
        file: None,
        cover_file: None,
    })
}

const ENTRY_SELECT: &str =
    "SELECT s.id, f.path, r.path, f.size, f.mtime_ns, f.hash, s.title, s.album, s.artist";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<LibraryEntry> {
    Ok(LibraryEntry {
        id: row.get(0)?,
        path: PathBuf::from(row.get::<_, String>(1)?),
        root: PathBuf::from(row.get::<_, String>(2)?),
        size: row.get::<_, i64>(3)?.max(0) as u64,
        mtime_ns: row.get(4)?,
        hash: row.get(5)?,
        title: row.get(6)?,
        album: row.get(7)?,
        artist: row.get(8)?,
        song: library_song(row, 9)?,
    })
}

fn entries_sql(filter: &str) -> String {
    format!(
        "{ENTRY_SELECT}, {LIBRARY_SONG_COLUMNS}
         FROM library_files f JOIN songs s ON s.id = f.song_id
         JOIN library_roots r ON r.id = f.root_id {filter}"
    )
}

impl SqliteStore {
    /// The library part of songs `ids`, by id.
    pub(super) fn library_songs(&self, ids: &[i64]) -> Result<HashMap<i64, LibrarySong>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT f.song_id, {LIBRARY_SONG_COLUMNS} FROM library_files f WHERE f.song_id = ?1"
        ))?;
        let mut found = HashMap::new();
        for &id in ids {
            if let Some(song) = statement
                .query_row([id], |row| library_song(row, 1))
                .optional()?
            {
                found.insert(id, song);
            }
        }
        Ok(found)
    }

    /// The library part of every library song, by id.
    pub(super) fn all_library_songs(&self) -> Result<HashMap<i64, LibrarySong>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT f.song_id, {LIBRARY_SONG_COLUMNS} FROM library_files f"
        ))?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, library_song(row, 1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl LibraryRepository for SqliteStore {
    fn library_roots(&self) -> Result<Vec<LibraryRoot>> {
        let mut statement = self
            .conn
            .prepare("SELECT id, path, added FROM library_roots ORDER BY path")?;
        let rows = statement.query_map([], |row| {
            Ok(LibraryRoot {
                id: row.get(0)?,
                path: PathBuf::from(row.get::<_, String>(1)?),
                added: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_library_root(&mut self, path: &str, now: i64) -> Result<LibraryRoot> {
        self.conn.execute(
            "INSERT INTO library_roots(path, added) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING",
            params![path, now],
        )?;
        Ok(self.conn.query_row(
            "SELECT id, path, added FROM library_roots WHERE path = ?1",
            [path],
            |row| {
                Ok(LibraryRoot {
                    id: row.get(0)?,
                    path: PathBuf::from(row.get::<_, String>(1)?),
                    added: row.get(2)?,
                })
            },
        )?)
    }

    fn remove_library_root(&mut self, root_id: i64, now: i64) -> Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let source: Option<String> = tx
            .query_row(
                "SELECT path FROM library_roots WHERE id = ?1",
                [root_id],
                |row| row.get(0),
            )
            .optional()?;
        let removed = tx.execute(
            "DELETE FROM songs WHERE id IN (SELECT song_id FROM library_files WHERE root_id = ?1)",
            [root_id],
        )?;
        tx.execute("DELETE FROM library_roots WHERE id = ?1", [root_id])?;
        if let Some(path) = source {
            tx.execute(
                "INSERT INTO imports(source, at, accepted, rejected) VALUES (?1, ?2, 0, 0)",
                params![format!("library remove {path}"), now],
            )?;
        }
        tx.commit()?;
        Ok(removed as u64)
    }

    fn known_files(&self) -> Result<Vec<KnownFile>> {
        let mut statement = self.conn.prepare(
            "SELECT song_id, root_id, path, size, mtime_ns, hash FROM library_files ORDER BY path",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(KnownFile {
                song_id: row.get(0)?,
                root_id: row.get(1)?,
                stamp: FileStamp {
                    path: PathBuf::from(row.get::<_, String>(2)?),
                    size: row.get::<_, i64>(3)?.max(0) as u64,
                    mtime_ns: row.get(4)?,
                },
                hash: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn skipped_files(&self, root_id: Option<i64>) -> Result<Vec<SkippedFile>> {
        let mut statement = self.conn.prepare(
            "SELECT path, size, mtime_ns, reason FROM library_skipped
             WHERE ?1 IS NULL OR root_id = ?1 ORDER BY path",
        )?;
        let rows = statement.query_map([root_id], |row| {
            Ok(SkippedFile {
                path: PathBuf::from(row.get::<_, String>(0)?),
                size: row.get::<_, i64>(1)?.max(0) as u64,
                mtime_ns: row.get(2)?,
                reason: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn apply_library_batch(&mut self, batch: &LibraryBatch, now: i64) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut remove = tx.prepare("DELETE FROM songs WHERE id = ?1")?;
            for &song_id in &batch.removed {
                remove.execute([song_id])?;
            }
            let mut restamp = tx.prepare(
                "UPDATE library_files SET path = ?2, size = ?3, mtime_ns = ?4, root_id = ?5
                 WHERE song_id = ?1",
            )?;
            for (song_id, stamp) in &batch.restamped {
                restamp.execute(params![
                    song_id,
                    path_text(&stamp.path),
                    stamp.size as i64,
                    stamp.mtime_ns,
                    batch.root_id
                ])?;
            }
            // A file heard again (it changed) replaces its old song.
            let mut drop_path = tx.prepare(
                "DELETE FROM songs WHERE id IN (SELECT song_id FROM library_files WHERE path = ?1)",
            )?;
            let mut song = tx.prepare(
                "INSERT INTO songs(key, title, album, artist, valence, energy, tempo, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut file = tx.prepare(
                "INSERT INTO library_files(song_id, root_id, path, size, mtime_ns, hash, media_type,
                     duration_s, tempo_bpm, loudness_lufs, valence, arousal, quadrant, cover_type,
                     features, scanned_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?;
            for heard in &batch.heard {
                let path = path_text(&heard.stamp.path);
                drop_path.execute([&path])?;
                let (valence, energy) = stored_point(&heard.song);
                let song_id = song.insert(params![
                    library_key(&heard.hash),
                    heard.title,
                    heard.album,
                    heard.artist,
                    valence,
                    energy,
                    heard.song.tempo_bpm,
                    LIBRARY_ORIGIN
                ])?;
                file.execute(params![
                    song_id,
                    batch.root_id,
                    path,
                    heard.stamp.size as i64,
                    heard.stamp.mtime_ns,
                    heard.hash,
                    heard.song.media_type,
                    heard.song.duration_s,
                    heard.song.tempo_bpm,
                    heard.song.loudness_lufs,
                    heard.song.valence,
                    heard.song.arousal,
                    heard.song.quadrant,
                    heard.song.cover_type,
                    heard.features_json,
                    now
                ])?;
            }
            let mut unskip = tx.prepare("DELETE FROM library_skipped WHERE path = ?1")?;
            for path in &batch.unskipped {
                unskip.execute([path_text(path)])?;
            }
            let mut skip = tx.prepare(
                "INSERT INTO library_skipped(path, root_id, size, mtime_ns, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(path) DO UPDATE SET root_id = excluded.root_id, size = excluded.size,
                     mtime_ns = excluded.mtime_ns, reason = excluded.reason",
            )?;
            for skipped in &batch.skipped {
                skip.execute(params![
                    path_text(&skipped.path),
                    batch.root_id,
                    skipped.size as i64,
                    skipped.mtime_ns,
                    skipped.reason
                ])?;
            }
        }
        if batch.changes_songs() {
            tx.execute(
                "INSERT INTO imports(source, at, accepted, rejected)
                 SELECT 'library scan ' || path, ?2, ?3, ?4 FROM library_roots WHERE id = ?1",
                params![
                    batch.root_id,
                    now,
                    batch.heard.len() as i64,
                    batch.skipped.len() as i64
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn library_entries(&self) -> Result<Vec<LibraryEntry>> {
        let mut statement = self.conn.prepare(&entries_sql("ORDER BY f.path"))?;
        let rows = statement.query_map([], entry_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn library_song_count(&self) -> Result<u64> {
        self.count("SELECT COUNT(*) FROM library_files")
    }

    fn library_entry(&self, song_id: i64) -> Result<Option<LibraryEntry>> {
        let mut statement = self
            .conn
            .prepare_cached(&entries_sql("WHERE f.song_id = ?1"))?;
        Ok(statement.query_row([song_id], entry_from_row).optional()?)
    }
}
