//! The catalog a fresh store starts with.
//!
//! Built from the two shared catalogs by
//! `cargo run -p melodora-music --example build_default_catalog`; see
//! `assets/catalog/README.md` for what went in and why.

/// The embedded default catalog: one CSV with an emotion column, Spotify
/// ids and audio features where known.
pub const DEFAULT_CATALOG_CSV: &str = include_str!("../../../../assets/catalog/default.csv");
