//! How much personal calibration ([`melodora_core::Calibration`]) helps,
//! measured on a labelled data set that has no identities (FER2013).
//!
//! A *simulated person* is the data set read through a fixed bias: every
//! reading gets `+bias` nats on one emotion (renormalised), as if the model
//! read this person's face a little sadder (say) than it is. The person
//! calibrates on `frames` of their "resting" readings, drawn at random from
//! the data set's neutral faces (with the bias), and is then scored on all
//! faces of all seven classes (with the bias and the calibration). With no
//! bias, the same measures what calibrating costs a person the model
//! already reads right. Many people (draws) give the spread.
//!
//! What it does not measure: real people, whose resting face differs from
//! others' in more than one shared offset, and whose 3 s of frames are one
//! face seen 30 times (the `frames = 1` rows come closest to that).

use melodora_core::{Calibration, Emotion, EmotionProbabilities, SplitMix64};
use serde::Serialize;

use crate::ConfusionMatrix;

/// One simulated condition and what calibration did in it.
#[derive(Debug, Clone, Serialize)]
pub struct StudyRow {
    /// The emotion the simulated person's readings lean to; `None` for
    /// people the model reads as the data set is.
    pub bias_toward: Option<Emotion>,
    /// The lean, in nats added to that emotion's log-probability.
    pub bias: f32,
    /// Resting readings each person calibrates on.
    pub frames: usize,
    /// Simulated people.
    pub people: usize,
    /// Accuracy of the unbiased readings, uncalibrated (the model's own).
    pub accuracy_model: f64,
    /// Accuracy of the biased readings, uncalibrated.
    pub accuracy_biased: f64,
    /// Accuracy after calibration: mean, lowest and highest over people.
    pub accuracy_calibrated_mean: f64,
    /// See `accuracy_calibrated_mean`.
    pub accuracy_calibrated_min: f64,
    /// See `accuracy_calibrated_mean`.
    pub accuracy_calibrated_max: f64,
}

impl StudyRow {
    /// The fraction of the accuracy the bias cost that calibration won back
    /// (on average); `None` without a bias (nothing was lost).
    pub fn recovered(&self) -> Option<f64> {
        let lost = self.accuracy_model - self.accuracy_biased;
        (self.bias_toward.is_some() && lost > 0.0)
            .then(|| (self.accuracy_calibrated_mean - self.accuracy_biased) / lost)
    }
}

/// Runs one condition over `people` simulated people, each calibrated on
/// `frames` neutral readings drawn with a generator seeded by `seed`.
/// `readings` are (true emotion, model output) for the whole data set; it
/// must hold at least one neutral face.
pub fn simulate(
    readings: &[(Emotion, EmotionProbabilities)],
    bias: Option<(Emotion, f32)>,
    frames: usize,
    people: usize,
    seed: u64,
) -> Option<StudyRow> {
    let lean = bias.and_then(|(emotion, nats)| {
        let mut offsets = [0f32; 7];
        offsets[emotion as usize] = nats;
        Calibration::from_offsets(offsets).ok()
    });
    let biased: Vec<(Emotion, EmotionProbabilities)> = readings
        .iter()
        .map(|(truth, p)| (*truth, lean.map_or(*p, |l| l.apply(p))))
        .collect();
    let neutral: Vec<EmotionProbabilities> = biased
        .iter()
        .filter(|(truth, _)| *truth == Emotion::Neutral)
        .map(|(_, p)| *p)
        .collect();
    if neutral.is_empty() || people == 0 {
        return None;
    }
    let mut random = SplitMix64::new(seed);
    let mut scores = Vec::with_capacity(people);
    for _ in 0..people {
        // A person's resting frames; with fewer than the minimum, one face
        // is seen several times (as a camera sees one face for 3 s).
        let picked: Vec<EmotionProbabilities> = (0..frames.max(1))
            .map(|_| neutral[random.below(neutral.len() as u64) as usize])
            .collect();
        let resting: Vec<EmotionProbabilities> = picked
            .iter()
            .cycle()
            .take(picked.len().max(melodora_core::MIN_RESTING_SAMPLES))
            .copied()
            .collect();
        let calibration = Calibration::from_resting(&resting).ok()?;
        scores.push(accuracy(
            biased.iter().map(|(t, p)| (*t, calibration.apply(p))),
        ));
    }
    Some(StudyRow {
        bias_toward: bias.map(|(e, _)| e),
        bias: bias.map_or(0.0, |(_, b)| b),
        frames,
        people,
        accuracy_model: accuracy(readings.iter().copied()),
        accuracy_biased: accuracy(biased.iter().copied()),
        accuracy_calibrated_mean: scores.iter().sum::<f64>() / people as f64,
        accuracy_calibrated_min: scores.iter().copied().fold(f64::INFINITY, f64::min),
        accuracy_calibrated_max: scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn accuracy(readings: impl Iterator<Item = (Emotion, EmotionProbabilities)>) -> f64 {
    let mut confusion = ConfusionMatrix::new();
    for (truth, p) in readings {
        confusion.add(truth, p.top().0);
    }
    confusion.accuracy()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model that reads neutral faces right, sad faces right, happy faces
    /// right, with neutral's second choice sad.
    fn readings() -> Vec<(Emotion, EmotionProbabilities)> {
        let neutral = EmotionProbabilities::new([0.02, 0.0, 0.02, 0.04, 0.6, 0.3, 0.02]);
        let sad = EmotionProbabilities::new([0.05, 0.0, 0.05, 0.02, 0.2, 0.66, 0.02]);
        let happy = EmotionProbabilities::new([0.02, 0.0, 0.02, 0.86, 0.06, 0.02, 0.02]);
        let mut all = vec![(Emotion::Neutral, neutral); 40];
        all.extend(vec![(Emotion::Sad, sad); 30]);
        all.extend(vec![(Emotion::Happy, happy); 30]);
        all
    }

    #[test]
    fn a_sad_lean_costs_the_neutral_faces_and_calibration_wins_them_back() {
        let row = simulate(&readings(), Some((Emotion::Sad, 1.5)), 30, 5, 7).unwrap();
        assert_eq!(row.accuracy_model, 1.0);
        // Every neutral face now reads sad.
        assert!((row.accuracy_biased - 0.6).abs() < 1e-9, "{row:?}");
        // Calibration lowers sad to below neutral on neutral faces, and the
        // sad faces (0.66 against 0.2) still read sad.
        assert_eq!(row.accuracy_calibrated_min, 1.0, "{row:?}");
        assert_eq!(row.recovered(), Some(1.0));
    }

    #[test]
    fn without_a_lean_calibration_changes_nothing_here() {
        let row = simulate(&readings(), None, 30, 5, 7).unwrap();
        assert_eq!(row.accuracy_calibrated_min, row.accuracy_model);
        assert_eq!(row.recovered(), None);
    }

    #[test]
    fn no_neutral_faces_no_study() {
        let only_happy: Vec<_> = readings()
            .into_iter()
            .filter(|(t, _)| *t == Emotion::Happy)
            .collect();
        assert!(simulate(&only_happy, None, 30, 5, 7).is_none());
    }
}
