//! The mood a song sounds like: valence (unpleasant to pleasant) and arousal
//! (calm to excited), each in [-1, 1], and Russell's quadrant. Three
//! logistic models over the standardised measures of [`Features::inputs`]:
//! one for arousal, and one for valence at each level of arousal (what
//! makes a loud song pleasant is not what makes a quiet one so), weighted
//! by how excited the song sounds. The coefficients are fitted by
//! `training/audio_mood/fit.py` and shipped as `mood_model.json` (small,
//! reproducible from the script).

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use crate::features::Features;

/// Russell's four quadrants of the valence/arousal plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quadrant {
    /// Pleasant and excited: happy, exuberant.
    Q1,
    /// Unpleasant and excited: angry, tense, anxious.
    Q2,
    /// Unpleasant and calm: sad, depressed.
    Q3,
    /// Pleasant and calm: relaxed, serene.
    Q4,
}

impl Quadrant {
    /// The quadrant of a point.
    pub fn of(valence: f64, arousal: f64) -> Quadrant {
        match (valence >= 0.0, arousal >= 0.0) {
            (true, true) => Quadrant::Q1,
            (false, true) => Quadrant::Q2,
            (false, false) => Quadrant::Q3,
            (true, false) => Quadrant::Q4,
        }
    }

    /// How it sounds, in a few words.
    pub fn words(self) -> &'static str {
        match self {
            Quadrant::Q1 => "happy and lively",
            Quadrant::Q2 => "tense and driven",
            Quadrant::Q3 => "sad and low",
            Quadrant::Q4 => "calm and gentle",
        }
    }
}

/// What a song sounds like.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MoodEstimate {
    /// Unpleasant (-1) to pleasant (1).
    pub valence: f64,
    /// Calm (-1) to excited (1).
    pub arousal: f64,
    /// The quadrant the point falls in.
    pub quadrant: Quadrant,
}

/// One axis: a logistic model over standardised measures.
#[derive(Debug, Clone, Deserialize)]
struct Axis {
    weights: Vec<f64>,
    bias: f64,
}

/// The shipped model: the measures' means and scales, and each axis.
#[derive(Debug, Clone, Deserialize)]
struct Model {
    features: Vec<String>,
    means: Vec<f64>,
    scales: Vec<f64>,
    arousal: Axis,
    /// Pleasant or not, among excited songs (Q1 against Q2).
    valence_excited: Axis,
    /// Pleasant or not, among calm songs (Q4 against Q3).
    valence_calm: Axis,
}

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    serde_json::from_str(include_str!("mood_model.json")).expect("mood_model.json is valid")
});

impl Axis {
    /// The probability of the axis's positive side.
    fn probability(&self, z: &[f64]) -> f64 {
        let logit = self.bias + self.weights.iter().zip(z).map(|(w, x)| w * x).sum::<f64>();
        1.0 / (1.0 + (-logit).exp())
    }
}

/// Estimates the mood of a measured song.
pub fn estimate(features: &Features) -> MoodEstimate {
    estimate_from_inputs(&features.inputs())
}

/// Estimates the mood from a song's named inputs ([`Features::inputs`]),
/// for a caller that keeps them anyway.
pub fn estimate_from_inputs(inputs: &[(String, f64)]) -> MoodEstimate {
    let model = &*MODEL;
    // By name: a measure the model was not fitted on is not read, and one
    // it was fitted on but this build lacks counts as average.
    let z: Vec<f64> = model
        .features
        .iter()
        .zip(model.means.iter().zip(&model.scales))
        .map(|(name, (mean, scale))| {
            let value = inputs
                .iter()
                .find(|(n, _)| n == name)
                .map_or(*mean, |(_, v)| *v);
            ((value - mean) / scale).clamp(-5.0, 5.0)
        })
        .collect();
    let excited = model.arousal.probability(&z);
    let side = side_weight(excited);
    let pleasant = side * model.valence_excited.probability(&z)
        + (1.0 - side) * model.valence_calm.probability(&z);
    let (valence, arousal) = (2.0 * pleasant - 1.0, 2.0 * excited - 1.0);
    MoodEstimate {
        valence,
        arousal,
        quadrant: Quadrant::of(valence, arousal),
    }
}

/// How firmly a song's valence comes from the valence model of its own side
/// of arousal: the excited side's model weighs `e^k / (e^k + (1 - e)^k)`
/// for a song excited with probability `e`. `k = 1` would be the plain
/// mixture; a larger `k` follows the likelier side, blending the two only
/// near the middle, so that a fairly excited song is not judged half by
/// what makes a calm song pleasant. Chosen on the even half's
/// cross-validation (`training/audio_mood/fit.py`: macro F1 0.652 with
/// k = 1, 0.664 with k = 8, in three repeats); valence stays continuous.
pub const SIDE_SHARPNESS: i32 = 8;

/// The weight of the excited side's valence model (see [`SIDE_SHARPNESS`]).
fn side_weight(excited: f64) -> f64 {
    let up = excited.powi(SIDE_SHARPNESS);
    let down = (1.0 - excited).powi(SIDE_SHARPNESS);
    if up + down > 0.0 {
        up / (up + down)
    } else {
        0.5
    }
}

/// Each measure's weight (standardised units) on arousal, on valence among
/// excited songs and on valence among calm ones, for reports.
pub fn weights() -> Vec<(String, [f64; 3])> {
    let model = &*MODEL;
    model
        .features
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let weight = |axis: &Axis| axis.weights.get(i).copied().unwrap_or(0.0);
            (
                name.clone(),
                [
                    weight(&model.arousal),
                    weight(&model.valence_excited),
                    weight(&model.valence_calm),
                ],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quadrants_follow_the_signs_of_valence_and_arousal() {
        assert_eq!(Quadrant::of(0.5, 0.5), Quadrant::Q1);
        assert_eq!(Quadrant::of(-0.5, 0.5), Quadrant::Q2);
        assert_eq!(Quadrant::of(-0.5, -0.5), Quadrant::Q3);
        assert_eq!(Quadrant::of(0.5, -0.5), Quadrant::Q4);
        // The axes themselves count as the positive side.
        assert_eq!(Quadrant::of(0.0, 0.0), Quadrant::Q1);
    }

    #[test]
    fn the_shipped_model_is_whole_and_its_answers_stay_in_range() {
        let model = &*MODEL;
        let n = model.features.len();
        for axis in [&model.arousal, &model.valence_excited, &model.valence_calm] {
            assert_eq!(axis.weights.len(), n);
        }
        assert_eq!(model.means.len(), n);
        assert!(model.scales.iter().all(|s| *s > 0.0), "scales divide");
        // The most extreme standardised inputs (clamped at ±5) still give values in [-1, 1].
        for extreme in [-5.0, 0.0, 5.0] {
            let z = vec![extreme; n];
            let excited = model.arousal.probability(&z);
            let pleasant = excited * model.valence_excited.probability(&z)
                + (1.0 - excited) * model.valence_calm.probability(&z);
            for value in [2.0 * excited - 1.0, 2.0 * pleasant - 1.0] {
                assert!((-1.0..=1.0).contains(&value), "{value}");
            }
        }
    }
}
