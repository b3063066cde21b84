//! One file: its content hash, then (unless its bytes are already known)
//! its tags and the mood heard in its audio.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::song::{clean_text, LibrarySong, MAX_TEXT_CHARS};
use crate::store::{FileStamp, HeardFile};

/// What listening to one file gave.
#[derive(Debug)]
pub enum Listened {
    /// Bytes the store already knows (a moved or touched file): nothing
    /// was decoded.
    Known { stamp: FileStamp, hash: String },
    /// Heard for the first time.
    Heard(Box<HeardFile>),
    /// Could not be heard.
    Failed { stamp: FileStamp, reason: String },
}

/// Hashes `stamp`'s file and, when `known_hashes` does not hold the hash,
/// decodes and hears it.
pub fn listen(stamp: FileStamp, known_hashes: &HashSet<String>) -> Listened {
    let hash = match content_hash(&stamp.path) {
        Ok(hash) => hash,
        Err(error) => {
            return Listened::Failed {
                stamp,
                reason: format!("could not be read: {error}"),
            }
        }
    };
    if known_hashes.contains(&hash) {
        return Listened::Known { stamp, hash };
    }
    let extension = extension(&stamp.path);
    let file = match std::fs::File::open(&stamp.path) {
        Ok(file) => file,
        Err(error) => {
            return Listened::Failed {
                stamp,
                reason: format!("could not be read: {error}"),
            }
        }
    };
    let decoded = match melodora_audio::decode_source(Box::new(file), extension.as_deref()) {
        Ok(decoded) => decoded,
        Err(error) => {
            return Listened::Failed {
                stamp,
                reason: error.to_string(),
            }
        }
    };
    let heard = melodora_audio::hear(&decoded);
    let tags = &heard.tags;
    let title = tag_or(tags.title.as_deref(), || file_stem(&stamp.path));
    let artist = tag_or(
        tags.artist.as_deref().or(tags.album_artist.as_deref()),
        || folder_name(&stamp.path),
    );
    let album = tag_or(tags.album.as_deref(), String::new);
    let features_json = serde_json::to_string(&heard.features).unwrap_or_else(|_| "{}".into());
    let song = LibrarySong {
        duration_s: decoded.duration_s,
        tempo_bpm: (heard.features.rhythm.tempo_bpm > 0.0)
            .then_some(heard.features.rhythm.tempo_bpm),
        loudness_lufs: heard.features.loudness.integrated_lufs,
        valence: heard.mood.valence,
        arousal: heard.mood.arousal,
        quadrant: format!("{:?}", heard.mood.quadrant),
        media_type: media_type(extension.as_deref().unwrap_or(""), &heard.codec).to_string(),
        cover_type: decoded.cover.as_ref().map(|c| c.media_type.clone()),
        file: None,
        cover_file: None,
    };
    Listened::Heard(Box::new(HeardFile {
        stamp,
        hash,
        title,
        album,
        artist,
        song,
        features_json,
    }))
}

/// SHA-256 of a file's bytes, hex, read in blocks (never the whole file
/// in memory).
pub fn content_hash(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut block)? {
            0 => break,
            n => hasher.update(&block[..n]),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

/// The media type a browser plays a file as.
pub fn media_type(extension: &str, codec: &str) -> &'static str {
    match extension {
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" | "oga" => "audio/ogg",
        "wav" | "wave" => "audio/wav",
        "aif" | "aiff" | "aifc" => "audio/aiff",
        "aac" => "audio/aac",
        "m4a" | "mp4" => "audio/mp4",
        _ => match codec {
            "mp3" => "audio/mpeg",
            "flac" => "audio/flac",
            "vorbis" => "audio/ogg",
            "aac" | "alac" => "audio/mp4",
            _ => "application/octet-stream",
        },
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// A tag as shown: cleaned (no control characters, at most
/// [`MAX_TEXT_CHARS`]); `fallback` when missing or empty.
fn tag_or(tag: Option<&str>, fallback: impl FnOnce() -> String) -> String {
    let cleaned = tag.map(|text| {
        let printable: String = text
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_TEXT_CHARS)
            .collect();
        clean_text("tag", &printable).unwrap_or_default()
    });
    match cleaned {
        Some(text) if !text.is_empty() => text,
        _ => tag_or_plain(fallback()),
    }
}

fn tag_or_plain(text: String) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().replace('_', " "))
        .unwrap_or_default()
}

fn folder_name(path: &Path) -> String {
    path.parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
