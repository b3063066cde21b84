//! Everything measured of one song, in one serialisable record: what the
//! library keeps, what the mood estimate reads, and what `--json` prints.

use serde::{Deserialize, Serialize};

use crate::decode::Decoded;
use crate::loudness::Loudness;
use crate::rhythm::{rhythm, Rhythm};
use crate::spectrum::{frames, mean_std, CONTRAST_EDGES, MFCCS};
use crate::tagger::{self, TAGS};
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
    /// Zero crossings per sample: mean (noisiness, brightness).
    pub zero_crossing_rate: f64,
    /// Spectral entropy, 0 to 1: mean.
    pub entropy: f64,
    /// Mel-frequency cepstral coefficients: means over the song (timbre).
    pub mfcc: Vec<f64>,
    /// Their standard deviations.
    pub mfcc_std: Vec<f64>,
    /// Spectral contrast per octave band (from 0, 200, 400, 800, 1600 and 3200 Hz): means.
    pub contrast: Vec<f64>,
    /// Each band's valley (log power of its quietest bins): means.
    pub valleys: Vec<f64>,
    /// Share of the energy below 150 Hz: mean.
    pub bass_share: f64,
    /// Share of the energy above 4 kHz: mean.
    pub treble_share: f64,
    /// Key and mode (None for a song with nothing tonal).
    pub key: Option<Key>,
    /// The probability of each of musicnn's 50 tags ([`TAGS`], in order):
    /// what a network trained on a million songs hears (empty for a song
    /// measured before Melodora heard tags, or for silence).
    #[serde(default)]
    pub tags: Vec<f64>,
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
        let (zero_crossing_rate, _) = mean_std(&frames.zero_crossings);
        let (entropy, _) = mean_std(&frames.entropy);
        let (bass_share, _) = mean_std(&frames.bass_share);
        let (treble_share, _) = mean_std(&frames.treble_share);
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
        // Silence (nothing above the loudness gate) has no beat and no key:
        // what the envelope would show is the noise floor's.
        let silent = decoded.loudness.integrated_lufs.is_none();
        let beat = if silent {
            Rhythm {
                tempo_bpm: 0.0,
                beat_strength: 0.0,
                onset_rate: 0.0,
            }
        } else {
            rhythm(&frames.onset, frames.rate)
        };
        Features {
            duration_s: decoded.duration_s,
            loudness: decoded.loudness,
            rhythm: beat,
            centroid_hz,
            centroid_std_hz,
            rolloff_hz,
            flux,
            flux_std,
            flatness,
            rms_db,
            rms_std_db,
            low_energy_ratio,
            zero_crossing_rate,
            entropy,
            mfcc: frames.mfcc.means(MFCCS),
            mfcc_std: frames.mfcc.deviations(MFCCS),
            contrast: frames.contrast.means(CONTRAST_EDGES.len()),
            valleys: frames.valleys.means(CONTRAST_EDGES.len()),
            bass_share,
            treble_share,
            key: if silent {
                None
            } else {
                key(&decoded.samples, decoded.analysis_rate)
            },
            tags: if silent {
                Vec::new()
            } else {
                tagger::tag(tagger::embedded(), &decoded.samples, decoded.analysis_rate)
                    .map(|tags| tags.iter().map(|&p| f64::from(p)).collect())
                    .unwrap_or_default()
            },
        }
    }

    /// The measures the mood estimate reads, by name, in one fixed order
    /// (the fitted model's columns, `mood_model.json`'s `features`).
    pub fn inputs(&self) -> Vec<(String, f64)> {
        let (mode_strength, key_clarity, harmonic_change) = self
            .key
            .as_ref()
            .map_or((0.0, 0.0, 0.0), |k| (k.mode_strength, k.clarity, k.change));
        let mut inputs: Vec<(String, f64)> = [
            (
                "loudness_lufs",
                self.loudness.integrated_lufs.unwrap_or(SILENT_LUFS),
            ),
            ("loudness_range_lu", self.loudness.range_lu.unwrap_or(0.0)),
            ("tempo_bpm", self.rhythm.tempo_bpm),
            ("beat_strength", self.rhythm.beat_strength),
            ("onset_rate", self.rhythm.onset_rate),
            ("centroid_hz", self.centroid_hz),
            ("centroid_std_hz", self.centroid_std_hz),
            ("rolloff_hz", self.rolloff_hz),
            ("flux", self.flux),
            ("flux_std", self.flux_std),
            ("flatness", self.flatness),
            ("rms_std_db", self.rms_std_db),
            ("low_energy_ratio", self.low_energy_ratio),
            ("zero_crossing_rate", self.zero_crossing_rate),
            ("entropy", self.entropy),
            ("bass_share", self.bass_share),
            ("treble_share", self.treble_share),
            ("mode_strength", mode_strength),
            ("key_clarity", key_clarity),
            ("harmonic_change", harmonic_change),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
        let series = [
            ("mfcc", &self.mfcc),
            ("mfcc_std", &self.mfcc_std),
            ("contrast", &self.contrast),
        ];
        for (name, values) in series {
            for (i, value) in values.iter().enumerate() {
                inputs.push((format!("{name}_{}", i + 1), *value));
            }
        }
        // A song heard before tags were (or silence) has none: the estimate
        // then counts each tag as average.
        if self.tags.len() == TAGS.len() {
            for (tag, &probability) in TAGS.iter().zip(&self.tags) {
                inputs.push((tagger::input_name(tag), probability));
            }
        }
        for (_, value) in &mut inputs {
            if !value.is_finite() {
                *value = 0.0;
            }
        }
        inputs
    }
}
