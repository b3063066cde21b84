//! The catalog as one JSON document: what `melodora site` writes next to a
//! static page, and what the browser recommends from without SQLite.
//!
//! A file holds every song with the details the page shows, and the
//! emotion lists ("filings") in the order the store streams them, so the
//! index built from a file is the index built from the store it was
//! written from, and both give the same lists.

use std::collections::HashMap;

mod import;

pub use import::{SnapshotImport, MAX_IMPORT_BYTES};

use melodora_core::Emotion;
use serde::{Deserialize, Serialize};

use crate::feedback::Verdict;
use crate::recommend::{
    attach_songs, CatalogIndex, IndexSong, Recommendation, Recommender, Request, Session,
};
use crate::song::Song;

/// The `format` a catalog file declares.
pub const SNAPSHOT_FORMAT: &str = "melodora-catalog";

/// The version of the layout this build writes and reads.
const VERSION: u32 = 1;

/// A whole catalog, serialisable as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    /// Always [`SNAPSHOT_FORMAT`]: a file that says otherwise is not one.
    pub format: String,
    /// Layout version (1).
    pub version: u32,
    /// Every song, by ascending id.
    pub songs: Vec<Song>,
    /// `(song id, emotion, position in that emotion's list)`, by emotion,
    /// rank and song id (the store's order).
    pub filings: Vec<(i64, Emotion, u32)>,
    /// Whether this is the embedded default catalog (the first import
    /// replaces it, as in a store).
    #[serde(default)]
    pub default_catalog: bool,
}

/// Why a catalog file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, or not shaped like a catalog file.
    #[error("not a Melodora catalog file: {0}")]
    Malformed(#[from] serde_json::Error),
    /// JSON of some other kind, or a newer layout.
    #[error("not a Melodora catalog file (format {format:?}, version {version}; expected {SNAPSHOT_FORMAT:?}, version {VERSION})")]
    WrongFormat {
        /// The format it declares.
        format: String,
        /// The version it declares.
        version: u32,
    },
    /// A song whose link would not open a web page (the page puts links in
    /// `href`, so only http and https are accepted).
    #[error("song {id} has a link that is not http(s): {link:?}")]
    BadLink {
        /// The song.
        id: i64,
        /// Its link.
        link: String,
    },
    /// Two songs with one id, or ids out of order.
    #[error("song ids must be unique and ascending; {0} is not")]
    BadOrder(i64),
}

impl CatalogSnapshot {
    /// A file of `songs` (sorted here by id) and `filings`.
    pub fn new(mut songs: Vec<Song>, filings: Vec<(i64, Emotion, u32)>) -> CatalogSnapshot {
        songs.sort_by_key(|s| s.id);
        CatalogSnapshot {
            format: SNAPSHOT_FORMAT.to_string(),
            version: VERSION,
            songs,
            filings,
            default_catalog: false,
        }
    }

    /// Reads and checks a catalog file.
    pub fn from_json(json: &str) -> Result<CatalogSnapshot, SnapshotError> {
        let file: CatalogSnapshot = serde_json::from_str(json)?;
        if file.format != SNAPSHOT_FORMAT || file.version != VERSION {
            return Err(SnapshotError::WrongFormat {
                format: file.format,
                version: file.version,
            });
        }
        let mut previous = None;
        for song in &file.songs {
            if previous.is_some_and(|p| p >= song.id) {
                return Err(SnapshotError::BadOrder(song.id));
            }
            previous = Some(song.id);
            let link = song.link.to_ascii_lowercase();
            if !(link.starts_with("https://") || link.starts_with("http://")) {
                return Err(SnapshotError::BadLink {
                    id: song.id,
                    link: song.link.clone(),
                });
            }
        }
        Ok(file)
    }

    /// Leaves out the library songs (a site that does not ship their
    /// files); they have no filings, so the lists are unchanged.
    pub fn without_library_songs(&mut self) {
        self.songs.retain(|song| song.library.is_none());
    }

    /// The file as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a catalog file serialises")
    }

    /// The recommender's index over this catalog.
    pub fn index(&self) -> CatalogIndex {
        let built: Result<_, std::convert::Infallible> = CatalogIndex::build(|sink| {
            for song in &self.songs {
                sink.song(IndexSong {
                    id: song.id,
                    artist: &song.track.artist,
                    point: song.track.features.map(|f| f.point()),
                    popularity: song.track.popularity.unwrap_or(0).min(100),
                    heard: song.library.is_some(),
                });
            }
            for &(song_id, emotion, rank) in &self.filings {
                sink.filing(song_id, emotion, rank);
            }
            Ok(())
        });
        let Ok(index) = built;
        index
    }
}

/// A catalog file with its recommender: lists without a store, the
/// listener's verdicts given with each request (the browser keeps them).
pub struct SnapshotCatalog {
    songs: HashMap<i64, Song>,
    recommender: Recommender,
}

impl SnapshotCatalog {
    /// Indexes `file`.
    pub fn new(file: CatalogSnapshot) -> SnapshotCatalog {
        let recommender = Recommender::new(file.index());
        SnapshotCatalog {
            songs: file.songs.into_iter().map(|s| (s.id, s)).collect(),
            recommender,
        }
    }

    /// Songs in the catalog.
    pub fn len(&self) -> usize {
        self.songs.len()
    }

    /// Whether the catalog has no songs.
    pub fn is_empty(&self) -> bool {
        self.songs.is_empty()
    }

    /// Whether the catalog has a song with this id.
    pub fn contains(&self, song_id: i64) -> bool {
        self.songs.contains_key(&song_id)
    }

    /// A list for `request` given the listener's `feedback` (song id and
    /// verdict, any order); the session remembers the list, as the
    /// server's sessions do.
    pub fn recommend(
        &self,
        request: &Request,
        session: &mut Session,
        feedback: &[(i64, Verdict)],
    ) -> Vec<Recommendation> {
        let mut feedback = feedback.to_vec();
        // The store hands feedback sorted by song id; so does this, so that
        // one set of verdicts is one cache entry whatever order it came in.
        feedback.sort_by_key(|(id, _)| *id);
        feedback.dedup_by_key(|(id, _)| *id);
        let picks = self.recommender.pick(request, session, &feedback);
        attach_songs(picks, |id| self.songs.get(&id).cloned())
    }
}
