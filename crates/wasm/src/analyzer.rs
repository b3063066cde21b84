//! The frame analyzer: detector, classifier, tracker and mood tracker on
//! RGBA frames, answering with the server's frame JSON.

use melodora_core::{
    rgb_to_gray, Calibration, Emotion, EmotionProbabilities, ErrorChain, GrayImage,
};
use melodora_vision::pipeline::{AnalyzedFace, FrameAnalyzer};
use melodora_vision::tracking::{FaceTracker, Scan, TrackingConfig};
use melodora_vision::{
    followed, AnalysisSettings, Cascade, DetectParams, EmotionClassifier, HaarDetector,
    ModelDescription, MoodTracker, StableMood,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Most faces classified per frame, as in server mode.
pub const MAX_FACES_PER_FRAME: usize = 32;

/// Largest frame side accepted: a camera frame is a few thousand pixels
/// wide at most; more is a mistake, refused before any allocation.
pub const MAX_FRAME_SIDE: u32 = 8192;

/// One face, as the page draws it (the server's `FaceReport` fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceJson {
    /// Left edge of the face box, in frame pixels.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
    /// The most probable emotion.
    pub emotion: Emotion,
    /// Its probability.
    pub confidence: f32,
    /// Probability of each of the seven emotions, by name.
    pub probabilities: std::collections::BTreeMap<&'static str, f32>,
}

/// What one frame produced, as JSON for the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameJson {
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Faces with their emotions, in the detector's order.
    pub faces: Vec<FaceJson>,
    /// `"full"` (the whole frame scanned) or `"tracked"` (near known faces).
    pub scan: &'static str,
    /// The stable mood after this frame, if one has been established.
    pub mood: Option<StableMood>,
    /// Whether this frame changed the stable mood (the page then tells the
    /// server).
    pub mood_changed: bool,
}

/// The in-page analyzer: detector, classifier, tracker and mood tracker.
#[wasm_bindgen]
pub struct Analyzer {
    analyzer: FrameAnalyzer,
    tracker: Option<FaceTracker>,
    mood: MoodTracker,
    settings: AnalysisSettings,
    /// This person's correction of the classifier, if they calibrated.
    calibration: Option<Calibration>,
}

#[wasm_bindgen]
impl Analyzer {
    /// Loads the OpenCV cascade (XML text) and the ONNX model (bytes; its
    /// embedded description is used unless `description_json` is given),
    /// with `melodora serve`'s defaults: scale factor 1.1, 5 neighbours,
    /// tracking on, mood smoothing with a 250 ms half-life and 700 ms dwell.
    #[wasm_bindgen(constructor)]
    pub fn new(
        cascade_xml: &str,
        model: &[u8],
        description_json: Option<String>,
    ) -> Result<Analyzer, JsError> {
        Analyzer::load(cascade_xml, model, description_json.as_deref()).map_err(|e| js_error(&*e))
    }

    /// Turns tracking on (faces searched near where they were, a full scan
    /// every 15 frames unless [`Analyzer::configure`] said otherwise) or off
    /// (every frame scanned whole).
    #[wasm_bindgen(js_name = setTracking)]
    pub fn set_tracking(&mut self, on: bool) {
        self.settings.full_scan_every = on.then(|| {
            self.settings
                .full_scan_every
                .unwrap_or(TrackingConfig::default().full_scan_interval)
        });
        self.tracker = self.settings.tracking().map(FaceTracker::new);
    }

    /// Takes a server's analysis settings (the `analysis` of its `hello`,
    /// as JSON): whose face the mood follows, smoothing, dwell and
    /// tracking, as `melodora serve` was started with. Forgets the faces
    /// and the mood so far.
    pub fn configure(&mut self, settings_json: &str) -> Result<(), JsError> {
        let settings: AnalysisSettings = serde_json::from_str(settings_json)
            .map_err(|e| JsError::new(&format!("analysis settings: {e}")))?;
        self.apply(settings);
        Ok(())
    }

