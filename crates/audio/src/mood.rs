//! The mood a song sounds like: valence (unpleasant to pleasant) and arousal
//! (calm to excited), each in [-1, 1], and Russell's quadrant. Each axis is
//! a logistic model over the standardised measures of [`Features::vector`],
//! whose coefficients are fitted by `training/audio_mood/fit.py` and shipped
//! as `mood_model.json` (small, reproducible from the script).

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
    valence: Axis,
    arousal: Axis,
}

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    let model: Model =
        serde_json::from_str(include_str!("mood_model.json")).expect("mood_model.json is valid");
    assert_eq!(
        model.features,
        Features::NAMES,
        "mood_model.json is fitted to these measures"
    );
    model
});

impl Axis {
    /// The probability of the axis's positive side, as a value in [-1, 1].
    fn value(&self, z: &[f64]) -> f64 {
        let logit = self.bias + self.weights.iter().zip(z).map(|(w, x)| w * x).sum::<f64>();
        2.0 / (1.0 + (-logit).exp()) - 1.0
    }
}

/// Estimates the mood of a measured song.
pub fn estimate(features: &Features) -> MoodEstimate {
    let model = &*MODEL;
    let z: Vec<f64> = features
        .vector()
        .iter()
        .zip(model.means.iter().zip(&model.scales))
        .map(|(x, (mean, scale))| ((x - mean) / scale).clamp(-5.0, 5.0))
        .collect();
    let valence = model.valence.value(&z);
    let arousal = model.arousal.value(&z);
    MoodEstimate {
        valence,
        arousal,
        quadrant: Quadrant::of(valence, arousal),
    }
}

/// Each measure's weight on each axis (standardised units), for reports.
pub fn weights() -> Vec<(&'static str, f64, f64)> {
    let model = &*MODEL;
    Features::NAMES
        .iter()
        .zip(model.valence.weights.iter().zip(&model.arousal.weights))
        .map(|(name, (v, a))| (*name, *v, *a))
        .collect()
}
