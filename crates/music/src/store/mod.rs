//! The catalog store: songs, emotion lists, imports, feedback and sessions.
//!
//! Two backends keep the same data with the same behaviour: SQLite, one
//! file in the user's data directory and the embedded default
//! ([`Store::open`]), and PostgreSQL, for several servers sharing one
//! catalog ([`Store::connect`], feature `postgres`). [`Store`] is the one
//! interface the rest of the program uses. What does not depend on the
//! database (how an imported row merges with a known song, how lists and
//! statistics are put together) is written once here, over the few
//! primitives each backend provides, by kind of record: the catalog
//! (`CatalogRepository`: songs, filings, imports, each import one
//! transaction), the listeners' profiles (`ProfileRepository`: verdicts,
//! sessions, calibrations), the library's files (`LibraryRepository`) and
//! what played (`PlayRepository`), joined by `Backend` (the connection
//! itself). Each backend keeps them in files of those names
//! (`sqlite/catalog.rs`, `sqlite/profiles.rs`, `sqlite/library.rs`,
//! `sqlite/plays.rs`, and the same under `postgres/`), and its schema as
//! numbered `.sql` migrations (`migrations`).
//!
//! Every import is one transaction: an import that fails or is interrupted
//! (even by `kill -9`) leaves the store exactly as it was.

mod default_catalog;
mod import;
mod library;
mod migrations;
mod plays;
#[cfg(feature = "postgres")]
mod postgres;
mod recommend;
mod sqlite;
mod stats;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use melodora_core::{Calibration, Emotion};

pub use default_catalog::{build_default_catalog, DEFAULT_CATALOG_CSV};
pub use import::{FileSummary, ImportOptions, ImportSummary};
pub use library::{
    FileStamp, HeardFile, KnownFile, LibraryBatch, LibraryEntry, LibraryRoot, SkippedFile,
};
pub use plays::{Play, MAX_REASON_CHARS, PLAYS_KEPT};
pub use stats::{CatalogStats, EmotionCount};

use crate::circumplex::{center, nearest_emotion, MoodPoint};
use crate::error::{Error, Result};
use crate::feedback::Verdict;
use crate::import::{CatalogFile, ImportedTrack};
use crate::recommend::IndexRows;
use crate::snapshot::CatalogSnapshot;
use crate::song::Song;
use import::{ImportKind, SongTable};
use library::LibraryRepository;
use plays::PlayRepository;

/// File name of the SQLite store inside the data directory.
pub const STORE_FILE: &str = "melodora.sqlite3";

/// The per-user data directory (`~/.local/share/melodora` on Linux), used
/// unless `--data-dir` or `MELODORA_DATA_DIR` says otherwise.
pub fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("melodora"))
}

/// Whose songs the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogOrigin {
    /// Nothing yet (only before seeding, or a store opened unseeded).
    Empty,
    /// Only the catalog embedded in the binary.
    Default,
    /// The user has imported songs.
    User,
}

impl CatalogOrigin {
    /// The value kept in the store's `meta` table.
    fn from_meta(value: Option<&str>) -> CatalogOrigin {
        match value {
            Some("default") => CatalogOrigin::Default,
            Some("user") => CatalogOrigin::User,
            _ => CatalogOrigin::Empty,
        }
    }
}

/// The catalog's records: songs, their filings under emotions, and
/// imports, each of which runs as one transaction (`import`).
pub(crate) trait CatalogRepository: Send {
    fn origin(&self) -> Result<CatalogOrigin>;
    fn catalog_generation(&self) -> Result<i64>;
    fn song_count(&self) -> Result<u64>;
    /// Songs by id, in the order asked; unknown ids are left out.
    fn songs(&self, ids: &[i64]) -> Result<Vec<Song>>;
    /// Every song, by id, without its emotions.
    fn all_songs(&self) -> Result<Vec<Song>>;
    /// Ids filed under `emotion`, by rank, then popularity (descending),
    /// then id.
    fn listed_ids(&self, emotion: Emotion) -> Result<Vec<i64>>;
    /// Songs with audio features and no filing: (id, point), by id.
    fn placed_songs(&self) -> Result<Vec<(i64, MoodPoint)>>;
    /// Filings per emotion name.
    fn listed_counts(&self) -> Result<Vec<(String, u64)>>;
    /// Songs with a Spotify id, songs with audio features, imports.
    fn counts(&self) -> Result<(u64, u64, u64)>;
    /// Every filing of a known emotion, by emotion name, rank and song.
    fn each_filing(&self, each: &mut dyn FnMut(i64, Emotion, u32)) -> Result<()>;
    /// Every song by id, then every filing, for the recommender's index.
    fn index_rows(&self, sink: &mut dyn IndexRows) -> Result<()>;
    /// Runs one import in one transaction: `body` writes the songs through
    /// the table it is given; see [`import::run`] for the rules.
    fn import(
        &mut self,
        source: &str,
        kind: ImportKind,
        body: &mut dyn FnMut(&mut dyn SongTable, &mut ImportSummary) -> Result<()>,
    ) -> Result<ImportSummary>;
}

