use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The seven basic emotions of the FER2013 data set, in FER's label order.
///
/// The Python original named some of them differently (its song files are
/// `disgusted.csv`, `fearful.csv`, `surprised.csv`); [`Emotion::from_str`]
/// accepts both vocabularies so that files and URLs from either world work.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emotion {
    /// FER class 0 (the original's `angry`).
    Angry,
    /// FER class 1 (the original's `disgusted`).
    Disgust,
    /// FER class 2 (the original's `fearful`).
    Fear,
    /// FER class 3 (the original's `happy`).
    Happy,
    /// FER class 4 (the original's `neutral`).
    Neutral,
    /// FER class 5 (the original's `sad`).
    Sad,
    /// FER class 6 (the original's `surprised`).
    Surprise,
}

/// Error for a word that names none of the seven emotions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown emotion {0:?}; expected one of angry, disgust, fear, happy, neutral, sad, surprise"
)]
pub struct UnknownEmotion(pub String);

impl Emotion {
    /// All emotions in FER2013 label order (the order of its class indices).
    pub const ALL: [Emotion; 7] = [
        Emotion::Angry,
        Emotion::Disgust,
        Emotion::Fear,
        Emotion::Happy,
        Emotion::Neutral,
        Emotion::Sad,
        Emotion::Surprise,
    ];

    /// Canonical lowercase name, as used in FER2013 folder names and our JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Emotion::Angry => "angry",
            Emotion::Disgust => "disgust",
            Emotion::Fear => "fear",
            Emotion::Happy => "happy",
            Emotion::Neutral => "neutral",
            Emotion::Sad => "sad",
            Emotion::Surprise => "surprise",
        }
    }

    /// The adjective the Python original used for its song files
    /// (`disgusted`, `fearful`, `surprised`; the others are unchanged).
    pub const fn original_name(self) -> &'static str {
        match self {
            Emotion::Disgust => "disgusted",
            Emotion::Fear => "fearful",
            Emotion::Surprise => "surprised",
            other => other.name(),
        }
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Emotion {
    type Err = UnknownEmotion;

    /// Parses canonical names and the original's adjectives, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim().to_ascii_lowercase();
        Emotion::ALL
            .into_iter()
            .find(|e| e.name() == word || e.original_name() == word)
            .ok_or_else(|| UnknownEmotion(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fer_and_original_names() {
        for e in Emotion::ALL {
            assert_eq!(e.name().parse::<Emotion>().unwrap(), e);
            assert_eq!(e.original_name().parse::<Emotion>().unwrap(), e);
        }
        assert_eq!(
            "  Surprised ".parse::<Emotion>().unwrap(),
            Emotion::Surprise
        );
    }

    #[test]
    fn rejects_unknown_words() {
        let err = "bored".parse::<Emotion>().unwrap_err();
        assert!(err.to_string().contains("bored"));
        assert!("".parse::<Emotion>().is_err());
    }

    #[test]
    fn serialises_as_lowercase_name() {
        assert_eq!(serde_json::to_string(&Emotion::Happy).unwrap(), "\"happy\"");
    }
}
