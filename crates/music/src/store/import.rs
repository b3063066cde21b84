//! Writing imported songs: one transaction per import, deduplicated.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{
    params, Connection, OptionalExtension, Statement, Transaction, TransactionBehavior,
};
use serde::Serialize;

use super::{CatalogOrigin, Store, DEFAULT_CATALOG_CSV};
use crate::error::{Error, Result};
use crate::import::{
    read_catalog, read_catalog_file, CatalogFile, FileCounts, ImportedTrack, RowProblem,
};
use crate::song::song_key;

/// How an import treats what is already in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Reject the whole import at the first malformed row.
    pub strict: bool,
    /// Merge into the embedded default catalog instead of replacing it.
    /// (Once the store holds the user's songs, imports always merge.)
    pub add: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Rows read, accepted and rejected, per file.
    pub files: Vec<FileSummary>,
    /// Songs the store did not have before.
    pub songs_added: u64,
    /// Accepted rows that named a song the store already had.
    pub songs_known: u64,
    /// Whether the embedded default catalog was replaced by this import.
    pub replaced_default: bool,
    /// Malformed rows that were skipped.
    #[serde(serialize_with = "problems_as_strings")]
    pub problems: Vec<RowProblem>,
}

/// Row counts of one imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    pub file: PathBuf,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
}

fn problems_as_strings<S: serde::Serializer>(
    problems: &[RowProblem],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(problems.iter().map(ToString::to_string))
}

impl Store {
    /// Imports catalog files (see [`crate::import::catalog_files`]) as one
    /// transaction. Malformed rows are skipped and reported, or, with
    /// `strict`, abort the import; either way a failure leaves the store
    /// unchanged. The first import into a store holding only the embedded
    /// default replaces it, unless `add`. An import that accepts no song at
    /// all is an error ([`Error::NothingAccepted`]) and changes nothing.
    pub fn import_files(
        &mut self,
        files: &[CatalogFile],
        options: ImportOptions,
    ) -> Result<ImportSummary> {
        let source = files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        self.import_with(&source, options, |writer, summary| {
            for file in files {
                let counts =
                    read_catalog_file(file, &mut |track| writer.write(&track), &mut |problem| {
                        reject(problem, options.strict, &mut summary.problems)
                    })?;
                summary.files.push(file_summary(&file.path, counts));
            }
            Ok(())
        })
    }

    /// Imports songs fetched from elsewhere (a Spotify playlist) as one
    /// transaction, with the same rules as [`Store::import_files`].
    pub fn import_tracks(
        &mut self,
        source: &str,
        tracks: &[ImportedTrack],
        options: ImportOptions,
    ) -> Result<ImportSummary> {
        self.import_with(source, options, |writer, summary| {
            for track in tracks {
                writer.write(track)?;
            }
            let n = tracks.len() as u64;
            summary.files.push(file_summary(
                Path::new(source),
                FileCounts {
                    rows: n,
                    accepted: n,
                    rejected: 0,
                },
            ));
            Ok(())
        })
    }

