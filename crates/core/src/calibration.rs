//! Personal calibration: a correction of the classifier's output for one
//! person, learnt from a few seconds of their relaxed face.
//!
//! Some faces read sad (or angry) at rest: the model has never seen this
//! person and their resting face is not the data set's. A [`Calibration`]
//! is one log-probability offset per emotion, added to every reading of
//! that person and renormalised. It is made from resting frames by
//! [`Calibration::from_resting`] with the least correction that makes the
//! resting face read neutral, confidently: only the emotions that beat
//! neutral at rest (or come within [`RESTING_MARGIN`] of it) are lowered,
//! each just enough, neutral is raised if it still has less than
//! [`RESTING_NEUTRAL`], and a face that already reads neutral so is left
//! exactly as it was.
//!
//! Knowing only the resting face, it cannot tell a bias from a real
//! expression: a person who truly frowns at rest calibrates their frown
//! away too. See docs/CALIBRATION.md for the method, its measured effect
//! and its limits.

use serde::{Deserialize, Serialize};

use crate::{Emotion, EmotionProbabilities};

/// How far (in nats) neutral must lead every other emotion in the resting
/// face's average log-probabilities after calibration: e^1, about 2.7 times
/// as likely. Chosen on FER2013 val (`melodora eval --calibration`, see
/// docs/CALIBRATION.md): 1.5 cost people the model already reads right up
/// to 0.6 points, 1.0 cost them nothing and won back as much of a lean.
pub const RESTING_MARGIN: f32 = 1.0;

/// The probability of neutral in the resting face's profile after
/// calibration, at least: a resting face that leads with neutral at 30 %
/// (six others just behind) would never make a confident mood.
pub const RESTING_NEUTRAL: f32 = 0.5;

fn logit(p: f32) -> f32 {
    let p = p.clamp(PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR);
    (p / (1.0 - p)).ln()
}

/// Largest correction of one emotion, in nats (a factor of about 55): a
/// calibration never silences an emotion altogether.
pub const MAX_OFFSET: f32 = 4.0;

/// Fewest resting readings a calibration is made from (3 s of camera give
/// 10 to 60).
pub const MIN_RESTING_SAMPLES: usize = 5;

/// Probabilities below this count as this when taking logarithms, so one
/// reading of exactly 0 cannot send an average to minus infinity.
const PROBABILITY_FLOOR: f32 = 1e-6;

/// Why a calibration could not be made or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    /// Too few resting readings to average.
    #[error("calibration needs at least {needed} readings of the resting face; it got {found}")]
    TooFewSamples {
        /// Readings given.
        found: usize,
        /// [`MIN_RESTING_SAMPLES`].
        needed: usize,
    },
    /// A reading or an offset is not a finite number, or a reading's
    /// probabilities are negative or sum to nothing.
    #[error("calibration values must be finite probabilities (or offsets); got {0:?}")]
    NotFinite([f32; 7]),
    /// An offset outside ±[`MAX_OFFSET`].
    #[error("a calibration offset must be within ±{MAX_OFFSET}; got {0}")]
    OutOfRange(f32),
}

/// One person's correction: a log-probability offset per emotion, in
/// [`Emotion::ALL`] order, each within ±[`MAX_OFFSET`].
///
/// Serialises as a map from emotion name to offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    offsets: [f32; 7],
}

impl Calibration {
    /// A calibration with the given offsets (for example one read back from
    /// a store); refused when one is not finite or out of range.
    pub fn from_offsets(offsets: [f32; 7]) -> Result<Calibration, CalibrationError> {
        if offsets.iter().any(|o| !o.is_finite()) {
            return Err(CalibrationError::NotFinite(offsets));
        }
        if let Some(&o) = offsets.iter().find(|o| o.abs() > MAX_OFFSET) {
            return Err(CalibrationError::OutOfRange(o));
        }
        Ok(Calibration { offsets })
    }

