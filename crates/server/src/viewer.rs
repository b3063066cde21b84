//! One viewer's state: whose face the mood follows, the smoothed mood, the
//! listening session and the list mode.

use melodora_core::{largest_face, EmotionProbabilities};
use melodora_music::{Mode, Session};
use melodora_vision::{MoodTracker, StabilityConfig, StableMood};

use crate::engine::FaceReport;

/// Which face (or faces) the playlist follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Follow {
    /// The largest face: usually the person at the screen.
    #[default]
    LargestFace,
    /// The mood most faces share (a group in front of one screen).
    Group,
}

/// Per-connection state.
pub struct Viewer {
    tracker: MoodTracker,
    pub session: Session,
    pub mode: Mode,
    follow: Follow,
    /// The mood changed but no list could be made for it: the next frame
    /// tries again rather than leave the page on the old mood's list.
    pub list_owed: bool,
    /// The mood a page analysing its own camera last reported; cleared by
    /// the next frame the server analyses itself.
    reported: Option<StableMood>,
}

impl Viewer {
    pub fn new(stability: StabilityConfig, follow: Follow, seed: u64) -> Self {
        Viewer {
            tracker: MoodTracker::new(stability),
            session: Session::new("default", seed),
            mode: Mode::Match,
            follow,
            list_owed: false,
            reported: None,
        }
    }

    /// Feeds one frame's faces; returns the stable mood and whether it
    /// changed with this frame.
    pub fn observe(&mut self, faces: &[FaceReport], now_ms: u64) -> (Option<StableMood>, bool) {
        self.reported = None;
        let probabilities = followed(faces, self.follow);
        let update = self.tracker.update(now_ms, probabilities.as_ref());
        (update.stable, update.changed)
    }

    /// Takes the stable mood a page found on its own (on-device mode).
    pub fn report(&mut self, mood: StableMood) {
        self.reported = Some(mood);
    }

    /// The current stable mood: the one the page reported, else the one
    /// the server's analysis of the frames found.
    pub fn mood(&self) -> Option<StableMood> {
        self.reported.or_else(|| self.tracker.stable())
    }
}

/// The probabilities the mood follows in a frame, if it has faces.
pub fn followed(faces: &[FaceReport], follow: Follow) -> Option<EmotionProbabilities> {
    match follow {
        Follow::LargestFace => largest_face(faces, |f| f.face_box()).map(|f| f.ordered),
        Follow::Group => {
            // The emotion most faces show (ties: the larger total area),
            // then the mean probabilities of the faces showing it.
            let mut votes = [(0usize, 0i64); 7];
            for face in faces {
                let vote = &mut votes[face.emotion as usize];
                vote.0 += 1;
                vote.1 += face.face_box().area();
            }
            let (winner, _) = votes
                .iter()
                .enumerate()
                .filter(|(_, v)| v.0 > 0)
                .max_by_key(|(_, v)| **v)?;
            let chosen: Vec<&FaceReport> = faces
                .iter()
                .filter(|f| f.emotion as usize == winner)
                .collect();
            let mut mean = [0.0f32; 7];
            for face in &chosen {
                for (m, p) in mean.iter_mut().zip(face.ordered.as_array()) {
                    *m += p / chosen.len() as f32;
                }
            }
            Some(mean.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use melodora_core::{Emotion, FaceBox};

    use super::*;

    fn face(side: i32, emotion: Emotion) -> FaceReport {
        let mut probabilities = [0.05f32; 7];
        probabilities[emotion as usize] = 0.7;
        FaceReport::new(
            FaceBox {
                x: 0,
                y: 0,
                w: side,
                h: side,
            },
            probabilities.into(),
        )
    }

    fn top(probabilities: EmotionProbabilities) -> Emotion {
        probabilities.top().0
    }

    #[test]
    fn the_largest_face_leads_by_default() {
        let faces = [
            face(50, Emotion::Sad),
            face(120, Emotion::Happy),
            face(60, Emotion::Sad),
        ];
        assert_eq!(
            top(followed(&faces, Follow::LargestFace).unwrap()),
            Emotion::Happy
        );
    }

    #[test]
    fn a_group_follows_the_mood_most_faces_share() {
        let faces = [
            face(50, Emotion::Sad),
            face(120, Emotion::Happy),
            face(60, Emotion::Sad),
        ];
        assert_eq!(top(followed(&faces, Follow::Group).unwrap()), Emotion::Sad);
        // A tie goes to the larger faces.
        let tie = [face(50, Emotion::Sad), face(120, Emotion::Happy)];
        assert_eq!(top(followed(&tie, Follow::Group).unwrap()), Emotion::Happy);
    }

    #[test]
    fn no_faces_follow_nothing() {
        assert!(followed(&[], Follow::LargestFace).is_none());
        assert!(followed(&[], Follow::Group).is_none());
    }
}
