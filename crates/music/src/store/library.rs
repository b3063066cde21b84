//! The listener's own music as the store keeps it: the folders they added
//! (roots), one heard file per library song, and the files a scan could
//! not hear. The scanner (`crate::library`) decides what changed; this is
//! what it reads and writes, the same on both backends.
//!
//! A library song is a row of `songs` with origin `library`, so the
//! recommender, feedback and sessions treat it as any other song; its point
//! is the mood heard in its audio, (valence + 1) / 2 and (arousal + 1) / 2.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::song::LibrarySong;

/// The `songs.origin` of library songs.
pub(crate) const LIBRARY_ORIGIN: &str = "library";

/// A folder the listener added: every library file lies under one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryRoot {
    /// The store's id of the root.
    pub id: i64,
    /// The folder, absolute, with symlinks resolved.
    pub path: PathBuf,
    /// When it was added, seconds since the Unix epoch.
    pub added: i64,
}

/// A file's identity as a scan sees it without reading it: where it is,
/// how long it is and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    /// Absolute, symlinks resolved.
    pub path: PathBuf,
    /// Bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// A library file the store knows, for a scan to compare with the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    /// Its song.
    pub song_id: i64,
    /// The root it was found under.
    pub root_id: i64,
    /// Where it was, at which size and time.
    pub stamp: FileStamp,
    /// SHA-256 of its bytes, hex.
    pub hash: String,
}

/// A file a scan could not hear, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Bytes, when the file could be looked at.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Why, in words ("not decodable: ...", "unsupported: ...").
    pub reason: String,
}

/// A file heard by a scan, ready to be kept.
#[derive(Debug, Clone, PartialEq)]
pub struct HeardFile {
    /// Where, at which size and time.
    pub stamp: FileStamp,
    /// SHA-256 of its bytes, hex.
    pub hash: String,
    /// Title, album and artist as shown (from its tags, else its name).
    pub title: String,
    /// Album; empty when unknown.
    pub album: String,
    /// Artist (its tags, else the folder it is in).
    pub artist: String,
    /// What was heard, as the page sees it.
    pub song: LibrarySong,
    /// Every measure, as `melodora_audio::Features` in JSON.
    pub features_json: String,
}

/// What one step of a scan changes, written as one transaction: a scan
/// killed between steps leaves every step before it whole and none after.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibraryBatch {
    /// The root being scanned.
    pub root_id: i64,
    /// Files heard for the first time (or again, after they changed).
    pub heard: Vec<HeardFile>,
    /// Known songs whose file is now elsewhere or has a new time (same
    /// bytes): their new stamp.
    pub restamped: Vec<(i64, FileStamp)>,
    /// Songs whose file is gone.
    pub removed: Vec<i64>,
    /// Files that could not be heard.
    pub skipped: Vec<SkippedFile>,
    /// Files no longer skipped (heard now, changed or gone).
    pub unskipped: Vec<PathBuf>,
}

impl LibraryBatch {
    /// Whether the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.heard.is_empty()
            && self.restamped.is_empty()
            && self.removed.is_empty()
            && self.skipped.is_empty()
            && self.unskipped.is_empty()
    }

    /// Whether the batch changes which songs exist (and so the
    /// recommender's index).
    pub(crate) fn changes_songs(&self) -> bool {
        !self.heard.is_empty() || !self.removed.is_empty()
    }
}

/// A library song with where its file is: what `library list` prints and
/// what the server streams.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LibraryEntry {
    /// The song's id (the same as in recommendations).
    pub id: i64,
    /// The file, absolute.
    pub path: PathBuf,
    /// The root it lies under.
    pub root: PathBuf,
    /// Bytes, as last scanned.
    pub size: u64,
    /// Modification time as last scanned, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// SHA-256 of its bytes, hex.
    pub hash: String,
    /// Title.
    pub title: String,
    /// Album; empty when unknown.
    pub album: String,
    /// Artist.
    pub artist: String,
    /// What was heard.
    pub song: LibrarySong,
}

/// The library's records, on either backend.
pub(crate) trait LibraryRepository: Send {
    /// Every root, by path.
    fn library_roots(&self) -> Result<Vec<LibraryRoot>>;
    /// Adds a root (or finds it, when already added).
    fn add_library_root(&mut self, path: &str, now: i64) -> Result<LibraryRoot>;
    /// Forgets a root, its songs (with their feedback) and its skipped
    /// files, in one transaction; returns the songs removed.
    fn remove_library_root(&mut self, root_id: i64, now: i64) -> Result<u64>;
    /// Every known library file, of every root.
    fn known_files(&self) -> Result<Vec<KnownFile>>;
    /// The skipped files of one root (every root when `None`), by path.
    fn skipped_files(&self, root_id: Option<i64>) -> Result<Vec<SkippedFile>>;
    /// Writes one scan step in one transaction; a step that adds or
    /// removes songs counts as an import (the catalog's generation moves,
    /// so running servers reload their index).
    fn apply_library_batch(&mut self, batch: &LibraryBatch, now: i64) -> Result<()>;
    /// Every library song, by path.
    fn library_entries(&self) -> Result<Vec<LibraryEntry>>;
    /// How many library songs there are.
    fn library_song_count(&self) -> Result<u64>;
    /// One library song, by id.
    fn library_entry(&self, song_id: i64) -> Result<Option<LibraryEntry>>;
}

/// The `songs.key` of a library song: its content hash behind a prefix no
/// catalog row can produce (catalog keys never hold control characters
/// before the separator), so a library file never merges with a catalog
/// song of the same name.
pub(crate) fn library_key(hash: &str) -> String {
    format!("\u{1f}library\u{1f}{hash}")
}

/// A song's point in the store (valence and energy in [0, 1]) from the
/// heard estimate in [-1, 1].
pub(crate) fn stored_point(song: &LibrarySong) -> (f64, f64) {
    (
        ((song.valence + 1.0) / 2.0).clamp(0.0, 1.0),
        ((song.arousal + 1.0) / 2.0).clamp(0.0, 1.0),
    )
}

/// A path as the store keeps it. The scanner skips paths that are not
/// UTF-8 before they get here, so this never loses a byte.
pub(crate) fn path_text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}