    /// Forgets the faces being tracked and the mood (a new camera, say).
    pub fn reset(&mut self) {
        self.apply(self.settings);
    }

    /// Analyses a still image (RGBA, as [`Analyzer::analyze_rgba`] takes a
    /// frame) on its own, leaving the camera's tracked faces and mood as
    /// they are; answers a [`FrameJson`] whose `mood` is `null`.
    #[wasm_bindgen(js_name = analyzeImageRgba)]
    pub fn analyze_image_rgba(
        &self,
        width: u32,
        height: u32,
        rgba: &[u8],
    ) -> Result<String, JsError> {
        let image = gray_from_rgba(width, height, rgba).map_err(|e| JsError::new(&e))?;
        let json = self.analyze_image(&image).map_err(|e| js_error(&*e))?;
        serde_json::to_string(&json).map_err(|e| js_error(&e))
    }

    /// Calibrates on readings of a resting face (JSON: an array of the
    /// `probabilities` maps of uncalibrated frames, one face each) and
    /// corrects every later frame by it; answers the calibration as JSON
    /// (a map of offsets by emotion, for the page to keep). Refused, and
    /// the old calibration kept, when the readings are too few or invalid.
    pub fn calibrate(&mut self, readings_json: &str) -> Result<String, JsError> {
        let readings: Vec<EmotionProbabilities> = serde_json::from_str(readings_json)
            .map_err(|e| JsError::new(&format!("resting readings: {e}")))?;
        let calibration = Calibration::from_resting(&readings).map_err(|e| js_error(&e))?;
        self.use_calibration(Some(calibration));
        serde_json::to_string(&calibration).map_err(|e| js_error(&e))
    }

    /// Uses a calibration made before (the JSON [`Analyzer::calibrate`]
    /// answered), or none (`undefined`): frames are then read uncorrected.
    #[wasm_bindgen(js_name = setCalibration)]
    pub fn set_calibration(&mut self, calibration_json: Option<String>) -> Result<(), JsError> {
        let calibration = calibration_json
            .map(|json| serde_json::from_str::<Calibration>(&json))
            .transpose()
            .map_err(|e| JsError::new(&format!("calibration: {e}")))?;
        self.use_calibration(calibration);
        Ok(())
    }

    /// Analyses one RGBA frame (`width * height * 4` bytes, as `ImageData`
    /// holds it) taken at `now_ms` (the page's clock, milliseconds) and
    /// answers with a [`FrameJson`] as JSON text.
    #[wasm_bindgen(js_name = analyzeRgba)]
    pub fn analyze_rgba(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        now_ms: f64,
    ) -> Result<String, JsError> {
        let frame = gray_from_rgba(width, height, rgba).map_err(|e| JsError::new(&e))?;
        let json = self.analyze(&frame, now_ms).map_err(|e| js_error(&*e))?;
        serde_json::to_string(&json).map_err(|e| js_error(&e))
    }
}

impl Analyzer {
    /// [`Analyzer::new`] with Rust errors.
    pub fn load(
        cascade_xml: &str,
        model: &[u8],
        description_json: Option<&str>,
    ) -> Result<Analyzer, Box<dyn std::error::Error>> {
        let cascade = Cascade::from_xml(cascade_xml)?;
        let detector = HaarDetector::new(cascade).with_threads(1)?;
        let description = description_json
            .map(ModelDescription::from_json)
            .transpose()?;
        let classifier = EmotionClassifier::from_onnx_bytes(model, description)?;
        let mut analyzer = FrameAnalyzer::new(detector, DetectParams::default(), Some(classifier));
        analyzer.max_faces = MAX_FACES_PER_FRAME;
        let settings = AnalysisSettings::default();
        Ok(Analyzer {
            analyzer,
            tracker: settings.tracking().map(FaceTracker::new),
            mood: MoodTracker::new(settings.stability()),
            settings,
            calibration: None,
        })
    }

    /// Corrects later frames by `calibration` (none: uncorrected).
    pub fn use_calibration(&mut self, calibration: Option<Calibration>) {
        self.calibration = calibration;
    }

