use std::ops::Index;

use serde::Deserialize;

use crate::Emotion;

/// How likely each of the seven emotions is, for one face or a smoothed
/// mood, in [`Emotion::ALL`] order.
///
/// One type for what classifiers produce, the mood tracker smooths and the
/// server reports, so that "which emotion leads" is decided in one place
/// ([`EmotionProbabilities::top`]). Emotions a model does not predict are 0.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EmotionProbabilities([f32; 7]);

impl EmotionProbabilities {
    /// Probabilities given in [`Emotion::ALL`] order.
    pub const fn new(probabilities: [f32; 7]) -> Self {
        EmotionProbabilities(probabilities)
    }

    /// The probability of `emotion`.
    pub fn get(&self, emotion: Emotion) -> f32 {
        self.0[emotion as usize]
    }

    /// The most probable emotion and its probability; on a tie the first
    /// in [`Emotion::ALL`] order wins, and NaN never leads.
    pub fn top(&self) -> (Emotion, f32) {
        let (index, probability) = self.0.iter().enumerate().fold(
            (0, f32::MIN),
            |best, (i, &p)| if p > best.1 { (i, p) } else { best },
        );
        (Emotion::ALL[index], probability)
    }

    /// The probabilities in [`Emotion::ALL`] order.
    pub const fn as_array(&self) -> &[f32; 7] {
        &self.0
    }

    /// Each emotion with its probability, in [`Emotion::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Emotion, f32)> + '_ {
        Emotion::ALL.into_iter().zip(self.0)
    }

    /// Whether every value is a finite number.
    pub fn is_finite(&self) -> bool {
        self.0.iter().all(|p| p.is_finite())
    }
}

impl From<[f32; 7]> for EmotionProbabilities {
    fn from(probabilities: [f32; 7]) -> Self {
        EmotionProbabilities(probabilities)
    }
}

impl<'de> Deserialize<'de> for EmotionProbabilities {
    /// A map from emotion name to probability, as the server and the page
    /// report faces (`{"happy": 0.8, "neutral": 0.1, ...}`); emotions left
    /// out are 0, an unknown name is an error. Values are not checked here:
    /// whoever uses them decides what is valid.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<Emotion, f32>::deserialize(deserializer)?;
        let mut probabilities = [0f32; 7];
        for (emotion, p) in map {
            probabilities[emotion as usize] = p;
        }
        Ok(EmotionProbabilities(probabilities))
    }
}

impl Index<Emotion> for EmotionProbabilities {
    type Output = f32;

    fn index(&self, emotion: Emotion) -> &f32 {
        &self.0[emotion as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_probable_emotion_leads() {
        let p = EmotionProbabilities::new([0.1, 0.0, 0.05, 0.6, 0.05, 0.2, 0.0]);
        assert_eq!(p.top(), (Emotion::Happy, 0.6));
        assert_eq!(p.get(Emotion::Sad), 0.2);
        assert_eq!(p[Emotion::Angry], 0.1);
    }

    #[test]
    fn ties_go_to_the_first_and_nan_never_leads() {
        let tie = EmotionProbabilities::new([0.0, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0]);
        assert_eq!(tie.top().0, Emotion::Disgust);
        let nan = EmotionProbabilities::new([f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0]);
        assert_eq!(nan.top(), (Emotion::Sad, 0.3));
        assert!(!nan.is_finite());
    }

    #[test]
    fn reads_a_map_by_emotion_name() {
        let p: EmotionProbabilities =
            serde_json::from_str(r#"{"sad": 0.7, "neutral": 0.3, "disgust": 0}"#).unwrap();
        assert_eq!(p.top(), (Emotion::Sad, 0.7));
        assert_eq!(p[Emotion::Neutral], 0.3);
        assert!(serde_json::from_str::<EmotionProbabilities>(r#"{"grumpy": 1}"#).is_err());
        assert!(serde_json::from_str::<EmotionProbabilities>("[0.5]").is_err());
    }

    #[test]
    fn iteration_follows_fer_order() {
        let p = EmotionProbabilities::new([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let names: Vec<(&str, f32)> = p.iter().map(|(e, v)| (e.name(), v)).collect();
        assert_eq!(names[4], ("neutral", 4.0));
        assert_eq!(names.len(), 7);
    }
}
