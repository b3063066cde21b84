//! The short-time spectrum of the mono signal, frame by frame: what the
//! song's timbre looks like (centroid, roll-off, flatness, flux), how loud
//! each moment is, and the onset envelope the rhythm is read from.

use realfft::RealFftPlanner;

use crate::fastmath::{dot, ln, sum_of, sum_of_pairs};

/// Samples per frame (about 46 ms at 22 kHz).
pub const FRAME: usize = 1024;
/// Samples between frames (about 23 ms at 22 kHz): the onset envelope's step.
pub const HOP: usize = 512;
/// A frame quieter than this (RMS) is silence and left out of the timbre.
const SILENCE_RMS: f32 = 1e-4;
/// Share of the spectrum's energy below the roll-off frequency.
const ROLLOFF: f32 = 0.85;

/// Mel-frequency cepstral coefficients kept per frame (timbre).
pub const MFCCS: usize = 13;
/// Mel bands the cepstrum is taken from.
const MEL_BANDS: usize = 40;
/// Octave bands of the spectral contrast, Hz (the last runs to Nyquist).
pub const CONTRAST_EDGES: [f32; 6] = [0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0];
/// Share of a band's bins averaged for its peak and for its valley.
const CONTRAST_SHARE: f32 = 0.2;
/// The timbre measures (everything but level, onsets and flux) are read
/// from every this-many-th frame: their means and spreads over a song do
/// not need every 23 ms, and they are most of a frame's work.
const TIMBRE_EVERY: usize = 2;

/// Sums of a vector measure over frames, for its mean and deviation.
#[derive(Debug, Clone, Default)]
pub struct Moments {
    /// Frames summed.
    pub count: usize,
    /// Sum of each entry.
    pub sum: Vec<f64>,
    /// Sum of each entry's square.
    pub squares: Vec<f64>,
}

impl Moments {
    fn add(&mut self, values: &[f32]) {
        if self.sum.is_empty() {
            self.sum = vec![0.0; values.len()];
            self.squares = vec![0.0; values.len()];
        }
        for ((sum, square), &v) in self.sum.iter_mut().zip(&mut self.squares).zip(values) {
            *sum += f64::from(v);
            *square += f64::from(v) * f64::from(v);
        }
        self.count += 1;
    }

    /// Each entry's mean (zeros for `len` entries when nothing was summed).
    pub fn means(&self, len: usize) -> Vec<f64> {
        if self.count == 0 {
            return vec![0.0; len];
        }
        self.sum.iter().map(|s| s / self.count as f64).collect()
    }

