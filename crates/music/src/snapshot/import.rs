//! Importing catalog CSVs into a snapshot, for a browser without a store:
//! the same readers as `melodora catalog import` and the same merge rules
//! as the store's import (`store/import.rs`), so that the same files give
//! the same catalog and the same lists in the browser as on a server.
//!
//! The rules, as the store applies them: a row is the song with its
//! Spotify id, else the song with its folded artist and title; a known
//! song keeps its name, fills an empty album and a missing Spotify id, and
//! takes the row's link, audio features, tempo and popularity where the row
//! has them; within one import a song listed twice keeps its best rank, a
//! later import's rank replaces an earlier one; the first import replaces
//! the embedded default catalog; ids are never handed out again.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use melodora_core::Emotion;

use super::CatalogSnapshot;
use crate::error::{Error, Result, RowProblem};
use crate::import::{emotion_of_file_name, read_catalog, FileCounts, ImportedTrack};
use crate::song::{search_link, song_key, AudioFeatures, Song, Track};

/// Largest file the browser imports: the page refuses bigger ones before
/// reading them (a 20 MB CSV is about a quarter of a million songs).
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

/// What an import did, as the CLI reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotImport {
    /// Data rows read, over all files.
    pub rows: u64,
    /// Songs the catalog did not have before.
    pub songs_added: u64,
    /// Accepted rows that named a song the catalog had.
    pub songs_known: u64,
    /// Whether the embedded default catalog was replaced.
    pub replaced_default: bool,
    /// Malformed rows, skipped: "file:line: why".
    pub problems: Vec<String>,
}

impl CatalogSnapshot {
    /// Imports `files` (name and CSV bytes; a name such as `sad.csv` files
    /// its rows under that emotion, as the CLI does) into this catalog, as
    /// one import. Malformed rows are skipped and reported; an import that
    /// accepts no song is an error and changes nothing.
    pub fn import(&mut self, files: &[(String, Vec<u8>)]) -> Result<SnapshotImport> {
        let mut merged = Merge::new(self);
        let mut report = SnapshotImport {
            replaced_default: self.default_catalog,
            ..SnapshotImport::default()
        };
        let mut problems: Vec<RowProblem> = Vec::new();
        for (name, bytes) in files {
            if bytes.len() > MAX_IMPORT_BYTES {
                return Err(Error::BadFile {
                    path: name.into(),
                    message: format!(
                        "{} MB; the browser imports files of at most {} MB",
                        bytes.len() / (1024 * 1024),
                        MAX_IMPORT_BYTES / (1024 * 1024)
                    ),
                });
            }
            let emotion = emotion_of_file_name(Path::new(name));
            let counts: FileCounts = read_catalog(
                bytes.as_slice(),
                Path::new(name),
                emotion,
                &mut |track| {
                    merged.write(&track);
                    Ok(())
                },
                &mut |problem| {
                    problems.push(problem);
                    Ok(())
                },
            )?;
            report.rows += counts.rows;
        }
        report.songs_added = merged.added;
        report.songs_known = merged.known;
        if merged.added + merged.known == 0 {
            return Err(Error::NothingAccepted {
                source_name: files
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                problems,
            });
        }
        report.problems = problems.iter().map(ToString::to_string).collect();
        merged.finish(self);
        Ok(report)
    }
}

/// The catalog being imported into, with the lookups the rules need.
struct Merge {
    songs: Vec<Song>,
    by_spotify_id: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
    filings: Vec<(i64, Emotion, u32)>,
    filing_at: HashMap<(i64, Emotion), usize>,
    /// Filings written by this import (their ranks compete; others yield).
    this_import: HashSet<(i64, Emotion)>,
    next_id: i64,
    added: u64,
    known: u64,
}

