//! One viewer's state: how it reads the live stream (`LiveAnalysis`:
//! calibration, whose face the mood follows, the stable mood), the mood a
//! page reported or the listener set by hand, the listening session and
//! the list mode.

use melodora_core::{Calibration, Emotion};
use melodora_music::{Mode, Session, Source};
use melodora_vision::{AnalysisSettings, FaceReport, LiveAnalysis, Observation, StableMood};

/// Per-connection state.
pub struct Viewer {
    live: LiveAnalysis,
    pub session: Session,
    pub mode: Mode,
    /// Which songs lists hold.
    pub from: Source,
    /// The mood changed but no list could be made for it: the next frame
    /// tries again rather than leave the page on the old mood's list.
    pub list_owed: bool,
    /// The mood a page analysing its own camera last reported; cleared by
    /// the next frame the server analyses itself.
    reported: Option<StableMood>,
    /// The mood the listener set by hand, which holds the list whatever the
    /// camera reads.
    manual: Option<Emotion>,
}

impl Viewer {
    /// A viewer listening as `profile` (whose likes, skips and calibration
    /// count), reading frames under `settings` (the server tracks faces per
    /// stream itself, so the viewer's settings need no tracking).
    pub fn new(settings: AnalysisSettings, profile: &str, seed: u64) -> Self {
        Viewer {
            live: LiveAnalysis::new(settings),
            session: Session::new(profile, seed),
            mode: Mode::Match,
            from: Source::All,
            list_owed: false,
            reported: None,
            manual: None,
        }
    }

    /// Feeds one frame's faces: read through the profile's calibration,
    /// into the stable mood.
    pub fn observe(&mut self, faces: &[FaceReport], now_ms: u64) -> Observation {
        self.reported = None;
        self.live.observe(faces, now_ms)
    }

    /// The profile's personal calibration in use.
    pub fn calibration(&self) -> Option<Calibration> {
        self.live.calibration().copied()
    }

    /// Reads later frames through `calibration` (none: uncorrected).
    pub fn use_calibration(&mut self, calibration: Option<Calibration>) {
        self.live.use_calibration(calibration);
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
        self.reported.or_else(|| self.live.mood())
    }
}
