//! The tagger's input: the log-compressed mel spectrogram musicnn was
//! trained on (librosa at 16 kHz: 512-sample Hann frames, a 256-sample hop,
//! 96 Slaney mel bands up to 8 kHz, power, then log10(10000 x + 1)),
//! computed at whatever rate the song was decoded at. The frame and hop are
//! scaled to the rate, so every FFT bin stays 31.25 Hz wide and each mel
//! band sums the same frequencies; the power is rescaled by the frame's
//! length so a tone reads the same at every rate. No resampling is needed:
//! the bands end at 8 kHz, where a 16 kHz signal ends.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::layers::MELS;
use crate::spectrum::hann;

/// The rate musicnn's spectrogram was computed at.
const TRAINED_RATE: f32 = 16_000.0;
/// Its frame, samples at 16 kHz.
const TRAINED_FRAME: f32 = 512.0;
/// Its hop, samples at 16 kHz.
const TRAINED_HOP: f32 = 256.0;
/// The highest frequency of the top mel band (the trained rate's Nyquist).
const TOP_HZ: f32 = 8_000.0;

/// Frames of mel spectrum at one sample rate.
pub struct MelFrontEnd {
    frame: usize,
    hop: usize,
    window: Vec<f32>,
    fft: Arc<dyn Fft<f32>>,
    /// Per band: its first FFT bin and its weights from there.
    bands: Vec<(usize, Vec<f32>)>,
    /// Brings the power of this frame length to a 512-sample frame's.
    power_scale: f32,
}

/// Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f32) -> f32 {
    let linear = hz / (200.0 / 3.0);
    if hz < 1000.0 {
        linear
    } else {
        15.0 + (hz / 1000.0).ln() / (6.4f32.ln() / 27.0)
    }
}

fn mel_to_hz(mel: f32) -> f32 {
    if mel < 15.0 {
        mel * (200.0 / 3.0)
    } else {
        1000.0 * ((mel - 15.0) * (6.4f32.ln() / 27.0)).exp()
    }
}

impl MelFrontEnd {
    /// The front end for samples at `rate` Hz (at least 16 kHz for the top
    /// bands to hold anything; lower rates leave them empty).
    pub fn new(rate: u32) -> MelFrontEnd {
        let ratio = rate as f32 / TRAINED_RATE;
        let frame = ((TRAINED_FRAME * ratio).round() as usize).max(16);
        let hop = ((TRAINED_HOP * ratio).round() as usize).max(1);
        let window = hann(frame);
        let bin_hz = rate as f32 / frame as f32;
        let bins = frame / 2 + 1;
        let top = hz_to_mel(TOP_HZ);
        let edges: Vec<f32> = (0..MELS + 2)
            .map(|i| mel_to_hz(top * i as f32 / (MELS + 1) as f32))
            .collect();
        let bands = (0..MELS)
            .map(|band| {
                let (low, centre, high) = (edges[band], edges[band + 1], edges[band + 2]);
                let norm = 2.0 / (high - low);
                let weights: Vec<(usize, f32)> = (0..bins)
                    .filter_map(|bin| {
                        let hz = bin as f32 * bin_hz;
                        let rise = (hz - low) / (centre - low);
                        let fall = (high - hz) / (high - centre);
                        let weight = rise.min(fall);
                        (weight > 0.0).then_some((bin, weight * norm))
                    })
                    .collect();
                let first = weights.first().map_or(0, |&(bin, _)| bin);
                (first, weights.into_iter().map(|(_, w)| w).collect())
            })
            .collect();
        let scale = TRAINED_FRAME / frame as f32;
        MelFrontEnd {
            frame,
            hop,
            window,
            fft: FftPlanner::new().plan_fft_forward(frame),
            bands,
            power_scale: scale * scale,
        }
    }

    /// Frames in `len` samples (librosa's count with centred frames).
    pub fn frame_count(&self, len: usize) -> usize {
        1 + len / self.hop
    }

    /// Writes `count` frames from `first` (MELS values each, log-compressed)
    /// into `out`. Frames are centred on `index * hop`; the signal is
    /// mirrored at its ends, as librosa pads.
    pub fn frames(&self, samples: &[f32], first: usize, count: usize, out: &mut Vec<f32>) {
        out.clear();
        let mut buffer = vec![Complex::new(0.0f32, 0.0); self.frame];
        let mut scratch = vec![Complex::new(0.0f32, 0.0); self.fft.get_inplace_scratch_len()];
        let mut power = vec![0.0f32; self.frame / 2 + 1];
        let len = samples.len() as isize;
        for index in first..first + count {
            let start = (index * self.hop) as isize - (self.frame / 2) as isize;
            for (n, (slot, w)) in buffer.iter_mut().zip(&self.window).enumerate() {
                let value = if len == 0 {
                    0.0
                } else {
                    samples[mirror(start + n as isize, len)]
                };
                *slot = Complex::new(value * w, 0.0);
            }
            self.fft.process_with_scratch(&mut buffer, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buffer) {
                *p = c.norm_sqr() * self.power_scale;
            }
            for (first_bin, weights) in &self.bands {
                let energy: f32 = weights
                    .iter()
                    .zip(&power[*first_bin..])
                    .map(|(w, p)| w * p)
                    .sum();
                out.push((10_000.0 * energy + 1.0).log10());
            }
        }
    }
}

/// The index of sample `i` in a signal of `len` samples mirrored at both
/// ends without repeating the edge (numpy's "reflect"), for any `i`.
fn mirror(i: isize, len: isize) -> usize {
    if len == 1 {
        return 0;
    }
    let period = 2 * (len - 1);
    let folded = i.rem_euclid(period);
    (if folded < len {
        folded
    } else {
        period - folded
    }) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirroring_matches_numpy_reflect() {
        // numpy.pad([0, 1, 2, 3], 3, mode="reflect") = [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
        let padded: Vec<usize> = (-3..7).map(|i| mirror(i, 4)).collect();
        assert_eq!(padded, [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
        assert_eq!(mirror(5, 1), 0);
    }

    #[test]
    fn a_tone_lands_in_the_same_band_at_every_rate_with_the_same_level() {
        let mut levels = Vec::new();
        for rate in [16_000u32, 22_050, 24_000, 32_000, 44_100] {
            let front = MelFrontEnd::new(rate);
            let tone: Vec<f32> = (0..rate as usize)
                .map(|i| {
                    0.5 * (2.0 * std::f32::consts::PI * 1_000.0 * i as f32 / rate as f32).sin()
                })
                .collect();
            let mut out = Vec::new();
            front.frames(&tone, 20, 1, &mut out);
            let (band, level) =
                out.iter().enumerate().fold(
                    (0, f32::MIN),
                    |best, (i, &v)| if v > best.1 { (i, v) } else { best },
                );
            levels.push((band, level));
        }
        let (band, level) = levels[0];
        for &(b, l) in &levels {
            assert_eq!(b, band, "{levels:?}");
            assert!((l - level).abs() < 0.02, "{levels:?}");
        }
    }
}
