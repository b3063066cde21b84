//! Music side of Melodora: catalog, importers, store and recommender.
//!
//! * [`import`] reads catalog files: the Python original's per-emotion CSVs
//!   unchanged, one CSV with an emotion column, and Spotify audio-feature
//!   exports; [`spotify`] fetches a playlist from the Spotify Web API.
//! * [`Store`] keeps songs, emotion lists, feedback and sessions in SQLite
//!   and starts from an embedded default catalog.
//! * [`Recommender`] turns an emotion into a list of songs, placing songs
//!   on the circumplex of affect ([`circumplex`]).
//! * [`library`] scans the listener's own music folders, hears each file's
//!   mood from its audio (melodora-audio) and keeps it as songs in the
//!   store, which the recommender treats like any other.
//! * [`CatalogSnapshot`] is the catalog as one JSON document, which a static
//!   site's browser recommends from ([`SnapshotCatalog`]) without SQLite.
//!
//! Features: `store` (default: SQLite through rusqlite, the embedded
//! default catalog, export), `library` (default: the music folder scanner)
//! and `spotify` (default: the Web API client).
//! Without them the crate is the importers, the catalog file and the
//! recommender, and builds for WebAssembly.
//!
//! This crate knows nothing of vision or HTTP servers.

pub mod circumplex;
mod error;
#[cfg(feature = "store")]
mod export;
mod feedback;
pub mod import;
#[cfg(feature = "library")]
pub mod library;
pub mod recommend;
mod snapshot;
mod song;
#[cfg(feature = "spotify")]
pub mod spotify;
#[cfg(feature = "store")]
mod store;

pub use error::{Error, Result};
#[cfg(feature = "store")]
pub use export::{export_original_format, ExportedFile};
pub use feedback::{check_profile_name, Verdict, MAX_PROFILE_CHARS};
pub use recommend::{Mode, Recommendation, Recommender, Request, Session, Source, DEFAULT_LIMIT};
pub use snapshot::{
    CatalogSnapshot, SnapshotCatalog, SnapshotError, SnapshotImport, MAX_IMPORT_BYTES,
    SNAPSHOT_FORMAT,
};
pub use song::{search_link, AudioFeatures, InvalidSpotifyId, LibrarySong, Song, SpotifyId, Track};
#[cfg(feature = "store")]
pub use store::{
    build_default_catalog, default_data_dir, CatalogOrigin, CatalogStats, EmotionCount, FileStamp,
    FileSummary, HeardFile, ImportOptions, ImportSummary, KnownFile, LibraryBatch, LibraryEntry,
    LibraryRoot, Play, SkippedFile, Store, DEFAULT_CATALOG_CSV, MAX_REASON_CHARS, PLAYS_KEPT,
    STORE_FILE,
};
