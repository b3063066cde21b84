//! Everything measured of one song, in one serialisable record: what the
//! library keeps, what the mood estimate reads, and what `--json` prints.

use serde::{Deserialize, Serialize};

use crate::decode::Decoded;
use crate::loudness::Loudness;
use crate::rhythm::{rhythm, Rhythm};
use crate::spectrum::{frames, mean_std};
use crate::tonal::{key, Key};

/// Integrated loudness given to a song that is all silence, LUFS.
const SILENT_LUFS: f64 = -70.0;

/// What Melodora hears in a song.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Seconds measured.
    pub duration_s: f64,
    /// EBU R128 loudness.
    pub loudness: Loudness,
    /// Tempo, beat strength and onset rate.
    pub rhythm: Rhythm,
    /// Spectral centroid, Hz: mean over the song (brightness).
    pub centroid_hz: f64,
    /// Its standard deviation.
    pub centroid_std_hz: f64,
    /// Spectral roll-off (85 % of the energy below), Hz: mean.
    pub rolloff_hz: f64,
    /// Spectral flux between frames: mean (how fast the timbre changes).
    pub flux: f64,
    /// Its standard deviation.
    pub flux_std: f64,
    /// Spectral flatness, 0 tonal to 1 noisy: mean.
    pub flatness: f64,
    /// Frame level, dBFS: mean.
    pub rms_db: f64,
    /// Its standard deviation (how much the level moves).
    pub rms_std_db: f64,
    /// Share of frames quieter than the song's mean level.
    pub low_energy_ratio: f64,
    /// Key and mode (None for a song with nothing tonal).
    pub key: Option<Key>,
}

impl Features {
    /// Measures a decoded song.
    pub fn measure(decoded: &Decoded) -> Features {
        let frames = frames(&decoded.samples, decoded.analysis_rate);
        let (centroid_hz, centroid_std_hz) = mean_std(&frames.centroid_hz);
        let (rolloff_hz, _) = mean_std(&frames.rolloff_hz);
        let (flux, flux_std) = mean_std(&frames.flux);
        let (flatness, _) = mean_std(&frames.flatness);
        let (rms_db, rms_std_db) = mean_std(&frames.rms_db);
        let low_energy_ratio = if frames.rms_db.is_empty() {
            0.0
        } else {
            frames
                .rms_db
                .iter()
                .filter(|&&db| f64::from(db) < rms_db)
                .count() as f64
                / frames.rms_db.len() as f64
        };
        Features {
            duration_s: decoded.duration_s,
            loudness: decoded.loudness,
            rhythm: rhythm(&frames.onset, frames.rate),
            centroid_hz,
            centroid_std_hz,
            rolloff_hz,
            flux,
            flux_std,
            flatness,
            rms_db,
            rms_std_db,
            low_energy_ratio,
            key: key(&decoded.samples, decoded.analysis_rate),
        }
    }

    /// The measures the mood estimate reads, by name, in [`Features::NAMES`] order.
    pub fn vector(&self) -> [f64; Features::NAMES.len()] {
        let (mode_strength, key_clarity) = self
            .key
            .as_ref()
            .map_or((0.0, 0.0), |k| (k.mode_strength, k.clarity));
        [
            self.loudness.integrated_lufs.unwrap_or(SILENT_LUFS),
            self.loudness.range_lu.unwrap_or(0.0),
            self.rhythm.tempo_bpm,
            self.rhythm.beat_strength,
            self.rhythm.onset_rate,
            self.centroid_hz,
            self.centroid_std_hz,
            self.rolloff_hz,
            self.flux,
            self.flux_std,
            self.flatness,
            self.rms_std_db,
            self.low_energy_ratio,
            mode_strength,
            key_clarity,
        ]
    }

    /// The names of [`Features::vector`]'s entries (the fitted model's columns).
    pub const NAMES: [&'static str; 15] = [
        "loudness_lufs",
        "loudness_range_lu",
        "tempo_bpm",
        "beat_strength",
        "onset_rate",
        "centroid_hz",
        "centroid_std_hz",
        "rolloff_hz",
        "flux",
        "flux_std",
        "flatness",
        "rms_std_db",
        "low_energy_ratio",
        "mode_strength",
        "key_clarity",
    ];
}
