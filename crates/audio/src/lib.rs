//! Melodora hears music. An audio file in (MP3, FLAC, Ogg Vorbis, WAV,
//! AIFF, AAC or ALAC in MP4), and out: its tags and cover, what it measures
//! (EBU R128 loudness and range, tempo and beat strength, onset rate,
//! spectral centroid, roll-off, flux and flatness, key and mode, and the
//! 50 tags musicnn's network hears), and the mood it sounds like (valence,
//! arousal, Russell's quadrant).
//!
//! ```text
//! bytes or file ──decode──▶ Decoded ─┬─ loudness (every channel, file rate)
//!                                     └─ mono at ~22 kHz ──▶ spectrum frames ──▶ timbre, rhythm
//!                                                        ├──▶ chroma ──▶ key
//!                                                        └──▶ log-mel patches ──tagger──▶ 50 tags
//!                         Features ──mood::estimate──▶ valence, arousal, quadrant
//! ```
//!
//! Pure Rust, with `unsafe` only for SIMD intrinsics in two kernels (the
//! tagger's timbral convolutions, `tagger/timbral.rs`, and the K-weighting
//! filter, `loudness/k_weighting.rs`); builds for `wasm32-unknown-unknown`, so the
//! browser runs the same analysis on a folder it never uploads. Knows
//! nothing of catalogs, stores or HTTP: the music crate files songs by the
//! mood this crate hears.

#![deny(unsafe_code)]

pub mod decode;
mod fastmath;
pub mod features;
pub mod formats;
pub mod loudness;
pub mod mood;
pub mod rhythm;
pub mod spectrum;
pub mod tagger;
pub mod tonal;

pub use decode::{decode_bytes, decode_source, read_tags_only, Cover, Decoded, Tags};
pub use features::Features;
pub use loudness::Loudness;
pub use mood::{estimate, MoodEstimate, Quadrant};
pub use rhythm::Rhythm;
pub use tonal::{Key, Mode};

use serde::{Deserialize, Serialize};

/// Why a file could not be heard.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// A zero-length file.
    #[error("the file is empty")]
    Empty,
    /// Not a format or codec Melodora reads (the reason says which).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Audio that cannot be decoded (damaged, or nonsense in its header).
    #[error("not decodable: {0}")]
    Corrupt(String),
    /// Too little audio to measure.
    #[error("too short to measure ({0:.1} s of audio)")]
    TooShort(f64),
    /// The file could not be read.
    #[error("could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// A song heard: its tags, measures and mood (the cover is kept apart, by [`Decoded`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heard {
    /// The codec, as symphonia names it.
    pub codec: String,
    /// The file's sample rate, Hz.
    pub sample_rate: u32,
    /// Its channels.
    pub channels: usize,
    /// Whether the song went on past what was measured.
    pub truncated: bool,
    /// Packets skipped as undecodable.
    pub packets_skipped: usize,
    /// The file's tags.
    pub tags: Tags,
    /// What was measured.
    pub features: Features,
    /// The measures the mood estimate reads, by name (`training/audio_mood/fit.py` fits on these).
    pub inputs: Vec<(String, f64)>,
    /// The mood it sounds like.
    pub mood: MoodEstimate,
}

/// Measures a decoded song and estimates its mood.
pub fn hear(decoded: &Decoded) -> Heard {
    let features = Features::measure(decoded);
    let inputs = features.inputs();
    let mood = mood::estimate_from_inputs(&inputs);
    Heard {
        codec: decoded.codec.clone(),
        sample_rate: decoded.sample_rate,
        channels: decoded.channels,
        truncated: decoded.truncated,
        packets_skipped: decoded.packets_skipped,
        tags: decoded.tags.clone(),
        features,
        inputs,
        mood,
    }
}

/// Decodes a file and hears it; the cover comes back beside what was heard.
pub fn hear_file(path: &std::path::Path) -> Result<(Heard, Option<Cover>), AudioError> {
    let file = std::fs::File::open(path)?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let decoded = decode_source(Box::new(file), extension.as_deref())?;
    let heard = hear(&decoded);
    Ok((heard, decoded.cover))
}
