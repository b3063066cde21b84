//! Loudness as EBU R128 measures it (the `ebur128` crate, a pure-Rust port
//! of libebur128): integrated loudness in LUFS, loudness range in LU, and
//! the sample peak, on every channel of the file at its own rate.

use ebur128::{EbuR128, Mode};
use serde::{Deserialize, Serialize};

use crate::AudioError;

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

/// Measures loudness as samples arrive.
pub(crate) struct LoudnessMeter {
    meter: EbuR128,
    channels: usize,
}

impl LoudnessMeter {
    pub(crate) fn new(channels: usize, rate: u32) -> Result<LoudnessMeter, AudioError> {
        let meter = EbuR128::new(
            channels as u32,
            rate,
            Mode::I | Mode::LRA | Mode::SAMPLE_PEAK,
        )
        .map_err(|e| {
            AudioError::Corrupt(format!(
                "loudness meter for {channels} channels at {rate} Hz: {e}"
            ))
        })?;
        Ok(LoudnessMeter { meter, channels })
    }

    /// Interleaved samples, whole frames.
    pub(crate) fn add(&mut self, interleaved: &[f32]) {
        // The meter refuses nothing it was built for; a failure would only lose loudness.
        let _ = self.meter.add_frames_f32(interleaved);
    }

    pub(crate) fn finish(self) -> Loudness {
        let finite = |value: Result<f64, ebur128::Error>| value.ok().filter(|v| v.is_finite());
        let peak = (0..self.channels as u32)
            .filter_map(|channel| self.meter.sample_peak(channel).ok())
            .fold(0.0f64, f64::max);
        Loudness {
            integrated_lufs: finite(self.meter.loudness_global()),
            range_lu: finite(self.meter.loudness_range()),
            peak,
        }
    }
}
