//! A live stream as one viewer reads it: the faces of each frame as pages
//! draw them ([`FaceReport`]), read through the viewer's calibration, the
//! rule for whose face the mood follows, the stable mood, and (for a
//! stream the viewer analyses itself) the face tracker. One type for the
//! server's viewers and the browser's analyzer, so that both read a face
//! and a mood the same way and answer with the same JSON.

use std::collections::BTreeMap;

use melodora_core::{Calibration, Emotion, EmotionProbabilities, FaceBox, GrayImage};
use serde::Serialize;

use crate::follow::followed;
use crate::pipeline::{AnalyzeError, AnalyzedFace, FrameAnalyzer};
use crate::settings::AnalysisSettings;
use crate::stability::{MoodTracker, StableMood};
use crate::tracking::{FaceTracker, Scan};

/// Most faces classified in one frame, the largest ones: a webcam sees a
/// few people, and a frame tiled with thousands of faces must not hold the
/// CPU for seconds (the others are not reported). The server and the
/// browser use this one limit.
pub const MAX_FACES_PER_FRAME: usize = 32;

/// A face with its emotion, as sent to pages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaceReport {
    /// Left edge of the face box, in frame pixels.
    pub x: i32,
    /// Top edge of the face box.
    pub y: i32,
    /// Width of the face box.
    pub w: i32,
    /// Height of the face box.
    pub h: i32,
    /// The most probable emotion.
    pub emotion: Emotion,
    /// Its probability.
    pub confidence: f32,
    /// Probability of each of the seven emotions, by name.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, f32>))]
    pub probabilities: BTreeMap<&'static str, f32>,
    /// The same probabilities, for the mood tracker.
    #[serde(skip)]
    pub ordered: EmotionProbabilities,
}

impl FaceReport {
    /// The report of `face` read as `probabilities`.
    pub fn new(face: FaceBox, probabilities: EmotionProbabilities) -> FaceReport {
        let (emotion, confidence) = probabilities.top();
        FaceReport {
            x: face.x,
            y: face.y,
            w: face.w,
            h: face.h,
            emotion,
            confidence,
            probabilities: probabilities.iter().map(|(e, p)| (e.name(), p)).collect(),
            ordered: probabilities,
        }
    }

    /// The report of an analysed face; `None` if it was not classified.
    pub fn of(face: &AnalyzedFace) -> Option<FaceReport> {
        Some(FaceReport::new(face.face, face.probabilities?))
    }

    /// The face box.
    pub fn face_box(&self) -> FaceBox {
        FaceBox::new(self.x, self.y, self.w, self.h)
    }

    /// The same face read through a listener's calibration.
    pub fn calibrated(&self, calibration: &Calibration) -> FaceReport {
        FaceReport::new(self.face_box(), calibration.apply(&self.ordered))
    }
}

/// One frame as a viewer read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameReport {
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Faces with their emotions (through the viewer's calibration), in
    /// the detector's order.
    pub faces: Vec<FaceReport>,
    /// `"full"` (the whole frame scanned) or `"tracked"` (near known faces).
    pub scan: &'static str,
    /// The stable mood after this frame, if one has been established.
    pub mood: Option<StableMood>,
    /// Whether this frame changed the stable mood.
    pub mood_changed: bool,
}

/// What one frame's faces did to a viewer's mood.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The faces, read through the viewer's calibration.
    pub faces: Vec<FaceReport>,
    /// The stable mood after the frame.
    pub mood: Option<StableMood>,
    /// Whether the frame changed it.
    pub changed: bool,
}

/// One viewer of a live stream: calibration, whose face the mood follows,
/// the mood tracker and, for a stream the viewer analyses itself, the face
/// tracker.
#[derive(Debug)]
pub struct LiveAnalysis {
    settings: AnalysisSettings,
    tracker: Option<FaceTracker>,
    mood: MoodTracker,
    calibration: Option<Calibration>,
}

impl LiveAnalysis {
    /// A viewer under `settings` (stability, follow rule, tracking).
    pub fn new(settings: AnalysisSettings) -> LiveAnalysis {
        LiveAnalysis {
            settings,
            tracker: settings.tracking().map(FaceTracker::new),
            mood: MoodTracker::new(settings.stability()),
            calibration: None,
        }
    }

    /// Starts afresh under `settings`; the calibration stays.
    pub fn apply(&mut self, settings: AnalysisSettings) {
        let calibration = self.calibration.take();
        *self = LiveAnalysis::new(settings);
        self.calibration = calibration;
    }

    /// The settings in force.
    pub fn settings(&self) -> AnalysisSettings {
        self.settings
    }

    /// Reads later frames through `calibration` (none: uncorrected).
    pub fn use_calibration(&mut self, calibration: Option<Calibration>) {
        self.calibration = calibration;
    }