    /// Each entry's standard deviation.
    pub fn deviations(&self, len: usize) -> Vec<f64> {
        if self.count == 0 {
            return vec![0.0; len];
        }
        let n = self.count as f64;
        self.sum
            .iter()
            .zip(&self.squares)
            .map(|(s, q)| (q / n - (s / n) * (s / n)).max(0.0).sqrt())
            .collect()
    }
}

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
    /// Zero-crossing rate, crossings per sample (non-silent frames only).
    pub zero_crossings: Vec<f32>,
    /// Spectral entropy, 0 (one bin) to 1 (flat) (non-silent frames only).
    pub entropy: Vec<f32>,
    /// MFCCs of the non-silent frames.
    pub mfcc: Moments,
    /// Spectral contrast per octave band (peak less valley, natural log) of the non-silent frames.
    pub contrast: Moments,
    /// Each octave band's valley (natural log of its quietest bins' power) of the non-silent frames.
    pub valleys: Moments,
    /// Share of each non-silent frame's energy below 150 Hz (bass).
    pub bass_share: Vec<f32>,
    /// Share above 4 kHz (air, hiss, cymbals).
    pub treble_share: Vec<f32>,
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
    // Frames are real: half the work of a complex FFT of the same length.
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FRAME);
    let window = hann(FRAME);
    let bins = FRAME / 2 + 1;
    let hz_per_bin = rate as f32 / FRAME as f32;
    let mut windowed = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut magnitude = vec![0.0f32; bins];
    let mut log_previous = vec![0.0f32; bins];
    let mut unit_previous = vec![0.0f32; bins];
    let mut had_previous = false;
    let mel = MelBank::new(rate, bins);
    let bands: Vec<std::ops::Range<usize>> = CONTRAST_EDGES
        .iter()
        .enumerate()
        .map(|(i, &low)| {
            let high = CONTRAST_EDGES
                .get(i + 1)
                .copied()
                .unwrap_or(rate as f32 / 2.0);
            ((low / hz_per_bin) as usize).min(bins - 1)
                ..((high / hz_per_bin) as usize).clamp(1, bins)
        })
        .collect();
    let mut band = Vec::with_capacity(bins);
    let mut contrast = vec![0.0f32; bands.len()];
    let mut valleys = vec![0.0f32; bands.len()];
    let bass_bins = ((150.0 / hz_per_bin) as usize).min(bins);
    let treble_bin = ((4000.0 / hz_per_bin) as usize).min(bins);
    let mut mfcc = vec![0.0f32; MFCCS];
    let mut power = vec![0.0f32; bins];
    let mut log_power = vec![0.0f32; bins];
    let mut log_magnitude = vec![0.0f32; bins];
    let bin_numbers: Vec<f32> = (0..bins).map(|k| k as f32).collect();
    let count = (samples.len() - FRAME) / HOP + 1;
    for index in 0..count {
        let frame = &samples[index * HOP..index * HOP + FRAME];
        let frame_power = sum_of(frame, |s| s * s) / FRAME as f32;
        let rms = frame_power.sqrt();
        out.rms_db.push(20.0 * rms.max(1e-6).log10());
        for ((slot, sample), w) in windowed.iter_mut().zip(frame).zip(&window) {
            *slot = sample * w;
        }
        fft.process_with_scratch(&mut windowed, &mut spectrum, &mut scratch)
            .expect("the buffers are the plan's own");
        for ((p, m), c) in power.iter_mut().zip(&mut magnitude).zip(&spectrum) {
            *p = c.norm_sqr();
            *m = p.sqrt();
        }
        // Onset strength: how much the (log-compressed) spectrum rose.
        for (log, m) in log_magnitude.iter_mut().zip(&magnitude) {
            *log = ln(1.0 + 100.0 * m);
        }
        let rise = if had_previous {
            sum_of_pairs(&log_magnitude, &log_previous, |now, before| {
                (now - before).max(0.0)
            })
        } else {
            0.0
        };
        std::mem::swap(&mut log_magnitude, &mut log_previous);
        out.onset.push(rise);
        if rms < SILENCE_RMS {
            had_previous = true;
            continue;
        }
        let energy = sum_of(&power, |p| p);
        if energy <= 0.0 {
            continue;
        }
        // Flux follows every frame; the timbre (what a song's frames look
        // like on average) is read from every TIMBRE_EVERY-th.
        let inverse_norm = 1.0 / energy.sqrt();
        let flux = sum_of_pairs(&magnitude, &unit_previous, |m, previous| {
            let step = m * inverse_norm - previous;
            step * step
        });
        for (previous, m) in unit_previous.iter_mut().zip(&magnitude) {
            *previous = m * inverse_norm;
        }
        if had_previous {
            out.flux.push(flux.sqrt());
        }
        had_previous = true;
        if index % TIMBRE_EVERY != 0 {
            continue;
        }
        let total = sum_of(&magnitude, |m| m);
        let crossings = frame
            .windows(2)
            .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
            .count();
        out.zero_crossings.push(crossings as f32 / FRAME as f32);
        for (log, p) in log_power.iter_mut().zip(&power) {
            *log = ln(p + 1e-12);
        }
        // Entropy of the power shares p/E: -sum (p/E) ln(p/E) = ln E - sum p ln p / E.
        let p_log_p = dot(&power, &log_power);
        out.entropy
            .push((ln(energy) - p_log_p / energy) / (bins as f32).ln());
        mel.cepstrum(&power, &mut mfcc);
        out.mfcc.add(&mfcc);
        for ((slot, valley), range) in contrast.iter_mut().zip(&mut valleys).zip(&bands) {
            band.clear();
            // (Powers are squares: never negative, never NaN.)
            band.extend(power[range.clone()].iter().map(|p| p.to_bits()));
            (*slot, *valley) = band_contrast(&mut band);
        }
        out.contrast.add(&contrast);
        out.valleys.add(&valleys);
        out.bass_share
            .push(sum_of(&power[..bass_bins], |p| p) / energy);
        out.treble_share
            .push(sum_of(&power[treble_bin..], |p| p) / energy);
        let centroid = dot(&bin_numbers, &magnitude) / total;
        out.centroid_hz.push(centroid * hz_per_bin);
        let mut below = 0.0f32;
        let mut rolloff_bin = bins - 1;
        for (k, p) in power.iter().enumerate() {
            below += p;
            if below >= ROLLOFF * energy {
                rolloff_bin = k;
                break;
            }
        }
        out.rolloff_hz.push(rolloff_bin as f32 * hz_per_bin);
        let mean_power = energy / bins as f32;
        let log_mean = sum_of(&log_power, |l| l) / bins as f32;
        out.flatness
            .push((log_mean.exp() / (mean_power + 1e-12)).min(1.0));
    }
    out
}

