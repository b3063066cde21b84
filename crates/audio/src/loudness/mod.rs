//! Loudness as EBU R128 measures it (ITU-R BS.1770-4 and EBU Tech 3342):
//! integrated loudness in LUFS, loudness range in LU and the sample peak,
//! on every channel of the file at its own rate.
//!
//! Melodora measures it itself rather than through the `ebur128` crate
//! (which it matches to a thousandth of a LU; the tests compare them): the
//! crate keeps every filtered sample in a ring buffer and re-sums each
//! 400 ms block four times, which made loudness a third of a song's
//! analysis. Here each channel runs through the K-weighting filter once,
//! its squares summed straight into 100 ms sub-blocks; the gating blocks
//! (400 ms every 100 ms) and the short-term blocks of the loudness range
//! (3 s every second) are sums of those sub-blocks.
//!
//! ```text
//! channel ──K-weighting──► x² summed per 100 ms ──► sub-blocks
//!   sub-blocks ──4 at a time, step 1──► gating blocks ──► -70 LUFS, then -10 LU gates ──► integrated
//!   sub-blocks ──30 at a time, step 10─► short-term ──► -70 LUFS, then -20 LU gates ──► 10th..95th percentile = range
//! ```

#[allow(unsafe_code)] // SIMD intrinsics on two f64 lanes; see the module.
mod k_weighting;

use serde::{Deserialize, Serialize};

use crate::AudioError;
use k_weighting::{KWeighting, State};

/// A song's loudness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Loudness {
    /// Integrated loudness, LUFS (`None` for silence: nothing above the gate).
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU (how much the loudness moves over the song).
    pub range_lu: Option<f64>,
    /// The largest sample, 0 to 1 (1 = full scale).
    pub peak: f64,
}

/// Gating blocks below this are silence (BS.1770's absolute gate), LUFS.
const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// The integrated loudness's relative gate, LU below the blocks' mean.
const INTEGRATED_GATE_LU: f64 = -10.0;
/// The loudness range's relative gate (EBU Tech 3342).
const RANGE_GATE_LU: f64 = -20.0;
/// Sub-blocks (of 100 ms) per gating block, and per short-term block.
const GATING_SUB_BLOCKS: usize = 4;
const SHORT_TERM_SUB_BLOCKS: usize = 30;
/// Sub-blocks between two short-term blocks (one second).
const SHORT_TERM_STEP: usize = 10;
/// The loudness range spans these percentiles of the short-term loudness.
const RANGE_PERCENTILES: (f64, f64) = (0.10, 0.95);

/// Loudness, LUFS, of a mean-square energy (summed over channels).
fn lufs(energy: f64) -> f64 {
    -0.691 + 10.0 * energy.log10()
}

