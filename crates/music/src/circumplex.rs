//! Emotions as places on the circumplex of affect (Russell, 1980).
//!
//! Spotify describes a song by *valence* (how positive it sounds) and
//! *energy* (how intense it is), both from 0 to 1. Russell's circumplex
//! describes an emotion by the same two axes (pleasure and arousal), so each
//! of the seven FER emotions gets a centre in that square and a song is
//! placed under the emotion whose centre is nearest:
//!
//! | emotion  | valence | energy | region                                 |
//! |----------|---------|--------|----------------------------------------|
//! | happy    | 0.80    | 0.70   | high valence, fairly high energy       |
//! | surprise | 0.65    | 0.90   | positive, very high energy             |
//! | neutral  | 0.50    | 0.50   | the middle                             |
//! | angry    | 0.20    | 0.85   | low valence, high energy               |
//! | fear     | 0.30    | 0.65   | low valence, raised energy (tense)     |
//! | disgust  | 0.15    | 0.50   | lowest valence, medium energy          |
//! | sad      | 0.20    | 0.20   | low valence, low energy                |
//!
//! Calm, positive music (high valence, low energy) has no FER emotion of
//! its own; it falls to neutral. The uplift mode walks from the current
//! emotion's centre towards [`UPLIFT_GOAL`] across a list.

use melodora_core::Emotion;
use serde::Serialize;

/// A point in valence/energy space, both coordinates in `[0, 1]`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MoodPoint {
    /// How positive: 0 sad or angry, 1 happy.
    pub valence: f32,
    /// How aroused: 0 calm, 1 intense.
    pub energy: f32,
}

impl MoodPoint {
    /// A point at `valence`, `energy` (each expected in `[0, 1]`).
    pub const fn new(valence: f32, energy: f32) -> Self {
        MoodPoint { valence, energy }
    }

    /// Euclidean distance in valence/energy space. (Coordinates are near
    /// `[0, 1]`, so the plain formula cannot overflow; `hypot`'s care costs
    /// more than the whole recommender search.)
    pub fn distance(self, other: MoodPoint) -> f32 {
        let (dv, de) = (self.valence - other.valence, self.energy - other.energy);
        (dv * dv + de * de).sqrt()
    }

    /// The point a fraction `t` (0 to 1) of the way from `self` to `to`.
    pub fn lerp(self, to: MoodPoint, t: f32) -> MoodPoint {
        MoodPoint::new(
            self.valence + (to.valence - self.valence) * t,
            self.energy + (to.energy - self.energy) * t,
        )
    }
}

/// Where the uplift mode ends: the happy centre.
pub const UPLIFT_GOAL: MoodPoint = center(Emotion::Happy);

/// The centre of an emotion's region (see the module table).
pub const fn center(emotion: Emotion) -> MoodPoint {
    match emotion {
        Emotion::Happy => MoodPoint::new(0.80, 0.70),
        Emotion::Surprise => MoodPoint::new(0.65, 0.90),
        Emotion::Neutral => MoodPoint::new(0.50, 0.50),
        Emotion::Angry => MoodPoint::new(0.20, 0.85),
        Emotion::Fear => MoodPoint::new(0.30, 0.65),
        Emotion::Disgust => MoodPoint::new(0.15, 0.50),
        Emotion::Sad => MoodPoint::new(0.20, 0.20),
    }
}

/// The emotion whose centre is nearest to `point` (ties go to the earlier
/// emotion in FER order, so placement is deterministic).
pub fn nearest_emotion(point: MoodPoint) -> Emotion {
    let mut best = Emotion::ALL[0];
    let mut best_distance = f32::INFINITY;
    for emotion in Emotion::ALL {
        let distance = point.distance(center(emotion));
        if distance < best_distance {
            best = emotion;
            best_distance = distance;
        }
    }
    best
}

/// Target of position `index` in an uplift list of `len` songs starting at
/// `from`: the first song sits at the emotion's centre, the last at
/// [`UPLIFT_GOAL`], the rest evenly between (the iso principle).
pub fn uplift_target(from: Emotion, index: usize, len: usize) -> MoodPoint {
    let t = if len <= 1 {
        0.0
    } else {
        index as f32 / (len - 1) as f32
    };
    center(from).lerp(UPLIFT_GOAL, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_centre_is_its_own_nearest_emotion() {
        for emotion in Emotion::ALL {
            assert_eq!(nearest_emotion(center(emotion)), emotion);
        }
    }

    #[test]
    fn regions_follow_the_circumplex() {
        assert_eq!(nearest_emotion(MoodPoint::new(0.95, 0.75)), Emotion::Happy);
        assert_eq!(nearest_emotion(MoodPoint::new(0.05, 0.05)), Emotion::Sad);
        assert_eq!(nearest_emotion(MoodPoint::new(0.1, 0.95)), Emotion::Angry);
        assert_eq!(nearest_emotion(MoodPoint::new(0.5, 0.45)), Emotion::Neutral);
    }

    #[test]
    fn uplift_walks_from_the_mood_to_positive_valence() {
        let first = uplift_target(Emotion::Sad, 0, 15);
        let last = uplift_target(Emotion::Sad, 14, 15);
        assert_eq!(first, center(Emotion::Sad));
        assert_eq!(last, UPLIFT_GOAL);
        let valences: Vec<f32> = (0..15)
            .map(|i| uplift_target(Emotion::Sad, i, 15).valence)
            .collect();
        assert!(valences.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(uplift_target(Emotion::Angry, 0, 1), center(Emotion::Angry));
    }
}
