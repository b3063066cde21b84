//! Melodora hears music in the browser: the page's music worker hands each
//! file of a folder the listener picked to [`hear`], and gets back what
//! `melodora library add` would keep of it (tags, length, tempo, loudness,
//! the mood it sounds like), computed by the same `melodora-audio` code.
//! Nothing leaves the page: the bytes come from the listener's disk and the
//! answer stays in the browser.
//!
//! A module of its own, apart from the camera's analyzer (`melodora-wasm`),
//! so that a page that never analyses a folder never downloads it.

use serde::Serialize;
use wasm_bindgen::prelude::*;

/// What the page keeps of a heard file (the page adds the file's name,
/// size and time, and falls back to them for a missing title or artist).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeardSong {
    /// From the tags, when the file has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The artist, or else the album artist, from the tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    /// From the tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    /// Seconds decoded (at most 30 minutes).
    pub duration_s: f64,
    /// Beats per minute; absent when no beat was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tempo_bpm: Option<f64>,
    /// EBU R128 integrated loudness; absent for silence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loudness_lufs: Option<f64>,
    /// Unpleasant (-1) to pleasant (1).
    pub valence: f64,
    /// Calm (-1) to excited (1).
    pub arousal: f64,
    /// Russell's quadrant, `"Q1"` to `"Q4"`.
    pub quadrant: String,
    /// The embedded cover's type, read from its bytes (see [`read_cover`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_type: Option<&'static str>,
}

/// Hears one file's bytes (`extension`, e.g. `"mp3"`, helps find its
/// format); the answer as JSON ([`HeardSong`]), or an error saying why the
/// file cannot be heard (not audio, damaged, unsupported, too short).
#[wasm_bindgen]
pub fn hear(bytes: Vec<u8>, extension: &str) -> Result<String, JsError> {
    let song = hear_song(bytes, extension).map_err(|e| JsError::new(&e))?;
    Ok(serde_json::to_string(&song).expect("a heard song serialises"))
}

/// What a file with this extension is to Melodora: `"decoded"` (audio it
/// hears), `"other"` (not audio: passed over without a word) or the reason
/// it is audio Melodora cannot decode (listed as skipped).
#[wasm_bindgen(js_name = fileKind)]
pub fn file_kind(extension: &str) -> String {
    match melodora_audio::formats::kind(extension) {
        melodora_audio::formats::FileKind::Decoded => "decoded".into(),
        melodora_audio::formats::FileKind::Other => "other".into(),
        melodora_audio::formats::FileKind::Unsupported(why) => format!("unsupported: {why}"),
    }
}

/// The embedded cover's bytes, when the file has one whose bytes are a
/// picture (JPEG, PNG, GIF or WebP, whatever its tag claims).
#[wasm_bindgen(js_name = readCover)]
pub fn read_cover(bytes: Vec<u8>, extension: &str) -> Option<Vec<u8>> {
    let source = Box::new(std::io::Cursor::new(bytes));
    let (_, cover) = melodora_audio::read_tags_only(source, extension_hint(extension)).ok()?;
    cover.filter(|c| c.image_type().is_some()).map(|c| c.data)
}

/// [`hear`] with Rust values.
pub fn hear_song(bytes: Vec<u8>, extension: &str) -> Result<HeardSong, String> {
    let decoded = melodora_audio::decode_bytes(bytes, extension_hint(extension))
        .map_err(|e| e.to_string())?;
    let heard = melodora_audio::hear(&decoded);
    let tags = heard.tags;
    let rhythm = heard.features.rhythm;
    Ok(HeardSong {
        title: tags.title,
        artist: tags.artist.or(tags.album_artist),
        album: tags.album,
        duration_s: decoded.duration_s,
        tempo_bpm: (rhythm.tempo_bpm > 0.0).then_some(rhythm.tempo_bpm),
        loudness_lufs: heard.features.loudness.integrated_lufs,
        valence: heard.mood.valence,
        arousal: heard.mood.arousal,
        quadrant: format!("{:?}", heard.mood.quadrant),
        cover_type: decoded.cover.as_ref().and_then(|c| c.image_type()),
    })
}

fn extension_hint(extension: &str) -> Option<&str> {
    (!extension.is_empty()).then_some(extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_audio_says_why() {
        let error = hear_song(b"just text, named .mp3".to_vec(), "mp3").unwrap_err();
        assert!(
            error.contains("not a format") || error.contains("not decodable"),
            "{error}"
        );
        assert_eq!(
            hear_song(Vec::new(), "ogg").unwrap_err(),
            "the file is empty"
        );
        assert!(read_cover(b"nothing".to_vec(), "mp3").is_none());
    }
}
