//! The short-time spectrum of the mono signal, frame by frame: what the
//! song's timbre looks like (centroid, roll-off, flatness, flux), how loud
//! each moment is, and the onset envelope the rhythm is read from.

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

/// Samples per frame (about 46 ms at 22 kHz).
pub const FRAME: usize = 1024;
/// Samples between frames (about 23 ms at 22 kHz): the onset envelope's step.
pub const HOP: usize = 512;
/// A frame quieter than this (RMS) is silence and left out of the timbre.
const SILENCE_RMS: f32 = 1e-4;
/// Share of the spectrum's energy below the roll-off frequency.
const ROLLOFF: f32 = 0.85;

/// Per-frame measures, each a series over the song.
#[derive(Debug, Clone, Default)]
pub struct Frames {
    /// Frames per second of every series.
    pub rate: f64,
    /// RMS level, dBFS.
    pub rms_db: Vec<f32>,
    /// Spectral centroid, Hz (non-silent frames only).
    pub centroid_hz: Vec<f32>,
    /// Spectral roll-off, Hz (non-silent frames only).
    pub rolloff_hz: Vec<f32>,
    /// Spectral flatness, 0 (tonal) to 1 (noise) (non-silent frames only).
    pub flatness: Vec<f32>,
    /// Spectral flux between normalised spectra (non-silent frames only).
    pub flux: Vec<f32>,
    /// Onset strength: log-magnitude rises summed over bins, every frame.
    pub onset: Vec<f32>,
}

/// Measures every frame of `samples` (mono, at `rate` Hz).
pub fn frames(samples: &[f32], rate: u32) -> Frames {
    let mut out = Frames {
        rate: f64::from(rate) / HOP as f64,
        ..Frames::default()
    };
    if samples.len() < FRAME {
        return out;
    }
    let fft = FftPlanner::<f32>::new().plan_fft_forward(FRAME);
    let window = hann(FRAME);
    let bins = FRAME / 2 + 1;
    let hz_per_bin = rate as f32 / FRAME as f32;
    let mut buffer = vec![Complex::new(0.0f32, 0.0); FRAME];
    let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
    let mut magnitude = vec![0.0f32; bins];
    let mut log_previous = vec![0.0f32; bins];
    let mut unit_previous = vec![0.0f32; bins];
    let mut had_previous = false;
    let count = (samples.len() - FRAME) / HOP + 1;
    for index in 0..count {
        let frame = &samples[index * HOP..index * HOP + FRAME];
        let power: f32 = frame.iter().map(|s| s * s).sum::<f32>() / FRAME as f32;
        let rms = power.sqrt();
        out.rms_db.push(20.0 * rms.max(1e-6).log10());
        for ((slot, sample), w) in buffer.iter_mut().zip(frame).zip(&window) {
            *slot = Complex::new(sample * w, 0.0);
        }
        fft.process_with_scratch(&mut buffer, &mut scratch);
        for (m, c) in magnitude.iter_mut().zip(&buffer) {
            *m = c.norm();
        }
        // Onset strength: how much the (log-compressed) spectrum rose.
        let mut rise = 0.0f32;
        for (m, previous) in magnitude.iter().zip(log_previous.iter_mut()) {
            let log = (1.0 + 100.0 * m).ln();
            if had_previous {
                rise += (log - *previous).max(0.0);
            }
            *previous = log;
        }
        out.onset.push(rise);
        if rms < SILENCE_RMS {
            had_previous = true;
            continue;
        }
        let total: f32 = magnitude.iter().sum();
        let energy: f32 = magnitude.iter().map(|m| m * m).sum();
        if total <= 0.0 || energy <= 0.0 {
            continue;
        }
        let centroid = magnitude
            .iter()
            .enumerate()
            .map(|(k, m)| k as f32 * m)
            .sum::<f32>()
            / total;
        out.centroid_hz.push(centroid * hz_per_bin);
        let mut below = 0.0f32;
        let mut rolloff_bin = bins - 1;
        for (k, m) in magnitude.iter().enumerate() {
            below += m * m;
            if below >= ROLLOFF * energy {
                rolloff_bin = k;
                break;
            }
        }
        out.rolloff_hz.push(rolloff_bin as f32 * hz_per_bin);
        let mean_power = energy / bins as f32;
        let log_mean = magnitude.iter().map(|m| (m * m + 1e-12).ln()).sum::<f32>() / bins as f32;
        out.flatness
            .push((log_mean.exp() / (mean_power + 1e-12)).min(1.0));
        let norm = energy.sqrt();
        let mut flux = 0.0f32;
        for (m, previous) in magnitude.iter().zip(unit_previous.iter_mut()) {
            let unit = m / norm;
            flux += (unit - *previous) * (unit - *previous);
            *previous = unit;
        }
        if had_previous {
            out.flux.push(flux.sqrt());
        }
        had_previous = true;
    }
    out
}

/// The Hann window of `n` samples.
pub(crate) fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
        .collect()
}

/// Mean and standard deviation of a series (zeros when empty).
pub fn mean_std(values: &[f32]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, variance.sqrt())
}
