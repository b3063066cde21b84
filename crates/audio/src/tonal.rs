//! Key and mode: a chromagram (the spectrum's energy folded onto the twelve
//! pitch classes) compared with the Krumhansl-Kessler key profiles, as
//! listeners judge tonal centres.

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;
use serde::{Deserialize, Serialize};

use crate::spectrum::hann;

/// Samples per chroma frame (about 0.19 s at 22 kHz: enough resolution to
/// tell semitones apart above the lowest octaves).
const FRAME: usize = 4096;
/// Frequencies folded onto pitch classes.
const LOWEST_HZ: f32 = 60.0;
const HIGHEST_HZ: f32 = 2_100.0;
/// The twelve pitch classes, from C.
pub const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];
/// Krumhansl & Kessler's (1982) probe-tone ratings of each degree, from the tonic.
const MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
const MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// Major or minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A major key.
    Major,
    /// A minor key.
    Minor,
}

/// A song's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    /// The tonic's pitch class (`"C"` … `"B"`).
    pub tonic: String,
    /// Major or minor.
    pub mode: Mode,
    /// How well the best key's profile fits the chroma (correlation, -1 to 1).
    pub clarity: f64,
    /// The best major key's fit less the best minor key's: above 0 sounds major.
    pub mode_strength: f64,
    /// The average chroma, from C, summing to 1.
    pub chroma: [f64; 12],
    /// How much the chroma moves from frame to frame (mean L1 distance, 0 to 2): harmonic change.
    pub change: f64,
}

/// The key of `samples` (mono, at `rate` Hz); None when there is nothing tonal to measure.
pub fn key(samples: &[f32], rate: u32) -> Option<Key> {
    let (chroma, change) = chroma(samples, rate)?;
    let mut best_major = (f64::MIN, 0usize);
    let mut best_minor = (f64::MIN, 0usize);
    for tonic in 0..12 {
        let major = correlation(&chroma, &MAJOR, tonic);
        let minor = correlation(&chroma, &MINOR, tonic);
        if major > best_major.0 {
            best_major = (major, tonic);
        }
        if minor > best_minor.0 {
            best_minor = (minor, tonic);
        }
    }
    let (mode, (clarity, tonic)) = if best_major.0 >= best_minor.0 {
        (Mode::Major, best_major)
    } else {
        (Mode::Minor, best_minor)
    };
    Some(Key {
        tonic: PITCH_CLASSES[tonic].to_string(),
        mode,
        clarity,
        mode_strength: best_major.0 - best_minor.0,
        chroma,
        change,
    })
}

/// The average chroma of the song, normalised to sum to 1, and its mean
/// change between frames.
fn chroma(samples: &[f32], rate: u32) -> Option<([f64; 12], f64)> {
    if samples.len() < FRAME {
        return None;
    }
    let fft = FftPlanner::<f32>::new().plan_fft_forward(FRAME);
    let window = hann(FRAME);
    let hz_per_bin = rate as f32 / FRAME as f32;
    // Each bin's pitch class, for the bins in range.
    let classes: Vec<(usize, usize)> = (1..FRAME / 2)
        .filter_map(|bin| {
            let hz = bin as f32 * hz_per_bin;
            (LOWEST_HZ..=HIGHEST_HZ).contains(&hz).then(|| {
                let semitones = (12.0 * (hz / 440.0).log2()).round() as i32;
                (bin, (semitones + 9).rem_euclid(12) as usize)
            })
        })
        .collect();
    let mut buffer = vec![Complex::new(0.0f32, 0.0); FRAME];
    let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
    let mut total = [0.0f64; 12];
    let mut previous: Option<[f64; 12]> = None;
    let (mut change, mut changes) = (0.0f64, 0usize);
    // Frames do not overlap: key is a property of minutes, not milliseconds.
    for frame in samples.chunks_exact(FRAME) {
        for ((slot, sample), w) in buffer.iter_mut().zip(frame).zip(&window) {
            *slot = Complex::new(sample * w, 0.0);
        }
        fft.process_with_scratch(&mut buffer, &mut scratch);
        let mut energy = [0.0f64; 12];
        for &(bin, class) in &classes {
            energy[class] += f64::from(buffer[bin].norm_sqr());
        }
        // Each frame counts by its shape, not its loudness.
        let sum: f64 = energy.iter().sum();
        if sum > 1e-9 {
            let shape = energy.map(|e| e / sum);
            for (t, e) in total.iter_mut().zip(shape) {
                *t += e;
            }
            if let Some(before) = previous {
                change += shape
                    .iter()
                    .zip(before)
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>();
                changes += 1;
            }
            previous = Some(shape);
        }
    }
    let sum: f64 = total.iter().sum();
    (sum > 0.0).then(|| (total.map(|t| t / sum), change / changes.max(1) as f64))
}

/// Pearson correlation of the chroma with a profile rotated to `tonic`.
fn correlation(chroma: &[f64; 12], profile: &[f64; 12], tonic: usize) -> f64 {
    let rotated: Vec<f64> = (0..12).map(|pc| profile[(pc + 12 - tonic) % 12]).collect();
    let mean_c = chroma.iter().sum::<f64>() / 12.0;
    let mean_p = rotated.iter().sum::<f64>() / 12.0;
    let (mut num, mut dc, mut dp) = (0.0, 0.0, 0.0);
    for (c, p) in chroma.iter().zip(&rotated) {
        num += (c - mean_c) * (p - mean_p);
        dc += (c - mean_c).powi(2);
        dp += (p - mean_p).powi(2);
    }
    if dc <= 0.0 || dp <= 0.0 {
        0.0
    } else {
        num / (dc * dp).sqrt()
    }
}