/// What is kept per listener profile: likes and skips, the songs a named
/// session has been shown, a personal calibration.
pub(crate) trait ProfileRepository: Send {
    fn record_feedback(&mut self, profile: &str, song_id: i64, verdict: Verdict) -> Result<()>;
    fn clear_feedback(&mut self, profile: &str, song_id: i64) -> Result<()>;
    fn feedback(&self, profile: &str) -> Result<Vec<(i64, Verdict)>>;
    fn session_seen(&self, session: &str) -> Result<HashSet<i64>>;
    fn save_session(&mut self, session: &str, seen: &HashSet<i64>) -> Result<()>;
    /// A profile's calibration as stored (JSON text), if it has one.
    fn calibration(&self, profile: &str) -> Result<Option<String>>;
    /// Stores (or, `None`, forgets) a profile's calibration.
    fn set_calibration(&mut self, profile: &str, offsets_json: Option<&str>) -> Result<()>;
}

/// One database holding both kinds of record; everything else is
/// [`Store`]'s, written once.
pub(crate) trait Backend:
    CatalogRepository + ProfileRepository + LibraryRepository + PlayRepository
{
    /// Where the data lives, for messages (never a password).
    fn location(&self) -> String;
    /// A cheap round trip: does the database answer?
    fn ping(&self) -> Result<()>;
}

/// An open catalog store.
pub struct Store {
    backend: Box<dyn Backend>,
    location: String,
}

impl Store {
    /// Opens (creating if needed) the SQLite store in `data_dir`, migrates
    /// it and, the first time, seeds it with the embedded default catalog.
    pub fn open(data_dir: &Path) -> Result<Store> {
        let backend = sqlite::SqliteStore::open(data_dir)?;
        Store::seeded(Box::new(backend), true)
    }

    /// An in-memory SQLite store, seeded with the default catalog when
    /// `seed`. For tests and benchmarks.
    pub fn open_in_memory(seed: bool) -> Result<Store> {
        let backend = sqlite::SqliteStore::open_in_memory()?;
        Store::seeded(Box::new(backend), seed)
    }

    /// Connects to the PostgreSQL database at `url`
    /// (`postgres://user:password@host:port/database`, or key=value
    /// settings), migrates it (one server at a time) and, the first time,
    /// seeds it with the embedded default catalog.
    #[cfg(feature = "postgres")]
    pub fn connect(url: &str) -> Result<Store> {
        let backend = postgres::PgStore::connect(url)?;
        Store::seeded(Box::new(backend), true)
    }

    /// Connects to a PostgreSQL database and migrates it, without seeding
    /// it. For tests and benchmarks, like `open_in_memory(false)`.
    #[cfg(feature = "postgres")]
    pub fn connect_unseeded(url: &str) -> Result<Store> {
        let backend = postgres::PgStore::connect(url)?;
        Store::seeded(Box::new(backend), false)
    }

    fn seeded(backend: Box<dyn Backend>, seed: bool) -> Result<Store> {
        let location = backend.location();
        let mut store = Store { backend, location };
        if seed && store.origin()? == CatalogOrigin::Empty && store.song_count()? == 0 {
            import::seed_default(&mut *store.backend)?;
        }
        Ok(store)
    }

    /// Where the store lives, for people: the SQLite file (`:memory:` for
    /// in-memory stores) or the PostgreSQL database as
    /// `postgres://user@host:port/database`, never with its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whose songs the store holds.
    pub fn origin(&self) -> Result<CatalogOrigin> {
        self.backend.origin()
    }

    /// Changes whenever an import commits, from this connection or another
    /// process (`melodora catalog import` while `serve` runs, or another
    /// server on the same database): the id of the latest import. Holders
    /// of a [`crate::Recommender`] compare it to know that their index is
    /// stale.
    pub fn catalog_generation(&self) -> Result<i64> {
        self.backend.catalog_generation()
    }

    /// Number of songs in the store.
    pub fn song_count(&self) -> Result<u64> {
        self.backend.song_count()
    }

