//! Music side of Melodora: catalog, importers, store and recommender.
//!
//! * [`import`] reads catalog files: the Python original's per-emotion CSVs
//!   unchanged, one CSV with an emotion column, and Spotify audio-feature
//!   exports; [`spotify`] fetches a playlist from the Spotify Web API.
//! * [`Store`] keeps songs, emotion lists, feedback and sessions in SQLite
//!   and starts from an embedded default catalog.
//! * [`Recommender`] turns an emotion into a list of songs, placing songs
//!   on the circumplex of affect ([`circumplex`]).
//!
//! This crate knows nothing of vision or HTTP servers.

pub mod circumplex;
mod error;
mod export;
pub mod import;
pub mod recommend;
mod song;
pub mod spotify;
mod store;

pub use error::{Error, Result};
pub use export::{export_original_format, ExportedFile};
pub use recommend::{Mode, Recommendation, Recommender, Request, Session, DEFAULT_LIMIT};
pub use song::{search_link, AudioFeatures, InvalidSpotifyId, Song, SpotifyId, Track};
pub use store::{
    build_default_catalog, check_profile_name, default_data_dir, CatalogOrigin, CatalogStats,
    EmotionCount, ImportOptions, ImportSummary, Store, Verdict, DEFAULT_CATALOG_CSV,
    MAX_PROFILE_CHARS, STORE_FILE,
};
