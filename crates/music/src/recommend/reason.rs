//! Why a song is on a list: one short sentence per song, made from what the
//! search used to choose it (which list or which point on the circumplex,
//! the mode, the listener's likes), so a listener can see the recommender's
//! logic rather than guess at it.

use melodora_core::Emotion;

use crate::circumplex::{nearest_emotion, MoodPoint};

/// What chose a song.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// It is in the emotion's list (imported per-emotion files or an
    /// emotion column), at this position (1 = first).
    Listed {
        /// The list.
        emotion: Emotion,
        /// Its position in the list, from 1.
        position: u32,
    },
    /// Its audio features sit near the target.
    Features {
        /// The song's valence and energy.
        point: MoodPoint,
        /// The emotion whose region holds it.
        near: Emotion,
        /// Whether the point was heard in the song's own audio (a library
        /// song) rather than given by its catalog.
        heard: bool,
    },
}

/// What a listener's likes did for a song.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liking {
    /// Nothing.
    None,
    /// The listener liked this song.
    Liked,
    /// The listener liked a similar song (same artist, or close in valence
    /// and energy).
    LikeALiked,
}

/// Why one song was recommended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reason {
    /// The list or point that chose it.
    pub basis: Basis,
    /// In uplift mode: the mood lifted, and the song's step along the way
    /// (from 1).
    pub uplift: Option<(Emotion, usize, usize)>,
    /// The listener's likes.
    pub liking: Liking,
}

impl Reason {
    /// The basis for a song in `pool` whose point is `point` (`None` for a
    /// song without audio features, ranked by its list `position`).
    pub(crate) fn basis(
        pool: Emotion,
        point: Option<MoodPoint>,
        position: u32,
        heard: bool,
    ) -> Basis {
        match point {
            Some(point) => Basis::Features {
                point,
                near: nearest_emotion(point),
                heard,
            },
            None => Basis::Listed {
                emotion: pool,
                position,
            },
        }
    }

    /// The sentence shown beside the song, e.g. "in your happy list (#3)",
    /// "valence 0.82 / energy 0.71, close to happy", "lifts a sad mood
    /// (uplift mode, step 4 of 15): ...", "...; like a song you liked".
    pub fn text(&self) -> String {
        let basis = match self.basis {
            Basis::Listed { emotion, position } => {
                format!("in your {} list (#{position})", emotion.name())
            }
            Basis::Features {
                point,
                near,
                heard: false,
            } => format!(
                "valence {:.2} / energy {:.2}, close to {}",
                point.valence,
                point.energy,
                near.name()
            ),
            Basis::Features {
                point,
                near,
                heard: true,
            } => heard_text(point, near),
        };
        let mut text = match self.uplift {
            Some((from, step, of)) => format!(
                "lifts a {} mood (uplift mode, step {step} of {of}): {basis}",
                from.name()
            ),
            None => basis,
        };
        match self.liking {
            Liking::None => {}
            Liking::Liked => text.push_str("; you liked it"),
            Liking::LikeALiked => text.push_str("; like a song you liked"),
        }
        text
    }
}

/// How a library song sounds, from the point heard in its audio: "sounds
/// calm and low (valence -0.4, arousal -0.3, from its audio), close to sad".
/// The numbers are the estimate's own scale, -1 to 1 (the store keeps
/// them halved into [0, 1] like Spotify's).
fn heard_text(point: MoodPoint, near: Emotion) -> String {
    let valence = 2.0 * point.valence - 1.0;
    let arousal = 2.0 * point.energy - 1.0;
    let pace = if arousal <= -0.2 {
        "calm"
    } else if arousal >= 0.2 {
        "lively"
    } else {
        "steady"
    };
    let tone = if valence <= -0.2 {
        "low"
    } else if valence >= 0.2 {
        "bright"
    } else {
        "even"
    };
    // Rounded once, so that "-0.0" never shows.
    let shown = |x: f32| {
        let rounded = (x * 10.0).round() / 10.0;
        if rounded == 0.0 {
            0.0
        } else {
            rounded
        }
    };
    format!(
        "sounds {pace} and {tone} (valence {:.1}, arousal {:.1}, from its audio), close to {}",
        shown(valence),
        shown(arousal),
        near.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_reads_as_the_issue_asks() {
        let listed = Reason {
            basis: Reason::basis(Emotion::Happy, None, 3, false),
            uplift: None,
            liking: Liking::None,
        };
        assert_eq!(listed.text(), "in your happy list (#3)");
        let placed = Reason {
            basis: Reason::basis(Emotion::Happy, Some(MoodPoint::new(0.82, 0.71)), 0, false),
            uplift: None,
            liking: Liking::LikeALiked,
        };
        assert_eq!(
            placed.text(),
            "valence 0.82 / energy 0.71, close to happy; like a song you liked"
        );
        let lifted = Reason {
            uplift: Some((Emotion::Sad, 4, 15)),
            liking: Liking::Liked,
            ..placed
        };
        assert_eq!(
            lifted.text(),
            "lifts a sad mood (uplift mode, step 4 of 15): valence 0.82 / energy 0.71, close to happy; you liked it"
        );
    }

    #[test]
    fn a_library_song_says_how_it_sounds_on_the_estimate_scale() {
        // Valence -0.4 and arousal -0.3 are kept as 0.3 and 0.35.
        let heard = Reason {
            basis: Reason::basis(Emotion::Sad, Some(MoodPoint::new(0.3, 0.35)), 0, true),
            uplift: None,
            liking: Liking::None,
        };
        assert_eq!(
            heard.text(),
            "sounds calm and low (valence -0.4, arousal -0.3, from its audio), close to sad"
        );
        let lively = Reason {
            basis: Reason::basis(Emotion::Happy, Some(MoodPoint::new(0.5, 0.9)), 0, true),
            ..heard
        };
        assert_eq!(
            lively.text(),
            "sounds lively and even (valence 0.0, arousal 0.8, from its audio), close to surprise"
        );
    }
}