    fn import_with(
        &mut self,
        source: &str,
        options: ImportOptions,
        body: impl FnOnce(&mut Writer<'_>, &mut ImportSummary) -> Result<()>,
    ) -> Result<ImportSummary> {
        let replace_default = !options.add && self.origin()? == CatalogOrigin::Default;
        // A large import inserts into the song-key index in random order; a
        // page cache the size of the index keeps that off the disk. SQLite
        // only takes what it uses, and the default comes back afterwards.
        self.conn
            .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
        let result = self.import_in_transaction(source, replace_default, body);
        let restored = self
            .conn
            .pragma_update(None, "cache_size", DEFAULT_CACHE_KIB);
        // The import's own error matters more than the cache setting's.
        let summary = result?;
        restored?;
        Ok(summary)
    }

    fn import_in_transaction(
        &mut self,
        source: &str,
        replace_default: bool,
        body: impl FnOnce(&mut Writer<'_>, &mut ImportSummary) -> Result<()>,
    ) -> Result<ImportSummary> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut summary = ImportSummary {
            replaced_default: replace_default,
            ..ImportSummary::default()
        };
        let placeholder = if replace_default {
            Some(empty_keeping_ids(&tx)?)
        } else {
            None
        };
        let import_id = begin_import(&tx, source)?;
        {
            let mut writer = Writer::new(&tx, import_id, "user")?;
            body(&mut writer, &mut summary)?;
            summary.songs_added = writer.added;
            summary.songs_known = writer.known;
        }
        if let Some(id) = placeholder {
            tx.execute("DELETE FROM songs WHERE id = ?1", [id])?;
        }
        if summary.songs_added + summary.songs_known == 0 {
            // Dropping `tx` rolls back, the default catalog's removal included.
            return Err(Error::NothingAccepted {
                source_name: source.to_owned(),
                problems: summary.problems,
            });
        }
        finish_import(&tx, import_id, &summary)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('catalog', 'user')
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [],
        )?;
        tx.commit()?;
        Ok(summary)
    }
}

/// Page cache during imports, in KiB (negative cache_size means KiB).
const IMPORT_CACHE_KIB: i64 = -256 * 1024;
/// SQLite's default page cache, in KiB.
const DEFAULT_CACHE_KIB: i64 = -2000;

/// Seeds an empty store with the embedded default catalog.
pub(super) fn seed_default(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let import_id = begin_import(&tx, "embedded default catalog")?;
    let mut summary = ImportSummary::default();
    {
        let mut writer = Writer::new(&tx, import_id, "default")?;
        let counts = read_catalog(
            DEFAULT_CATALOG_CSV.as_bytes(),
            Path::new("embedded default catalog"),
            None,
            &mut |track| writer.write(&track),
            // The embedded catalog is checked by tests; a bad row is a bug.
            &mut |problem| Err(Error::Strict(problem)),
        )?;
        summary
            .files
            .push(file_summary(Path::new("default"), counts));
    }
    finish_import(&tx, import_id, &summary)?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('catalog', 'default')",
        [],
    )?;
    tx.commit()?;
    Ok(())
}

/// Empties the songs table without letting their ids be handed out again.
///
/// SQLite gives a new row the highest id + 1, so after `DELETE FROM songs`
/// ids would start again at 1 and name other songs than they did in open
/// pages and saved sessions. A placeholder row at the old highest id (with
/// a key no real song has: keys are never empty) keeps new ids above every
/// old one; the caller deletes it, returned here, before committing.
fn empty_keeping_ids(tx: &Transaction<'_>) -> Result<i64> {
    let highest: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM songs", [], |row| {
        row.get(0)
    })?;
    tx.execute("DELETE FROM songs", [])?;
    tx.execute(
        "INSERT INTO songs(id, key, title, album, artist, origin)
         VALUES (?1, '', '', '', '', 'placeholder')",
        [highest],
    )?;
    Ok(highest)
}

fn reject(problem: RowProblem, strict: bool, problems: &mut Vec<RowProblem>) -> Result<()> {
    if strict {
        return Err(Error::Strict(problem));
    }
    problems.push(problem);
    Ok(())
}

fn file_summary(path: &Path, counts: FileCounts) -> FileSummary {
    FileSummary {
        file: path.to_path_buf(),
        rows: counts.rows,
        accepted: counts.accepted,
        rejected: counts.rejected,
    }
}

fn begin_import(tx: &Transaction<'_>, source: &str) -> Result<i64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    tx.execute(
        "INSERT INTO imports(source, at, accepted, rejected) VALUES (?1, ?2, 0, 0)",
        params![source, now],
    )?;
    Ok(tx.last_insert_rowid())
}