    /// The least correction that makes these resting readings (one per
    /// frame, of one face) read neutral, with [`RESTING_MARGIN`].
    ///
    /// With `m` the mean log-probability of each emotion over the readings,
    /// each emotion `e` other than neutral gets the offset
    /// `min(0, m[neutral] - RESTING_MARGIN - m[e])`, no lower than
    /// `-MAX_OFFSET`; neutral's is 0. Offsets shift the log-probabilities
    /// before renormalising, so after calibration the resting face's mean
    /// log-probabilities have neutral ahead of every other emotion by the
    /// margin (unless an offset hit its floor). Then, if neutral has less
    /// than [`RESTING_NEUTRAL`] of the corrected resting profile (the
    /// normalised geometric mean of the readings), its offset raises it to
    /// that (at most [`MAX_OFFSET`]).
    pub fn from_resting(
        readings: &[EmotionProbabilities],
    ) -> Result<Calibration, CalibrationError> {
        if readings.len() < MIN_RESTING_SAMPLES {
            return Err(CalibrationError::TooFewSamples {
                found: readings.len(),
                needed: MIN_RESTING_SAMPLES,
            });
        }
        let mut mean = [0f64; 7];
        for reading in readings {
            let values = reading.as_array();
            let sum: f32 = values.iter().sum();
            if !reading.is_finite() || values.iter().any(|&p| p < 0.0) || sum <= 0.0 {
                return Err(CalibrationError::NotFinite(*values));
            }
            for (m, &p) in mean.iter_mut().zip(values) {
                *m += f64::from((p / sum).max(PROBABILITY_FLOOR).ln());
            }
        }
        let n = readings.len() as f64;
        let mean = mean.map(|m| (m / n) as f32);
        let target = mean[Emotion::Neutral as usize] - RESTING_MARGIN;
        let mut offsets = [0f32; 7];
        for (i, offset) in offsets.iter_mut().enumerate() {
            if i != Emotion::Neutral as usize {
                *offset = (target - mean[i]).clamp(-MAX_OFFSET, 0.0);
            }
        }
        // Ahead is not enough when the rest share the probability: the mood
        // needs neutral confident. Raise it until the resting profile (the
        // normalised geometric mean of the readings) gives it
        // RESTING_NEUTRAL: that multiplies its odds by e^offset.
        let neutral = Emotion::Neutral as usize;
        let corrected: Vec<f32> = mean
            .iter()
            .zip(offsets)
            .map(|(m, o)| (m + o).exp())
            .collect();
        let share = corrected[neutral] / corrected.iter().sum::<f32>();
        if share < RESTING_NEUTRAL {
            offsets[neutral] = (logit(RESTING_NEUTRAL) - logit(share)).min(MAX_OFFSET);
        }
        Ok(Calibration { offsets })
    }

    /// The offsets, in [`Emotion::ALL`] order.
    pub const fn offsets(&self) -> &[f32; 7] {
        &self.offsets
    }

    /// Whether this calibration changes nothing (every offset 0).
    pub fn is_identity(&self) -> bool {
        self.offsets.iter().all(|&o| o == 0.0)
    }

    /// A reading corrected: each probability times e^offset, renormalised.
    /// A reading that is not finite or sums to nothing, or any reading under
    /// an identity calibration, is returned as it is.
    pub fn apply(&self, reading: &EmotionProbabilities) -> EmotionProbabilities {
        if self.is_identity() {
            return *reading;
        }
        let mut scaled = *reading.as_array();
        for (p, o) in scaled.iter_mut().zip(self.offsets) {
            *p *= o.exp();
        }
        let sum: f32 = scaled.iter().sum();
        if !reading.is_finite() || sum <= 0.0 || !sum.is_finite() {
            return *reading;
        }
        EmotionProbabilities::new(scaled.map(|p| p / sum))
    }
}

