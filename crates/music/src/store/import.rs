//! Imports, whatever the backend: what an import reports, and how an
//! imported row merges with the songs the store already has.
//!
//! A backend provides the transaction (see `CatalogRepository::import`) and a
//! [`SongTable`] inside it: find a song by Spotify id or by key, insert,
//! update, file under an emotion. The rules are here, once:
//!
//! * a row is the same song as a known one when their Spotify ids match,
//!   or else when their normalised "artist, title" keys do;
//! * a known song keeps its name; what the new row adds fills gaps (album,
//!   Spotify id) or replaces stale values (link, audio features, popularity);
//! * within one import a song listed twice keeps its best rank; a later
//!   import's rank replaces an earlier one;
//! * an import that accepts no song at all changes nothing.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CatalogRepository, DEFAULT_CATALOG_CSV};
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
    /// The file (or a name for an embedded or remote source).
    pub file: PathBuf,
    /// Rows read.
    pub rows: u64,
    /// Rows imported.
    pub accepted: u64,
    /// Rows skipped as malformed.
    pub rejected: u64,
}

fn problems_as_strings<S: serde::Serializer>(
    problems: &[RowProblem],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(problems.iter().map(ToString::to_string))
}

/// Which import a backend runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImportKind {
    /// The embedded default catalog, into an empty store.
    Default,
    /// The user's songs; the first such import replaces the default
    /// catalog unless asked to add to it.
    User { replace_default: bool },
}

impl ImportKind {
    /// The `origin` of the songs it writes, and the store's `catalog`
    /// value afterwards.
    pub(crate) fn origin(self) -> &'static str {
        match self {
            ImportKind::Default => "default",
            ImportKind::User { .. } => "user",
        }
    }
}

/// A song row as an import writes it.
pub(crate) struct SongRow<'a> {
    pub key: &'a str,
    pub title: &'a str,
    pub album: &'a str,
    pub artist: &'a str,
    pub spotify_id: Option<&'a str>,
    pub link: Option<&'a str>,
    pub valence: Option<f32>,
    pub energy: Option<f32>,
    pub tempo: Option<f32>,
    pub popularity: Option<i64>,
    pub origin: &'static str,
}

/// The songs table inside one import's transaction.
pub(crate) trait SongTable {
    fn id_by_spotify_id(&mut self, spotify_id: &str) -> Result<Option<i64>>;
    fn id_by_key(&mut self, key: &str) -> Result<Option<i64>>;
    /// Inserts a new song; returns its id.
    fn insert(&mut self, row: &SongRow<'_>) -> Result<i64>;
    /// Merges `row` into the known song `id` (see the module's rules).
    fn update(&mut self, id: i64, row: &SongRow<'_>) -> Result<()>;
    /// Files a song under an emotion at a rank, for this import.
    fn file(&mut self, song_id: i64, emotion: &str, rank: i64) -> Result<()>;
}

/// Writes one imported row: merged with the song it names, or a new song.
fn write(
    table: &mut dyn SongTable,
    imported: &ImportedTrack,
    origin: &'static str,
    summary: &mut ImportSummary,
) -> Result<()> {
    let track = &imported.track;
    let spotify_id = track.spotify_id.as_ref().map(|id| id.as_str());
    let key = song_key(&track.artist, &track.title);
    let mut existing = None;
    if let Some(id) = spotify_id {
        existing = table.id_by_spotify_id(id)?;
    }
    if existing.is_none() {
        existing = table.id_by_key(&key)?;
    }
    let (valence, energy, tempo) = match track.features {
        Some(f) => (Some(f.valence), Some(f.energy), f.tempo),
        None => (None, None, None),
    };
    let row = SongRow {
        key: &key,
        title: &track.title,
        album: &track.album,
        artist: &track.artist,
        spotify_id,
        link: track.explicit_link.as_deref(),
        valence,
        energy,
        tempo,
        popularity: track.popularity.map(i64::from),
        origin,
    };
    let song_id = match existing {
        Some(song_id) => {
            table.update(song_id, &row)?;
            summary.songs_known += 1;
            song_id
        }
        None => {
            summary.songs_added += 1;
            table.insert(&row)?
        }
    };
    for filing in &imported.filings {
        table.file(song_id, filing.emotion.name(), i64::from(filing.rank))?;
    }
    Ok(())
}

/// Imports catalog files through `catalog` (see `Store::import_files`).
pub(super) fn import_files(
    catalog: &mut dyn CatalogRepository,
    files: &[CatalogFile],
    options: ImportOptions,
    kind: ImportKind,
) -> Result<ImportSummary> {
    let source = files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    catalog.import(&source, kind, &mut |table, summary| {
        for file in files {
            let mut problems = Vec::new();
            let mut written = ImportSummary::default();
            let counts = read_catalog_file(
                file,
                &mut |track| write(table, &track, kind.origin(), &mut written),
                &mut |problem| reject(problem, options.strict, &mut problems),
            )?;
            summary.songs_added += written.songs_added;
            summary.songs_known += written.songs_known;
            summary.problems.extend(problems);
            summary.files.push(file_summary(&file.path, counts));
        }
        Ok(())
    })
}

/// Imports fetched tracks through `catalog` (see `Store::import_tracks`).
pub(super) fn import_tracks(
    catalog: &mut dyn CatalogRepository,
    source: &str,
    tracks: &[ImportedTrack],
    kind: ImportKind,
) -> Result<ImportSummary> {
    catalog.import(source, kind, &mut |table, summary| {
        for track in tracks {
            write(table, track, kind.origin(), summary)?;
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

/// Seeds an empty store with the embedded default catalog.
pub(super) fn seed_default(catalog: &mut dyn CatalogRepository) -> Result<()> {
    let name = Path::new("embedded default catalog");
    catalog.import(
        "embedded default catalog",
        ImportKind::Default,
        &mut |table, summary| {
            let mut written = ImportSummary::default();
            let counts = read_catalog(
                DEFAULT_CATALOG_CSV.as_bytes(),
                name,
                None,
                &mut |track| write(table, &track, "default", &mut written),
                // The embedded catalog is checked by tests; a bad row is a bug.
                &mut |problem| Err(Error::Strict(problem)),
            )?;
            summary.songs_added += written.songs_added;
            summary.songs_known += written.songs_known;
            summary
                .files
                .push(file_summary(Path::new("default"), counts));
            Ok(())
        },
    )?;
    Ok(())
}

/// What a backend checks before committing: an import that accepted no
/// song is refused (the caller then rolls back).
pub(crate) fn check_accepted(source: &str, summary: &mut ImportSummary) -> Result<()> {
    if summary.songs_added + summary.songs_known == 0 {
        return Err(Error::NothingAccepted {
            source_name: source.to_owned(),
            problems: std::mem::take(&mut summary.problems),
        });
    }
    Ok(())
}

/// Rows accepted and rejected over all files, for the `imports` table.
pub(crate) fn totals(summary: &ImportSummary) -> (i64, i64) {
    let accepted: u64 = summary.files.iter().map(|f| f.accepted).sum();
    let rejected: u64 = summary.files.iter().map(|f| f.rejected).sum();
    (accepted as i64, rejected as i64)
}

/// Seconds since the Unix epoch, for `imports.at` and `feedback.at`.
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
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
