//! Rhythm from the onset envelope: the tempo (the lag at which the envelope
//! best repeats, weighted towards 120 BPM as listeners hear it, refined over
//! several beats), how strongly the beat stands out, and how often notes
//! start.

use serde::{Deserialize, Serialize};

/// Tempi considered, BPM.
const MIN_BPM: f64 = 50.0;
const MAX_BPM: f64 = 220.0;
/// The tempo listeners tap most readily, and how widely (in octaves) the
/// preference spreads around it.
const PREFERRED_BPM: f64 = 120.0;
const PREFERENCE_OCTAVES: f64 = 1.0;
/// Onsets closer than this are one onset.
const MIN_ONSET_GAP_S: f64 = 0.06;

/// A song's rhythm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rhythm {
    /// Beats per minute (0 when no beat was found).
    pub tempo_bpm: f64,
    /// How strongly the envelope repeats at the beat, 0 to 1.
    pub beat_strength: f64,
    /// Note onsets per second.
    pub onset_rate: f64,
}

/// Reads the rhythm of an onset envelope sampled at `rate` frames per second.
pub fn rhythm(onset: &[f32], rate: f64) -> Rhythm {
    let duration = onset.len() as f64 / rate;
    let onset_rate = if duration > 0.0 {
        onsets(onset, rate) as f64 / duration
    } else {
        0.0
    };
    let (tempo_bpm, beat_strength) = tempo(onset, rate).unwrap_or((0.0, 0.0));
    Rhythm {
        tempo_bpm,
        beat_strength,
        onset_rate,
    }
}

/// (BPM, beat strength), or None when the envelope is too short or flat.
fn tempo(onset: &[f32], rate: f64) -> Option<(f64, f64)> {
    // Smoothed first: a beat whose period falls between two frames would
    // otherwise split its peak between two lags and lose to twice the period.
    let smooth = smoothed(onset);
    let mean = smooth.iter().sum::<f64>() / smooth.len().max(1) as f64;
    let centred: Vec<f64> = smooth.iter().map(|v| v - mean).collect();
    let shortest = (60.0 * rate / MAX_BPM).floor().max(1.0) as usize;
    let longest = (60.0 * rate / MIN_BPM).ceil() as usize;
    // Up to four beats' worth of lag, for the refinement.
    let max_lag = (4 * longest).min(centred.len() / 2);
    if max_lag <= longest {
        return None;
    }
    let r = autocorrelation(&centred, max_lag);
    if r[0] <= 0.0 {
        return None;
    }
    let score = |lag: usize| {
        let bpm = 60.0 * rate / lag as f64;
        let octaves = (bpm / PREFERRED_BPM).log2() / PREFERENCE_OCTAVES;
        r[lag] * (-0.5 * octaves * octaves).exp()
    };
    let best = (shortest..=longest).max_by(|&a, &b| score(a).total_cmp(&score(b)))?;
    if r[best] <= 0.0 {
        return None;
    }
    // The beat measured over as many beats as the lags reach: the error of
    // one lag step is shared among them.
    let mut lag = peak(&r, best);
    for beats in [4usize, 3, 2] {
        let around = best * beats;
        if around + 2 < r.len() {
            let local = (around - 2..=around + 2).max_by(|&a, &b| r[a].total_cmp(&r[b]))?;
            if r[local] > 0.5 * r[best] {
                lag = peak(&r, local) / beats as f64;
                break;
            }
        }
    }
    Some((60.0 * rate / lag, (r[best] / r[0]).clamp(0.0, 1.0)))
}

/// The envelope smoothed by a triangle five frames wide.
fn smoothed(onset: &[f32]) -> Vec<f64> {
    const TAPS: [f64; 5] = [1.0, 2.0, 3.0, 2.0, 1.0];
    (0..onset.len())
        .map(|t| {
            let (mut sum, mut weight) = (0.0, 0.0);
            for (k, tap) in TAPS.iter().enumerate() {
                if let Some(&v) = (t + k).checked_sub(2).and_then(|i| onset.get(i)) {
                    sum += tap * f64::from(v);
                    weight += tap;
                }
            }
            sum / weight
        })
        .collect()
}

/// r[lag] for lag in 0..=max_lag, each averaged over its overlap.
fn autocorrelation(x: &[f64], max_lag: usize) -> Vec<f64> {
    (0..=max_lag)
        .map(|lag| {
            let n = x.len() - lag;
            x[..n]
                .iter()
                .zip(&x[lag..])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / n as f64
        })
        .collect()
}

/// The lag of a peak, refined between samples with a parabola.
fn peak(r: &[f64], at: usize) -> f64 {
    if at == 0 || at + 1 >= r.len() {
        return at as f64;
    }
    let (a, b, c) = (r[at - 1], r[at], r[at + 1]);
    let curvature = a - 2.0 * b + c;
    if curvature >= 0.0 {
        return at as f64;
    }
    at as f64 + (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
}

/// Onsets: local peaks of the envelope standing a standard deviation above
/// its mean, at least MIN_ONSET_GAP_S apart.
fn onsets(onset: &[f32], rate: f64) -> usize {
    if onset.len() < 3 {
        return 0;
    }
    let n = onset.len() as f64;
    let mean = onset.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let std = (onset
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let threshold = mean + std;
    let gap = (MIN_ONSET_GAP_S * rate).ceil() as usize;
    let mut count = 0;
    let mut last: Option<usize> = None;
    for t in 1..onset.len() - 1 {
        let v = f64::from(onset[t]);
        if v > threshold
            && onset[t] > onset[t - 1]
            && onset[t] >= onset[t + 1]
            && !matches!(last, Some(l) if t - l < gap)
        {
            count += 1;
            last = Some(t);
        }
    }
    count
}