impl Serialize for Calibration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(7))?;
        for (emotion, offset) in Emotion::ALL.iter().zip(self.offsets) {
            map.serialize_entry(emotion.name(), &offset)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Calibration {
    /// A map from emotion name to offset; emotions left out have offset 0.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The same map by emotion name as a reading's probabilities.
        let offsets = EmotionProbabilities::deserialize(deserializer)?;
        Calibration::from_offsets(*offsets.as_array()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(p: [f32; 7]) -> EmotionProbabilities {
        EmotionProbabilities::new(p)
    }

    /// Angry, disgust, fear, happy, neutral, sad, surprise.
    const SAD_AT_REST: [f32; 7] = [0.05, 0.01, 0.04, 0.02, 0.28, 0.58, 0.02];

    #[test]
    fn a_face_that_reads_sad_at_rest_reads_neutral_after_calibration() {
        let rest = vec![reading(SAD_AT_REST); 10];
        let calibration = Calibration::from_resting(&rest).unwrap();
        assert_eq!(calibration.apply(&rest[0]).top().0, Emotion::Neutral);
        // Only sad was lowered: it was the one beating neutral.
        let offsets = calibration.offsets();
        assert!(offsets[Emotion::Sad as usize] < -0.5);
        for e in [
            Emotion::Angry,
            Emotion::Happy,
            Emotion::Surprise,
            Emotion::Neutral,
        ] {
            assert_eq!(offsets[e as usize], 0.0, "{e:?}");
        }
        // A real smile still reads happy.
        let smile = reading([0.02, 0.0, 0.02, 0.85, 0.06, 0.04, 0.01]);
        assert_eq!(calibration.apply(&smile).top().0, Emotion::Happy);
    }

    #[test]
    fn a_face_that_already_reads_neutral_is_left_alone() {
        let rest = vec![reading([0.03, 0.0, 0.02, 0.05, 0.8, 0.08, 0.02]); 6];
        let calibration = Calibration::from_resting(&rest).unwrap();
        assert!(calibration.is_identity());
        assert_eq!(calibration.apply(&rest[0]), rest[0]);
    }

    #[test]
    fn the_margin_is_met_on_the_resting_average() {
        let rest: Vec<_> = (0..8)
            .map(|i| {
                let sad = 0.5 + 0.02 * i as f32;
                reading([0.05, 0.01, 0.04, 0.02, 0.86 - sad, sad, 0.02])
            })
            .collect();
        let calibration = Calibration::from_resting(&rest).unwrap();
        let mean_log = |e: Emotion| {
            rest.iter()
                .map(|r| calibration.apply(r)[e].max(PROBABILITY_FLOOR).ln())
                .sum::<f32>()
                / rest.len() as f32
        };
        let neutral = mean_log(Emotion::Neutral);
        for e in Emotion::ALL.into_iter().filter(|&e| e != Emotion::Neutral) {
            assert!(neutral - mean_log(e) >= RESTING_MARGIN - 1e-4, "{e:?}");
        }
    }

    #[test]
    fn neutral_is_raised_until_the_resting_face_reads_it_confidently() {
        // Neutral leads once sad is lowered, but six others share the rest.
        let rest = vec![reading([0.1, 0.1, 0.12, 0.1, 0.16, 0.32, 0.1]); 5];
        let calibration = Calibration::from_resting(&rest).unwrap();
        assert!(calibration.offsets()[Emotion::Neutral as usize] > 0.0);
        let corrected = calibration.apply(&rest[0]);
        assert_eq!(corrected.top().0, Emotion::Neutral);
        assert!(
            corrected[Emotion::Neutral] >= RESTING_NEUTRAL - 1e-4,
            "{corrected:?}"
        );
    }

    #[test]
    fn offsets_never_go_below_the_floor() {
        let rest = vec![reading([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]); 5];
        let calibration = Calibration::from_resting(&rest).unwrap();
        assert_eq!(calibration.offsets()[Emotion::Sad as usize], -MAX_OFFSET);
    }

    #[test]
    fn bad_readings_and_offsets_are_refused() {
        assert_eq!(
            Calibration::from_resting(&[reading(SAD_AT_REST); 4]),
            Err(CalibrationError::TooFewSamples {
                found: 4,
                needed: 5
            })
        );
        let mut nan = SAD_AT_REST;
        nan[2] = f32::NAN;
        assert!(matches!(
            Calibration::from_resting(&[reading(nan); 5]),
            Err(CalibrationError::NotFinite(_))
        ));
        assert!(matches!(
            Calibration::from_resting(&[reading([0.0; 7]); 5]),
            Err(CalibrationError::NotFinite(_))
        ));
        assert!(matches!(
            Calibration::from_resting(&[reading([-0.5, 0.0, 0.0, 0.0, 1.5, 0.0, 0.0]); 5]),
            Err(CalibrationError::NotFinite(_))
        ));
        assert_eq!(
            Calibration::from_offsets([0.0, 0.0, 0.0, 0.0, 0.0, -4.5, 0.0]),
            Err(CalibrationError::OutOfRange(-4.5))
        );
        assert!(Calibration::from_offsets([f32::INFINITY; 7]).is_err());
    }

    #[test]
    fn bad_readings_pass_through_apply_unchanged() {
        let calibration = Calibration::from_offsets([0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0]).unwrap();
        let zero = reading([0.0; 7]);
        assert_eq!(calibration.apply(&zero), zero);
        let nan = reading([f32::NAN, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        assert!(!calibration.apply(&nan).is_finite());
    }

    #[test]
    fn json_is_a_map_by_emotion_name_and_is_checked() {
        let calibration = Calibration::from_offsets([0.0, 0.0, 0.0, 0.0, 0.0, -1.5, 0.0]).unwrap();
        let json = serde_json::to_string(&calibration).unwrap();
        assert_eq!(
            json,
            r#"{"angry":0.0,"disgust":0.0,"fear":0.0,"happy":0.0,"neutral":0.0,"sad":-1.5,"surprise":0.0}"#
        );
        assert_eq!(
            serde_json::from_str::<Calibration>(&json).unwrap(),
            calibration
        );
        assert_eq!(
            serde_json::from_str::<Calibration>(r#"{"sad":-1.5}"#).unwrap(),
            calibration
        );
        assert!(serde_json::from_str::<Calibration>(r#"{"sad":-9}"#).is_err());
        assert!(serde_json::from_str::<Calibration>(r#"{"grumpy":-1}"#).is_err());
    }
}