    /// The calibration in use.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// The stable mood, if one has been established.
    pub fn mood(&self) -> Option<StableMood> {
        self.mood.stable()
    }

    /// Reads one frame's faces, found elsewhere (the server's own camera,
    /// shared by its viewers), at `now_ms`: through the calibration, then
    /// into the mood of the face the settings follow.
    pub fn observe(&mut self, faces: &[FaceReport], now_ms: u64) -> Observation {
        let faces: Vec<FaceReport> = match &self.calibration {
            Some(calibration) => faces.iter().map(|f| f.calibrated(calibration)).collect(),
            None => faces.to_vec(),
        };
        let follows = followed(&faces, self.settings.follow, |f| (f.face_box(), f.ordered));
        let update = self.mood.update(now_ms, follows.as_ref());
        Observation {
            faces,
            mood: update.stable,
            changed: update.changed,
        }
    }

    /// Analyses a frame of the viewer's own stream with `analyzer`, at
    /// `now_ms`: faces searched near where they were (when tracking), then
    /// read as [`LiveAnalysis::observe`] reads them.
    pub fn analyze(
        &mut self,
        analyzer: &FrameAnalyzer,
        frame: &GrayImage,
        now_ms: u64,
    ) -> Result<FrameReport, AnalyzeError> {
        let (faces, scan) = analyzer.find_faces(frame, self.tracker.as_mut())?;
        let faces: Vec<FaceReport> = analyzer
            .classify(frame, faces)?
            .iter()
            .filter_map(FaceReport::of)
            .collect();
        let seen = self.observe(&faces, now_ms);
        Ok(FrameReport {
            width: frame.width(),
            height: frame.height(),
            faces: seen.faces,
            scan: match scan {
                Scan::Full => "full",
                Scan::Tracked => "tracked",
            },
            mood: seen.mood,
            mood_changed: seen.changed,
        })
    }

    /// Analyses a still image (a photo) with `analyzer`: the whole image
    /// is scanned and read through the calibration; neither the tracked
    /// faces nor the mood of the stream are touched (`mood` is `None`).
    pub fn analyze_still(
        &self,
        analyzer: &FrameAnalyzer,
        image: &GrayImage,
    ) -> Result<FrameReport, AnalyzeError> {
        let (faces, _) = analyzer.find_faces(image, None)?;
        let faces = analyzer
            .classify(image, faces)?
            .iter()
            .filter_map(FaceReport::of)
            .map(|face| match &self.calibration {
                Some(calibration) => face.calibrated(calibration),
                None => face,
            })
            .collect();
        Ok(FrameReport {
            width: image.width(),
            height: image.height(),
            faces,
            scan: "full",
            mood: None,
            mood_changed: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Index of `emotion` in the model's order.
    fn at(emotion: Emotion) -> usize {
        Emotion::ALL.iter().position(|&e| e == emotion).unwrap()
    }

    fn sad_face(x: i32, w: i32) -> FaceReport {
        let mut p = [0.05f32; 7];
        p[at(Emotion::Sad)] = 0.7;
        FaceReport::new(FaceBox::new(x, 0, w, w), EmotionProbabilities::new(p))
    }

    #[test]
    fn the_report_carries_the_top_emotion_and_every_probability_by_name() {
        let face = sad_face(3, 40);
        assert_eq!(face.emotion, Emotion::Sad);
        assert!((face.confidence - 0.7).abs() < 1e-6);
        assert_eq!(face.probabilities.len(), 7);
        let json = serde_json::to_value(&face).unwrap();
        assert_eq!(json["emotion"], "sad");
        assert!(json.get("ordered").is_none(), "{json}");
        assert_eq!(face.face_box(), FaceBox::new(3, 0, 40, 40));
    }

    #[test]
    fn a_calibration_reads_every_face_and_the_mood_follows_the_largest() {
        let settings = AnalysisSettings::default();
        let mut live = LiveAnalysis::new(settings);
        let faces = [sad_face(0, 20), sad_face(100, 60)];
        let plain = live.observe(&faces, 0);
        assert_eq!(plain.faces, faces.to_vec());
        // A calibration that strongly lowers sad reads the faces otherwise.
        let mut offsets = [0.0f32; 7];
        offsets[at(Emotion::Sad)] = -4.0;
        let calibration = Calibration::from_offsets(offsets).unwrap();
        live.use_calibration(Some(calibration));
        let seen = live.observe(&faces, 10);
        assert_ne!(seen.faces[1].emotion, Emotion::Sad, "{:?}", seen.faces[1]);
        assert_eq!(seen.faces[1], faces[1].calibrated(&calibration));
        // New settings start the mood afresh but keep the calibration.
        live.apply(settings);
        assert!(live.mood().is_none());
        assert!(live.calibration().is_some());
    }
}
