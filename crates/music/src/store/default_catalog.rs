//! The catalog a fresh store starts with, and how it is built.
//!
//! [`DEFAULT_CATALOG_CSV`] is built from the two shared catalogs by
//! `cargo run -p melodora-music --example build_default_catalog`, which calls
//! [`build_default_catalog`]:
//!
//! * the Python original's per-emotion lists (`seed-format/`), in their
//!   order, each song once per list. A list that repeats another list word
//!   for word is left out: the original's `disgusted.csv` is a copy of
//!   `sad.csv`, and filing every sad song under disgust would be wrong;
//!   disgust gets the audio-feature songs the circumplex places there;
//! * every track of `spotify-moods/data_moods.csv`, with its Spotify id,
//!   valence, energy, tempo and popularity and no emotion: the recommender
//!   places it by valence and energy. (Its own Happy/Sad/Energetic/Calm
//!   label is not one of the seven emotions and is not used.)
//!
//! Rows are read with the same importer users get, so the output passes the
//! same validation; a malformed input row stops the build.

use std::path::Path;

use melodora_core::Emotion;

use crate::error::{Error, Result};
use crate::import::{catalog_files, read_catalog_file, CatalogFile, ImportedTrack};
use crate::song::Track;

/// The embedded default catalog: one CSV with an emotion column, Spotify
/// ids and audio features where known.
pub const DEFAULT_CATALOG_CSV: &str = include_str!("../../../../assets/catalog/default.csv");

/// Builds the default catalog's CSV from a `catalogs` directory holding
/// `seed-format/` and `spotify-moods/data_moods.csv`; returns the CSV and
/// notes on what was left out.
pub fn build_default_catalog(catalogs: &Path) -> Result<(String, Vec<String>)> {
    let mut notes = Vec::new();
    let mut lists: Vec<(CatalogFile, Vec<ImportedTrack>)> = Vec::new();
    let mut files = catalog_files(&catalogs.join("seed-format"), None)?;
    // Disgust goes last so that, of the identical pair, sad's list is kept.
    files.sort_by_key(|file| file.emotion == Some(Emotion::Disgust));
    for file in files {
        let tracks = read_all(&file)?;
        let same_songs = |a: &[ImportedTrack], b: &[ImportedTrack]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.track == y.track)
        };
        if let Some((copied, _)) = lists.iter().find(|(_, other)| same_songs(other, &tracks)) {
            notes.push(format!(
                "left out {}: it repeats {} song for song",
                file.path.display(),
                copied.path.display()
            ));
            continue;
        }
        lists.push((file, tracks));
    }

    let csv_error = |e: csv::Error| Error::BadFile {
        path: catalogs.to_path_buf(),
        message: e.to_string(),
    };
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(HEADER).map_err(csv_error)?;
    let mut write =
        |track: &Track, emotion: &str| write_row(&mut csv, track, emotion).map_err(csv_error);
    for (file, tracks) in &lists {
        let emotion = file.emotion.map_or("", Emotion::name);
        let mut written: Vec<&Track> = Vec::new();
        for imported in tracks {
            if !written.contains(&&imported.track) {
                written.push(&imported.track);
                write(&imported.track, emotion)?;
            }
        }
    }
    let moods = CatalogFile {
        path: catalogs.join("spotify-moods/data_moods.csv"),
        emotion: None,
    };
    for imported in read_all(&moods)? {
        write(&imported.track, "")?;
    }
    let bytes = csv.into_inner().map_err(|e| Error::BadFile {
        path: catalogs.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok((
        String::from_utf8(bytes).expect("CSV of UTF-8 fields"),
        notes,
    ))
}

fn read_all(file: &CatalogFile) -> Result<Vec<ImportedTrack>> {
    let mut tracks = Vec::new();
    read_catalog_file(
        file,
        &mut |track| {
            tracks.push(track);
            Ok(())
        },
        &mut |problem| Err(Error::Strict(problem)),
    )?;
    Ok(tracks)
}

const HEADER: [&str; 9] = [
    "title",
    "album",
    "artist",
    "spotify_id",
    "emotion",
    "valence",
    "energy",
    "tempo",
    "popularity",
];

fn write_row(csv: &mut csv::Writer<Vec<u8>>, track: &Track, emotion: &str) -> csv::Result<()> {
    let number = |value: Option<f32>| value.map(|v| v.to_string()).unwrap_or_default();
    let features = track.features;
    csv.write_record([
        track.title.as_str(),
        &track.album,
        &track.artist,
        track.spotify_id.as_ref().map_or("", |id| id.as_str()),
        emotion,
        &number(features.map(|f| f.valence)),
        &number(features.map(|f| f.energy)),
        &number(features.and_then(|f| f.tempo)),
        &track.popularity.map(|p| p.to_string()).unwrap_or_default(),
    ])
}
