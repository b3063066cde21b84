//! Writing the catalog back out in the original's per-emotion format.

use std::path::{Path, PathBuf};

use melodora_core::Emotion;

use crate::error::{Error, Result};
use crate::store::Store;

/// One written file and how many songs it lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportedFile {
    /// The file written.
    pub path: PathBuf,
    /// Songs it lists.
    pub songs: usize,
}

/// Writes `angry.csv`, `disgusted.csv`, ... `surprised.csv` into `dir` in
/// the original's layout (pandas' unnamed index column, Name, Album,
/// Artist) plus a Link column, each list in [`Store::emotion_list`] order,
/// so that importing the directory gives the same lists back. Existing
/// files are only replaced with `overwrite`; none is touched otherwise.
pub fn export_original_format(
    store: &Store,
    dir: &Path,
    overwrite: bool,
) -> Result<Vec<ExportedFile>> {
    let path_of = |emotion: Emotion| dir.join(format!("{}.csv", emotion.original_name()));
    if !overwrite {
        if let Some(existing) = Emotion::ALL.into_iter().map(path_of).find(|p| p.exists()) {
            return Err(Error::WouldOverwrite { path: existing });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for emotion in Emotion::ALL {
        let path = path_of(emotion);
        let songs = store.emotion_list(emotion)?;
        let write_error = |err: csv::Error| Error::Write {
            path: path.clone(),
            source: std::io::Error::other(err),
        };
        // Write beside the target and rename, so a failure never leaves a
        // half-written list where a good one was.
        let partial = path.with_extension("csv.partial");
        let mut csv = csv::Writer::from_path(&partial).map_err(write_error)?;
        csv.write_record(["", "Name", "Album", "Artist", "Link"])
            .map_err(write_error)?;
        for (i, song) in songs.iter().enumerate() {
            csv.write_record([
                i.to_string().as_str(),
                &song.track.title,
                &song.track.album,
                &song.track.artist,
                &song.link,
            ])
            .map_err(write_error)?;
        }
        csv.flush().map_err(|source| Error::Write {
            path: partial.clone(),
            source,
        })?;
        drop(csv);
        std::fs::rename(&partial, &path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        written.push(ExportedFile {
            path,
            songs: songs.len(),
        });
    }
    Ok(written)
}
