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
    pub(crate) fn basis(pool: Emotion, point: Option<MoodPoint>, position: u32) -> Basis {
        match point {
            Some(point) => Basis::Features {
                point,
                near: nearest_emotion(point),
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
            Basis::Features { point, near } => format!(
                "valence {:.2} / energy {:.2}, close to {}",
                point.valence,
                point.energy,
                near.name()
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_reads_as_the_issue_asks() {
        let listed = Reason {
            basis: Reason::basis(Emotion::Happy, None, 3),
            uplift: None,
            liking: Liking::None,
        };
        assert_eq!(listed.text(), "in your happy list (#3)");
        let placed = Reason {
            basis: Reason::basis(Emotion::Happy, Some(MoodPoint::new(0.82, 0.71)), 0),
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
}