    /// Whether the database answers (readiness checks).
    pub fn ping(&self) -> Result<()> {
        self.backend.ping()
    }

    /// Songs by id, in the order asked; unknown ids are left out.
    pub fn songs(&self, ids: &[i64]) -> Result<Vec<Song>> {
        self.backend.songs(ids)
    }

    /// The songs filed under `emotion` (by rank, then popularity), followed by
    /// the unlisted songs the circumplex places there (nearest first). This
    /// is the order `catalog export` writes.
    pub fn emotion_list(&self, emotion: Emotion) -> Result<Vec<Song>> {
        let mut ids = self.backend.listed_ids(emotion)?;
        let mut placed: Vec<(f32, i64)> = self
            .backend
            .placed_songs()?
            .into_iter()
            .filter(|(_, point)| nearest_emotion(*point) == emotion)
            .map(|(id, point)| (point.distance(center(emotion)), id))
            .collect();
        placed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        ids.extend(placed.into_iter().map(|(_, id)| id));
        self.songs(&ids)
    }

    /// Counts for `melodora catalog stats`.
    pub fn stats(&self) -> Result<CatalogStats> {
        let listed = self.backend.listed_counts()?;
        let placed = self.backend.placed_songs()?;
        let (with_spotify_id, with_audio_features, imports) = self.backend.counts()?;
        Ok(CatalogStats::new(
            self.origin()?,
            self.song_count()?,
            with_spotify_id,
            with_audio_features,
            imports,
            &listed,
            &placed,
        ))
    }

