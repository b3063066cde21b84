//! Builds `assets/catalog/default.csv`, the catalog embedded in the binary,
//! from the two shared catalogs:
//!
//! ```text
//! cargo run -p melodora-music --example build_default_catalog -- \
//!     ../shared/catalogs assets/catalog/default.csv
//! ```
//!
//! * the Python original's per-emotion lists (`seed-format/`), in their
//!   order, each song once per list. A list that repeats another list
//!   word for word is left out: the original's `disgusted.csv` is a copy of
//!   `sad.csv`, and filing every sad song under disgust would be wrong;
//!   disgust gets the audio-feature songs the circumplex places there;
//! * every track of `spotify-moods/data_moods.csv`, with its Spotify id,
//!   valence, energy, tempo and popularity and no emotion: the recommender
//!   places it by valence and energy. (Its own Happy/Sad/Energetic/Calm
//!   label is not one of our seven emotions and is not used.)
//!
//! Rows are read with the same importer users get, so the output passes
//! the same validation; a malformed input row stops the build.

use std::path::{Path, PathBuf};

use melodora_music::import::{catalog_files, read_catalog_file, CatalogFile, ImportedTrack};
use melodora_core::Emotion;
use melodora_music::Track;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [catalogs, out] = args.as_slice() else {
        return Err("usage: build_default_catalog <shared/catalogs dir> <out.csv>".into());
    };
    let catalogs = Path::new(catalogs);

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
            eprintln!(
                "leaving out {}: it repeats {} song for song",
                file.path.display(),
                copied.path.display()
            );
            continue;
        }
        lists.push((file, tracks));
    }

    let mut csv = csv::Writer::from_path(out)?;
    csv.write_record(["title", "album", "artist", "spotify_id", "emotion", "valence", "energy", "tempo", "popularity"])?;
    let mut rows = 0;
    for (file, tracks) in &lists {
        let emotion = file.emotion.expect("seed files are named after emotions");
        let mut written: Vec<&Track> = Vec::new();
        for imported in tracks {
            if written.contains(&&imported.track) {
                continue;
            }
            written.push(&imported.track);
            write_row(&mut csv, &imported.track, emotion.name())?;
            rows += 1;
        }
    }
    let moods = CatalogFile {
        path: catalogs.join("spotify-moods/data_moods.csv"),
        emotion: None,
    };
    for imported in read_all(&moods)? {
        write_row(&mut csv, &imported.track, "")?;
        rows += 1;
    }
    csv.flush()?;
    eprintln!("wrote {rows} rows to {out}");
    Ok(())
}

fn read_all(file: &CatalogFile) -> Result<Vec<ImportedTrack>, Box<dyn std::error::Error>> {
    let mut tracks = Vec::new();
    let path: PathBuf = file.path.clone();
    read_catalog_file(
        file,
        &mut |track| {
            tracks.push(track);
            Ok(())
        },
        &mut |problem| Err(melodora_music::Error::Strict(problem)),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(tracks)
}

fn write_row(csv: &mut csv::Writer<std::fs::File>, track: &Track, emotion: &str) -> csv::Result<()> {
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