    /// Starts afresh under `settings`.
    pub fn apply(&mut self, settings: AnalysisSettings) {
        self.settings = settings;
        self.tracker = settings.tracking().map(FaceTracker::new);
        self.mood = MoodTracker::new(settings.stability());
    }

    /// Analyses a gray frame taken at `now_ms`; the mood follows the face
    /// the settings say (the largest by default), as in server mode.
    pub fn analyze(
        &mut self,
        frame: &GrayImage,
        now_ms: f64,
    ) -> Result<FrameJson, Box<dyn std::error::Error>> {
        let (faces, scan) = self.analyzer.find_faces(frame, self.tracker.as_mut())?;
        let faces = self.classify(frame, faces)?;
        let classified: Vec<_> = faces
            .iter()
            .filter_map(|f| Some((f.face, f.probabilities?)))
            .collect();
        let mood_follows = followed(&classified, self.settings.follow, |f| *f);
        let update = self
            .mood
            .update(now_ms.max(0.0) as u64, mood_follows.as_ref());
        Ok(FrameJson {
            width: frame.width(),
            height: frame.height(),
            faces: faces.iter().filter_map(face_json).collect(),
            scan: match scan {
                Scan::Full => "full",
                Scan::Tracked => "tracked",
            },
            mood: update.stable,
            mood_changed: update.changed,
        })
    }
}

impl Analyzer {
    /// Analyses a still image (a photo): the whole image is scanned, and
    /// neither the tracked faces nor the mood of the camera's stream are
    /// touched; `mood` is always `None`.
    pub fn analyze_image(
        &self,
        image: &GrayImage,
    ) -> Result<FrameJson, Box<dyn std::error::Error>> {
        let (faces, _) = self.analyzer.find_faces(image, None)?;
        let faces = self.classify(image, faces)?;
        Ok(FrameJson {
            width: image.width(),
            height: image.height(),
            faces: faces.iter().filter_map(face_json).collect(),
            scan: "full",
            mood: None,
            mood_changed: false,
        })
    }

    /// Classifies the faces found, read through the calibration if any.
    fn classify(
        &self,
        frame: &GrayImage,
        faces: Vec<melodora_core::FaceBox>,
    ) -> Result<Vec<AnalyzedFace>, Box<dyn std::error::Error>> {
        let mut faces = self.analyzer.classify(frame, faces)?;
        if let Some(calibration) = &self.calibration {
            for face in &mut faces {
                face.probabilities = face.probabilities.map(|p| calibration.apply(&p));
            }
        }
        Ok(faces)
    }
}

fn face_json(face: &AnalyzedFace) -> Option<FaceJson> {
    let p: EmotionProbabilities = face.probabilities?;
    let (emotion, confidence) = p.top();
    Some(FaceJson {
        x: face.face.x,
        y: face.face.y,
        w: face.face.w,
        h: face.face.h,
        emotion,
        confidence,
        probabilities: p.iter().map(|(e, v)| (e.name(), v)).collect(),
    })
}

/// OpenCV's gray conversion of an RGBA frame (alpha ignored, as `imread`
/// ignores it), after checking its size.
pub fn gray_from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<GrayImage, String> {
    if width == 0 || height == 0 || width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE {
        return Err(format!(
            "a frame of {width}x{height} pixels; expected 1 to {MAX_FRAME_SIDE} on each side"
        ));
    }
    let (w, h) = (width as usize, height as usize);
    if rgba.len() != w * h * 4 {
        return Err(format!(
            "{} bytes for a {width}x{height} RGBA frame; expected {}",
            rgba.len(),
            w * h * 4
        ));
    }
    let pixels = rgba
        .chunks_exact(4)
        .map(|p| rgb_to_gray(p[0], p[1], p[2]))
        .collect();
    Ok(GrayImage::from_pixels(w, h, pixels).expect("w * h pixels"))
}

/// A JavaScript `Error` whose message is the whole chain of causes.
fn js_error(error: &dyn std::error::Error) -> JsError {
    JsError::new(&ErrorChain(error).to_string())
}
