//! Whose face the mood follows when a frame has several: one rule for the
//! server's viewers and the browser's analyzer, so both modes pick alike.

use melodora_core::{largest_face, EmotionProbabilities, FaceBox};
use serde::{Deserialize, Serialize};

/// Which face (or faces) the mood follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Follow {
    /// The largest face: usually the person at the screen.
    #[default]
    LargestFace,
    /// The mood most faces share (a group in front of one screen).
    Group,
}

/// The probabilities the mood follows in a frame of `faces` (each seen as
/// its box and probabilities through `face`); `None` without faces.
pub fn followed<T>(
    faces: &[T],
    follow: Follow,
    face: impl Fn(&T) -> (FaceBox, EmotionProbabilities),
) -> Option<EmotionProbabilities> {
    match follow {
        Follow::LargestFace => largest_face(faces, |f| face(f).0).map(|f| face(f).1),
        Follow::Group => {
            // The emotion most faces show (ties: the larger total area),
            // then the mean probabilities of the faces showing it.
            let mut votes = [(0usize, 0i64); 7];
            for (area, emotion) in faces.iter().map(|f| {
                let (b, p) = face(f);
                (b.area(), p.top().0)
            }) {
                let vote = &mut votes[emotion as usize];
                vote.0 += 1;
                vote.1 += area;
            }
            let (winner, _) = votes
                .iter()
                .enumerate()
                .filter(|(_, v)| v.0 > 0)
                .max_by_key(|(_, v)| **v)?;
            let chosen: Vec<EmotionProbabilities> = faces
                .iter()
                .map(|f| face(f).1)
                .filter(|p| p.top().0 as usize == winner)
                .collect();
            let mut mean = [0.0f32; 7];
            for probabilities in &chosen {
                for (m, p) in mean.iter_mut().zip(probabilities.as_array()) {
                    *m += p / chosen.len() as f32;
                }
            }
            Some(mean.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use melodora_core::Emotion;

    use super::*;

    fn face(side: i32, emotion: Emotion) -> (FaceBox, EmotionProbabilities) {
        let mut probabilities = [0.05f32; 7];
        probabilities[emotion as usize] = 0.7;
        (FaceBox::new(0, 0, side, side), probabilities.into())
    }

    fn top(faces: &[(FaceBox, EmotionProbabilities)], follow: Follow) -> Emotion {
        followed(faces, follow, |f| *f).unwrap().top().0
    }

    #[test]
    fn the_largest_face_leads_by_default() {
        let faces = [
            face(50, Emotion::Sad),
            face(120, Emotion::Happy),
            face(60, Emotion::Sad),
        ];
        assert_eq!(top(&faces, Follow::default()), Emotion::Happy);
    }

    #[test]
    fn a_group_follows_the_mood_most_faces_share() {
        let faces = [
            face(50, Emotion::Sad),
            face(120, Emotion::Happy),
            face(60, Emotion::Sad),
        ];
        assert_eq!(top(&faces, Follow::Group), Emotion::Sad);
        // A tie goes to the larger faces.
        let tie = [face(50, Emotion::Sad), face(120, Emotion::Happy)];
        assert_eq!(top(&tie, Follow::Group), Emotion::Happy);
    }

    #[test]
    fn no_faces_follow_nothing() {
        let none: [(FaceBox, EmotionProbabilities); 0] = [];
        assert!(followed(&none, Follow::LargestFace, |f| *f).is_none());
        assert!(followed(&none, Follow::Group, |f| *f).is_none());
    }
}
