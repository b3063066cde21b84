//! One viewer's state: whose face the mood follows, the smoothed mood, the
//! listening session and the list mode.

use melodora_core::{Calibration, Emotion};
use melodora_music::{Mode, Session};
use melodora_vision::{followed, Follow, MoodTracker, StabilityConfig, StableMood};

use crate::engine::FaceReport;

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
    /// The mood the listener set by hand, which holds the list whatever the
    /// camera reads.
    manual: Option<Emotion>,
    /// The profile's personal calibration, applied to the frames this
    /// server analyses for the viewer.
    pub calibration: Option<Calibration>,
}

impl Viewer {
    /// A viewer listening as `profile` (whose likes, skips and calibration count).
    pub fn new(stability: StabilityConfig, follow: Follow, profile: &str, seed: u64) -> Self {
        Viewer {
            tracker: MoodTracker::new(stability),
            session: Session::new(profile, seed),
            mode: Mode::Match,
            follow,
            list_owed: false,
            reported: None,
            manual: None,
            calibration: None,
        }
    }

    /// Feeds one frame's faces; returns the stable mood and whether it
    /// changed with this frame.
    pub fn observe(&mut self, faces: &[FaceReport], now_ms: u64) -> (Option<StableMood>, bool) {
        self.reported = None;
        let probabilities = followed(faces, self.follow, |f| (f.face_box(), f.ordered));
        let update = self.tracker.update(now_ms, probabilities.as_ref());
        (update.stable, update.changed)
    }

    /// Takes the stable mood a page found on its own (on-device mode).
    pub fn report(&mut self, mood: StableMood) {
        self.reported = Some(mood);
    }

    /// Sets the mood by hand, or (`None`) follows the camera again.
    pub fn set_manual(&mut self, emotion: Option<Emotion>) {
        self.manual = emotion;
    }

    /// Whether the listener set the mood by hand.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// The mood the list follows: the one set by hand (confidence 1), else
    /// the camera's ([`Viewer::camera_mood`]).
    pub fn mood(&self) -> Option<StableMood> {
        match self.manual {
            Some(emotion) => Some(StableMood {
                emotion,
                confidence: 1.0,
            }),
            None => self.camera_mood(),
        }
    }

    /// The camera's stable mood: the one the page reported, else the one
    /// the server's analysis of the frames found.
    pub fn camera_mood(&self) -> Option<StableMood> {
        self.reported.or_else(|| self.tracker.stable())
    }
}