fn finish_import(tx: &Transaction<'_>, import_id: i64, summary: &ImportSummary) -> Result<()> {
    let accepted: u64 = summary.files.iter().map(|f| f.accepted).sum();
    let rejected: u64 = summary.files.iter().map(|f| f.rejected).sum();
    tx.execute(
        "UPDATE imports SET accepted = ?1, rejected = ?2 WHERE id = ?3",
        params![accepted as i64, rejected as i64, import_id],
    )?;
    Ok(())
}

/// Prepared statements for writing songs inside one import transaction.
struct Writer<'t> {
    import_id: i64,
    /// Songs inserted and songs found already known, so far.
    added: u64,
    known: u64,
    origin: &'static str,
    by_spotify_id: Statement<'t>,
    by_key: Statement<'t>,
    insert: Statement<'t>,
    update: Statement<'t>,
    file: Statement<'t>,
}

impl<'t> Writer<'t> {
    fn new(tx: &'t Transaction<'_>, import_id: i64, origin: &'static str) -> Result<Self> {
        Ok(Writer {
            import_id,
            added: 0,
            known: 0,
            origin,
            by_spotify_id: tx.prepare("SELECT id FROM songs WHERE spotify_id = ?1")?,
            by_key: tx.prepare("SELECT id FROM songs WHERE key = ?1")?,
            insert: tx.prepare(
                "INSERT INTO songs(key, title, album, artist, spotify_id, link, valence, energy,
                                   tempo, popularity, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?,
            // A known song keeps its name; what the new row adds fills gaps
            // or replaces stale values.
            update: tx.prepare(
                "UPDATE songs SET
                    album      = CASE WHEN album = '' THEN ?2 ELSE album END,
                    spotify_id = COALESCE(spotify_id, ?3),
                    link       = COALESCE(?4, link),
                    valence    = COALESCE(?5, valence),
                    energy     = COALESCE(?6, energy),
                    tempo      = COALESCE(?7, tempo),
                    popularity = COALESCE(?8, popularity),
                    origin     = ?9
                 WHERE id = ?1",
            )?,
            // Within one import a song listed twice keeps its best rank;
            // a later import's rank replaces an earlier one.
            file: tx.prepare(
                "INSERT INTO filings(song_id, emotion, rank, import_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(song_id, emotion) DO UPDATE SET
                    rank = CASE WHEN import_id = excluded.import_id
                                THEN MIN(rank, excluded.rank) ELSE excluded.rank END,
                    import_id = excluded.import_id",
            )?,
        })
    }

    fn write(&mut self, imported: &ImportedTrack) -> Result<()> {
        let track = &imported.track;
        let spotify_id = track.spotify_id.as_ref().map(|id| id.as_str());
        let key = song_key(&track.artist, &track.title);
        let mut existing = None;
        if let Some(id) = spotify_id {
            existing = self
                .by_spotify_id
                .query_row([id], |row| row.get::<_, i64>(0))
                .optional()?;
        }
        if existing.is_none() {
            existing = self
                .by_key
                .query_row([&key], |row| row.get::<_, i64>(0))
                .optional()?;
        }
        let (valence, energy, tempo) = match track.features {
            Some(f) => (Some(f.valence), Some(f.energy), f.tempo),
            None => (None, None, None),
        };
        let popularity = track.popularity.map(i64::from);
        let song_id = match existing {
            Some(song_id) => {
                self.update.execute(params![
                    song_id,
                    track.album,
                    spotify_id,
                    track.explicit_link,
                    valence,
                    energy,
                    tempo,
                    popularity,
                    self.origin
                ])?;
                self.known += 1;
                song_id
            }
            None => {
                let song_id = self.insert.insert(params![
                    key,
                    track.title,
                    track.album,
                    track.artist,
                    spotify_id,
                    track.explicit_link,
                    valence,
                    energy,
                    tempo,
                    popularity,
                    self.origin
                ])?;
                self.added += 1;
                song_id
            }
        };
        for filing in &imported.filings {
            self.file.execute(params![
                song_id,
                filing.emotion.name(),
                filing.rank,
                self.import_id
            ])?;
        }
        Ok(())
    }
}