/// Triangular filters evenly spaced on the mel scale, and the DCT that
/// turns their log energies into cepstral coefficients.
struct MelBank {
    /// (first bin, weights) of each filter.
    filters: Vec<(usize, Vec<f32>)>,
    /// cos(pi k (n + 1/2) / N) for each coefficient k and band n.
    dct: Vec<f32>,
}

impl MelBank {
    fn new(rate: u32, bins: usize) -> MelBank {
        let mel = |hz: f32| 2595.0 * (1.0 + hz / 700.0).log10();
        let hz = |mel: f32| 700.0 * (10f32.powf(mel / 2595.0) - 1.0);
        let nyquist = rate as f32 / 2.0;
        let top = mel(nyquist.min(11_025.0));
        let edges: Vec<f32> = (0..MEL_BANDS + 2)
            .map(|i| hz(top * i as f32 / (MEL_BANDS + 1) as f32))
            .collect();
        let hz_per_bin = nyquist / (bins - 1) as f32;
        let filters = edges
            .windows(3)
            .map(|w| {
                let (low, centre, high) = (w[0], w[1], w[2]);
                let first = (low / hz_per_bin).ceil() as usize;
                let last = ((high / hz_per_bin).floor() as usize).min(bins - 1);
                let weights = (first..=last.max(first))
                    .map(|bin| {
                        let f = bin as f32 * hz_per_bin;
                        if f <= centre {
                            ((f - low) / (centre - low)).max(0.0)
                        } else {
                            ((high - f) / (high - centre)).max(0.0)
                        }
                    })
                    .collect();
                (first, weights)
            })
            .collect();
        let dct = (0..MFCCS)
            .flat_map(|k| {
                (0..MEL_BANDS).map(move |n| {
                    (std::f32::consts::PI * k as f32 * (n as f32 + 0.5) / MEL_BANDS as f32).cos()
                })
            })
            .collect();
        MelBank { filters, dct }
    }

    /// The MFCCs of one frame's power spectrum.
    fn cepstrum(&self, power: &[f32], out: &mut [f32]) {
        let mut log_energy = [0.0f32; MEL_BANDS];
        for (slot, (first, weights)) in log_energy.iter_mut().zip(&self.filters) {
            let energy = dot(weights, &power[*first..]);
            *slot = ln(energy + 1e-10);
        }
        for (k, coefficient) in out.iter_mut().enumerate() {
            let row = &self.dct[k * MEL_BANDS..(k + 1) * MEL_BANDS];
            *coefficient = dot(row, &log_energy);
        }
    }
}

/// Peak less valley of one band's powers (each the mean of its top or
/// bottom CONTRAST_SHARE), and the valley, in natural log units. The
/// powers come as their bit patterns: for non-negative floats those order
/// as the numbers do, and integers compare faster; the band is reordered.
fn band_contrast(powers: &mut [u32]) -> (f32, f32) {
    if powers.is_empty() {
        return (0.0, 0.0);
    }
    let take = ((powers.len() as f32 * CONTRAST_SHARE).round() as usize).clamp(1, powers.len());
    let mean = |bits: &[u32]| bits.iter().map(|&b| f32::from_bits(b)).sum::<f32>() / take as f32;
    // Only which values are in the top and bottom shares matters, not
    // their order: two selections instead of a sort.
    let n = powers.len();
    if take < n {
        powers.select_nth_unstable(take - 1);
    }
    let valley = mean(&powers[..take]);
    if take < n {
        powers[take..].select_nth_unstable(n - 2 * take.min(n / 2));
    }
    let peak = mean(&powers[n - take..]);
    let valley = ln(valley + 1e-10);
    (ln(peak + 1e-10) - valley, valley)
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