    /// The whole catalog as a [`CatalogSnapshot`]: every song, and the
    /// filings in the order [`Store::index_rows`] streams them, so the
    /// file's index is this store's.
    pub fn snapshot(&self) -> Result<CatalogSnapshot> {
        let mut songs = self.backend.all_songs()?;
        let mut filings = Vec::new();
        self.backend
            .each_filing(&mut |song_id, emotion, rank| filings.push((song_id, emotion, rank)))?;
        let position: std::collections::HashMap<i64, usize> =
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

    /// Streams every song and filing to `sink`, for the recommender's index.
    pub fn index_rows(&self, sink: &mut dyn IndexRows) -> Result<()> {
        self.backend.index_rows(sink)
    }

    /// Records `profile`'s verdict on a song; a new verdict replaces the old.
    pub fn record_feedback(&mut self, profile: &str, song_id: i64, verdict: Verdict) -> Result<()> {
        crate::feedback::check_profile_name(profile)?;
        self.backend.record_feedback(profile, song_id, verdict)
    }

    /// Forgets `profile`'s verdict on a song.
    pub fn clear_feedback(&mut self, profile: &str, song_id: i64) -> Result<()> {
        self.backend.clear_feedback(profile, song_id)
    }

    /// All of `profile`'s verdicts, as (song id, verdict), by song id.
    pub fn feedback(&self, profile: &str) -> Result<Vec<(i64, Verdict)>> {
        self.backend.feedback(profile)
    }

    /// `profile`'s personal calibration, if they made one. A stored value
    /// this build cannot read (edited by hand, say) is an error, not `None`.
    pub fn calibration(&self, profile: &str) -> Result<Option<Calibration>> {
        self.backend
            .calibration(profile)?
            .map(|json| {
                serde_json::from_str(&json).map_err(|source| Error::BadCalibration {
                    profile: profile.to_string(),
                    source,
                })
            })
            .transpose()
    }

    /// Keeps `profile`'s personal calibration (replacing one made before),
    /// or forgets it (`None`).
    pub fn set_calibration(
        &mut self,
        profile: &str,
        calibration: Option<&Calibration>,
    ) -> Result<()> {
        crate::feedback::check_profile_name(profile)?;
        let json = calibration
            .map(serde_json::to_string)
            .transpose()
            .map_err(|source| Error::BadCalibration {
                profile: profile.to_string(),
                source,
            })?;
        self.backend.set_calibration(profile, json.as_deref())
    }

    /// Records that `profile`'s player started song `song_id`, chosen for
    /// `mood` (`reason` as the page showed it, cut to
    /// [`MAX_REASON_CHARS`]); the profile keeps its newest [`PLAYS_KEPT`].
    /// The title, artist and Spotify id come from the store, never from
    /// the caller. Returns the play as kept.
    pub fn record_play(
        &mut self,
        profile: &str,
        song_id: i64,
        mood: Option<Emotion>,
        reason: &str,
    ) -> Result<Play> {
        crate::feedback::check_profile_name(profile)?;
        let song = self
            .songs(&[song_id])?
            .pop()
            .ok_or(Error::UnknownSong(song_id))?;
        let play = Play {
            at_ms: plays::now_ms(),
            song_id,
            title: song.track.title,
            artist: song.track.artist,
            spotify_id: song.track.spotify_id.map(|id| id.as_str().to_string()),
            mood,
            reason: plays::kept_reason(reason),
        };
        self.backend.record_play(profile, &play)?;
        Ok(play)
    }

    /// `profile`'s newest `limit` plays (at most [`PLAYS_KEPT`]), newest first.
    pub fn plays(&self, profile: &str, limit: usize) -> Result<Vec<Play>> {
        crate::feedback::check_profile_name(profile)?;
        self.backend.plays(profile, limit.min(PLAYS_KEPT))
    }

    /// Forgets what played for `profile`; how many plays there were.
    pub fn forget_plays(&mut self, profile: &str) -> Result<u64> {
        crate::feedback::check_profile_name(profile)?;
        self.backend.forget_plays(profile)
    }

    /// Songs the named session has been shown.
    pub fn session_seen(&self, session: &str) -> Result<HashSet<i64>> {
        self.backend.session_seen(session)
    }

    /// Replaces the set of songs the named session has been shown (ids of
    /// songs the store does not have are left out).
    pub fn save_session(&mut self, session: &str, seen: &HashSet<i64>) -> Result<()> {
        self.backend.save_session(session, seen)
    }

    /// Imports catalog files (see [`crate::import::catalog_files`]) as one
    /// transaction. Malformed rows are skipped and reported, or, with
    /// `strict`, abort the import; either way a failure leaves the store
    /// unchanged. The first import into a store holding only the embedded
    /// default replaces it, unless `add`. An import that accepts no song at
    /// all is an error ([`crate::Error::NothingAccepted`]) and changes
    /// nothing.
    pub fn import_files(
        &mut self,
        files: &[CatalogFile],
        options: ImportOptions,
    ) -> Result<ImportSummary> {
        let kind = self.user_import(options)?;
        import::import_files(&mut *self.backend, files, options, kind)
    }

    /// Imports songs fetched from elsewhere (a Spotify playlist) as one
    /// transaction, with the same rules as [`Store::import_files`].
    pub fn import_tracks(
        &mut self,
        source: &str,
        tracks: &[ImportedTrack],
        options: ImportOptions,
    ) -> Result<ImportSummary> {
        let kind = self.user_import(options)?;
        import::import_tracks(&mut *self.backend, source, tracks, kind)
    }

    /// The folders of the listener's music library, by path.
    pub fn library_roots(&self) -> Result<Vec<LibraryRoot>> {
        self.backend.library_roots()
    }

    /// Adds a library folder (absolute, resolved; see
    /// [`crate::library::add_folder`]), or finds it when already added.
    pub fn add_library_root(&mut self, path: &Path) -> Result<LibraryRoot> {
        self.backend
            .add_library_root(&library::path_text(path), import::now_secs())
    }

    /// Forgets a library folder and its songs (their feedback too); returns
    /// how many songs went.
    pub fn remove_library_root(&mut self, root_id: i64) -> Result<u64> {
        self.backend
            .remove_library_root(root_id, import::now_secs())
    }

    /// Every library file the store knows, for a scan.
    pub fn library_known_files(&self) -> Result<Vec<KnownFile>> {
        self.backend.known_files()
    }

    /// Files a scan passed over, of one folder or (`None`) all.
    pub fn library_skipped(&self, root_id: Option<i64>) -> Result<Vec<SkippedFile>> {
        self.backend.skipped_files(root_id)
    }

    /// Writes one step of a scan, as one transaction.
    pub fn apply_library_batch(&mut self, batch: &LibraryBatch) -> Result<()> {
        self.backend.apply_library_batch(batch, import::now_secs())
    }

    /// Every library song with its file, by path.
    pub fn library_entries(&self) -> Result<Vec<LibraryEntry>> {
        self.backend.library_entries()
    }

    /// How many library songs the store holds.
    pub fn library_song_count(&self) -> Result<u64> {
        self.backend.library_song_count()
    }

    /// One library song with its file; `None` for an id that is not a
    /// library song.
    pub fn library_entry(&self, song_id: i64) -> Result<Option<LibraryEntry>> {
        self.backend.library_entry(song_id)
    }

    fn user_import(&self, options: ImportOptions) -> Result<ImportKind> {
        Ok(ImportKind::User {
            replace_default: !options.add && self.origin()? == CatalogOrigin::Default,
        })
    }
}