impl Merge {
    fn new(snapshot: &CatalogSnapshot) -> Merge {
        let highest = snapshot.songs.iter().map(|s| s.id).max().unwrap_or(0);
        let (songs, filings) = if snapshot.default_catalog {
            (Vec::new(), Vec::new())
        } else {
            (snapshot.songs.clone(), snapshot.filings.clone())
        };
        let mut merge = Merge {
            by_spotify_id: HashMap::new(),
            by_key: HashMap::new(),
            filing_at: filings
                .iter()
                .enumerate()
                .map(|(i, &(id, emotion, _))| ((id, emotion), i))
                .collect(),
            songs,
            filings,
            this_import: HashSet::new(),
            next_id: highest + 1,
            added: 0,
            known: 0,
        };
        for (i, song) in merge.songs.iter().enumerate() {
            if let Some(id) = &song.track.spotify_id {
                merge.by_spotify_id.insert(id.as_str().to_string(), i);
            }
            merge
                .by_key
                .insert(song_key(&song.track.artist, &song.track.title), i);
        }
        merge
    }

    fn write(&mut self, imported: &ImportedTrack) {
        let track = &imported.track;
        let key = song_key(&track.artist, &track.title);
        let existing = track
            .spotify_id
            .as_ref()
            .and_then(|id| self.by_spotify_id.get(id.as_str()))
            .or_else(|| self.by_key.get(&key))
            .copied();
        let at = match existing {
            Some(at) => {
                update(&mut self.songs[at], track);
                self.known += 1;
                at
            }
            None => {
                self.songs.push(Song {
                    id: self.next_id,
                    link: track.link(),
                    track: track.clone(),
                    emotions: Vec::new(),
                    library: None,
                });
                self.next_id += 1;
                self.added += 1;
                self.by_key.insert(key, self.songs.len() - 1);
                self.songs.len() - 1
            }
        };
        if let Some(id) = &self.songs[at].track.spotify_id {
            self.by_spotify_id.insert(id.as_str().to_string(), at);
        }
        let song_id = self.songs[at].id;
        for filing in &imported.filings {
            let slot = (song_id, filing.emotion);
            match self.filing_at.get(&slot) {
                Some(&i) => {
                    let rank = &mut self.filings[i].2;
                    *rank = if self.this_import.contains(&slot) {
                        (*rank).min(filing.rank)
                    } else {
                        filing.rank
                    };
                }
                None => {
                    self.filing_at.insert(slot, self.filings.len());
                    self.filings.push((song_id, filing.emotion, filing.rank));
                }
            }
            self.this_import.insert(slot);
        }
    }

    fn finish(mut self, snapshot: &mut CatalogSnapshot) {
        // The store's order (see `Store::snapshot`).
        self.filings
            .sort_by_key(|&(id, emotion, rank)| (emotion.name(), rank, id));
        let mut emotions: HashMap<i64, Vec<Emotion>> = HashMap::new();
        for &(id, emotion, _) in &self.filings {
            emotions.entry(id).or_default().push(emotion);
        }
        for song in &mut self.songs {
            let mut list = emotions.remove(&song.id).unwrap_or_default();
            list.sort();
            list.dedup();
            song.emotions = list;
        }
        let mut next = CatalogSnapshot::new(self.songs, self.filings);
        next.default_catalog = false;
        *snapshot = next;
    }
}

/// A known song meets a new row of it: the store's `UPDATE` (the name is
/// kept; an empty album and a missing Spotify id are filled; the row's
/// link, features, tempo and popularity replace the old where given).
fn update(song: &mut Song, row: &Track) {
    let old = &mut song.track;
    // A snapshot keeps the resolved link only: the explicit one is the
    // link when it is neither the track page nor the search fallback.
    let mut explicit = (old.spotify_id.is_none()
        && song.link != search_link(&old.artist, &old.title))
    .then(|| song.link.clone());
    if old.album.is_empty() {
        old.album = row.album.clone();
    }
    if old.spotify_id.is_none() {
        old.spotify_id = row.spotify_id.clone();
    }
    if row.explicit_link.is_some() {
        explicit = row.explicit_link.clone();
    }
    if let Some(features) = row.features {
        let tempo = features.tempo.or(old.features.and_then(|f| f.tempo));
        old.features = Some(AudioFeatures { tempo, ..features });
    }
    if row.popularity.is_some() {
        old.popularity = row.popularity;
    }
    old.explicit_link = explicit;
    song.link = old.link();
    old.explicit_link = None;
}