/// The energy whose loudness is `lufs`.
fn energy_of(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

/// A channel's place in the sum: BS.1770 weighs surround channels by 1.41
/// and leaves out the LFE. Channels are taken in the order files carry
/// them (WAV/FLAC/Vorbis: L, R, C, LFE, Ls, Rs, ...), as libebur128's
/// default map does: 4 channels are L, R, Ls, Rs; 5 are L, R, C, Ls, Rs;
/// past the sixth, channels are left out.
fn channel_weights(channels: usize) -> Vec<f64> {
    match channels {
        4 => vec![1.0, 1.0, 1.41, 1.41],
        5 => vec![1.0, 1.0, 1.0, 1.41, 1.41],
        n => (0..n)
            .map(|c| match c {
                0..=2 => 1.0,
                4 | 5 => 1.41,
                _ => 0.0,
            })
            .collect(),
    }
}

/// Measures loudness as samples arrive, one plane per channel.
pub(crate) struct LoudnessMeter {
    filter: KWeighting,
    weights: Vec<f64>,
    /// Each channel's filter state: [shelf s1, s2, high-pass s1, s2].
    states: Vec<State>,
    /// Frames in a sub-block (100 ms, rounded as libebur128 does).
    sub_block_frames: usize,
    /// Frames already in the current sub-block, and its weighted sum of squares.
    filled: usize,
    energy: f64,
    /// Each complete sub-block's weighted sum of squares.
    sub_blocks: Vec<f64>,
    peak: f32,
}

impl LoudnessMeter {
    pub(crate) fn new(channels: usize, rate: u32) -> Result<LoudnessMeter, AudioError> {
        if channels == 0 || rate < 10 {
            return Err(AudioError::Corrupt(format!(
                "loudness meter for {channels} channels at {rate} Hz"
            )));
        }
        Ok(LoudnessMeter {
            filter: KWeighting::new(f64::from(rate)),
            weights: channel_weights(channels),
            states: vec![[0.0; 4]; channels],
            sub_block_frames: (rate as usize + 5) / 10,
            filled: 0,
            energy: 0.0,
            sub_blocks: Vec::new(),
            peak: 0.0,
        })
    }

    /// One stretch of audio: a slice per channel, all of one length, every
    /// sample finite.
    pub(crate) fn add(&mut self, planes: &[&[f32]]) {
        let frames = planes.first().map_or(0, |p| p.len());
        for plane in planes {
            self.peak = self.peak.max(largest_magnitude(plane));
        }
        let mut start = 0;
        while start < frames {
            let end = frames.min(start + self.sub_block_frames - self.filled);
            self.energy += self.weighted_squares(planes, start..end);
            self.filled += end - start;
            if self.filled == self.sub_block_frames {
                self.sub_blocks.push(self.energy);
                self.filled = 0;
                self.energy = 0.0;
            }
            start = end;
        }
    }

    /// The K-weighted sum of squares of `range` of every channel, weighted.
    fn weighted_squares(&mut self, planes: &[&[f32]], range: std::ops::Range<usize>) -> f64 {
        let mut total = 0.0;
        let mut c = 0;
        while c < planes.len() {
            // Two channels at once, one in each lane of the filter's kernel.
            if c + 1 < planes.len() && self.weights[c] > 0.0 && self.weights[c + 1] > 0.0 {
                let (left, right) = self.states.split_at_mut(c + 1);
                let [a, b] = self.filter.squares_pair(
                    [&mut left[c], &mut right[0]],
                    &planes[c][range.clone()],
                    &planes[c + 1][range.clone()],
                );
                total += self.weights[c] * a + self.weights[c + 1] * b;
                c += 2;
            } else {
                if self.weights[c] > 0.0 {
                    total += self.weights[c]
                        * self
                            .filter
                            .squares_one(&mut self.states[c], &planes[c][range.clone()]);
                }
                c += 1;
            }
        }
        total
    }

    pub(crate) fn finish(self) -> Loudness {
        let mean_square = |blocks: &[f64], width: usize| {
            blocks.iter().sum::<f64>() / (width * self.sub_block_frames) as f64
        };
        let gating: Vec<f64> = self
            .sub_blocks
            .windows(GATING_SUB_BLOCKS)
            .map(|w| mean_square(w, GATING_SUB_BLOCKS))
            .collect();
        let short_term: Vec<f64> = self
            .sub_blocks
            .windows(SHORT_TERM_SUB_BLOCKS)
            .step_by(SHORT_TERM_STEP)
            .map(|w| mean_square(w, SHORT_TERM_SUB_BLOCKS))
            .collect();
        Loudness {
            integrated_lufs: integrated(&gating),
            range_lu: Some(range(short_term)),
            peak: f64::from(self.peak),
        }
    }
}

/// The largest |sample| of finite samples, eight running maxima side by
/// side (a plain `fold` with `f32::max`, which must also handle NaN, does
/// not vectorise).
fn largest_magnitude(samples: &[f32]) -> f32 {
    let (groups, tail) = samples.as_chunks::<8>();
    let mut largest = [0.0f32; 8];
    for group in groups {
        for (best, s) in largest.iter_mut().zip(group) {
            let magnitude = s.abs();
            *best = if magnitude > *best { magnitude } else { *best };
        }
    }
    tail.iter()
        .chain(&largest)
        .fold(0.0, |best, s| best.max(s.abs()))
}

/// Integrated loudness of the gating blocks' energies: the mean of those
/// above -70 LUFS and above 10 LU under their own mean.
fn integrated(gating: &[f64]) -> Option<f64> {
    let audible: Vec<f64> = gating
        .iter()
        .copied()
        .filter(|&e| e >= energy_of(ABSOLUTE_GATE_LUFS))
        .collect();
    if audible.is_empty() {
        return None;
    }
    let threshold =
        audible.iter().sum::<f64>() / audible.len() as f64 * 10f64.powf(INTEGRATED_GATE_LU / 10.0);
    let kept: Vec<f64> = audible.into_iter().filter(|&e| e >= threshold).collect();
    let loudness = lufs(kept.iter().sum::<f64>() / kept.len() as f64);
    loudness.is_finite().then_some(loudness)
}

/// Loudness range of the short-term blocks' energies: the spread between
/// the 10th and 95th percentiles of those above -70 LUFS and above 20 LU
/// under their mean (0 for a song with none).
fn range(short_term: Vec<f64>) -> f64 {
    let mut audible: Vec<f64> = short_term
        .into_iter()
        .filter(|&e| e >= energy_of(ABSOLUTE_GATE_LUFS))
        .collect();
    if audible.is_empty() {
        return 0.0;
    }
    audible.sort_by(f64::total_cmp);
    let threshold =
        audible.iter().sum::<f64>() / audible.len() as f64 * 10f64.powf(RANGE_GATE_LU / 10.0);
    let kept = &audible[audible.partition_point(|&e| e < threshold)..];
    let Some(last) = kept.len().checked_sub(1) else {
        return 0.0;
    };
    // Nearest rank, rounded as libebur128 rounds it.
    let at = |share: f64| kept[(last as f64 * share + 0.5) as usize];
    let spread = lufs(at(RANGE_PERCENTILES.1)) - lufs(at(RANGE_PERCENTILES.0));
    if spread.is_finite() {
        spread
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `seconds` of a `hz` sine at `amplitude`, at `rate`.
    fn sine(hz: f64, amplitude: f32, seconds: f64, rate: u32) -> Vec<f32> {
        (0..(seconds * f64::from(rate)) as usize)
            .map(|i| {
                amplitude
                    * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin() as f32
            })
            .collect()
    }

    fn measure(planes: &[Vec<f32>], rate: u32, chunk: usize) -> Loudness {
        let mut meter = LoudnessMeter::new(planes.len(), rate).unwrap();
        let frames = planes[0].len();
        let mut start = 0;
        while start < frames {
            let end = frames.min(start + chunk);
            let slices: Vec<&[f32]> = planes.iter().map(|p| &p[start..end]).collect();
            meter.add(&slices);
            start = end;
        }
        meter.finish()
    }

    /// What the `ebur128` crate (a port of libebur128) says of the same
    /// interleaved samples.
    fn reference(planes: &[Vec<f32>], rate: u32) -> Loudness {
        use ebur128::{EbuR128, Mode};
        let channels = planes.len();
        let mut meter = EbuR128::new(
            channels as u32,
            rate,
            Mode::I | Mode::LRA | Mode::SAMPLE_PEAK,
        )
        .unwrap();
        let interleaved: Vec<f32> = (0..planes[0].len())
            .flat_map(|i| planes.iter().map(move |p| p[i]))
            .collect();
        meter.add_frames_f32(&interleaved).unwrap();
        let peak = (0..channels as u32)
            .map(|c| meter.sample_peak(c).unwrap())
            .fold(0.0, f64::max);
        Loudness {
            integrated_lufs: meter.loudness_global().ok().filter(|v| v.is_finite()),
            range_lu: meter.loudness_range().ok().filter(|v| v.is_finite()),
            peak,
        }
    }

    fn assert_close(ours: Loudness, theirs: Loudness) {
        match (ours.integrated_lufs, theirs.integrated_lufs) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-3, "integrated {a} against {b}"),
            (a, b) => assert_eq!(a, b, "integrated"),
        }
        let (a, b) = (ours.range_lu.unwrap(), theirs.range_lu.unwrap());
        assert!((a - b).abs() < 1e-3, "range {a} against {b}");
        assert!((ours.peak - theirs.peak).abs() < 1e-6);
    }

    #[test]
    fn a_full_scale_1khz_sine_reads_as_bs1770_says() {
        // BS.1770: a 0 dBFS 997 Hz sine on one channel of a stereo pair reads -3.01 LKFS.
        let rate = 48_000;
        let left = sine(997.0, 1.0, 20.0, rate);
        let right = vec![0.0; left.len()];
        let loudness = measure(&[left, right], rate, 4096);
        let integrated = loudness.integrated_lufs.unwrap();
        assert!((integrated + 3.01).abs() < 0.02, "{integrated}");
        assert!(loudness.range_lu.unwrap() < 0.01);
    }

    #[test]
    fn matches_the_reference_meter_on_music_like_signals() {
        // Changing loudness (for the range), several channel counts and rates, odd chunk sizes.
        for (channels, rate) in [
            (1, 22_050),
            (2, 44_100),
            (2, 48_000),
            (5, 32_000),
            (6, 96_000),
        ] {
            let planes: Vec<Vec<f32>> = (0..channels)
                .map(|c| {
                    let mut signal = Vec::new();
                    for (part, amplitude) in [0.05f32, 0.4, 0.1, 0.8, 0.02].iter().enumerate() {
                        let hz = 110.0 * (1 + c + part) as f64;
                        signal.extend(sine(hz, *amplitude, 4.3, rate));
                    }
                    signal
                })
                .collect();
            assert_close(measure(&planes, rate, 1153), reference(&planes, rate));
        }
    }

    #[test]
    fn the_peak_is_the_largest_magnitude_wherever_it_falls() {
        for len in [0, 1, 7, 8, 9, 100] {
            for at in 0..len {
                let mut samples: Vec<f32> =
                    (0..len).map(|i| (i as f32 * 0.1).sin() * 0.5).collect();
                samples[at] = -0.9;
                assert_eq!(
                    largest_magnitude(&samples),
                    0.9,
                    "{len} samples, peak at {at}"
                );
            }
        }
        assert_eq!(largest_magnitude(&[]), 0.0);
    }

    #[test]
    fn silence_has_no_integrated_loudness_and_no_range() {
        let loudness = measure(&[vec![0.0; 96_000], vec![0.0; 96_000]], 48_000, 1000);
        assert_eq!(loudness.integrated_lufs, None);
        assert_eq!(loudness.range_lu, Some(0.0));
        assert_eq!(loudness.peak, 0.0);
    }

    #[test]
    fn absurd_rates_and_no_channels_are_refused() {
        assert!(LoudnessMeter::new(0, 44_100).is_err());
        assert!(LoudnessMeter::new(2, 0).is_err());
    }
}
