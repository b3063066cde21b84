//! The frame analyzer: detector, classifier, tracker and mood tracker on
//! RGBA frames, answering with `vision::live`'s frame report as JSON (the
//! server's viewers read frames through the same `LiveAnalysis`).

use melodora_core::{rgb_to_gray, Calibration, EmotionProbabilities, ErrorChain, GrayImage};
use melodora_vision::pipeline::{AnalyzeError, FrameAnalyzer};
use melodora_vision::tracking::TrackingConfig;
use melodora_vision::{
    AnalysisSettings, BlazeFace, Cascade, DetectParams, DetectorChoice, EmotionClassifier,
    FaceFinder, FrameReport, HaarDetector, LiveAnalysis, ModelDescription, MAX_FACES_PER_FRAME,
};
use wasm_bindgen::prelude::*;

/// Largest frame side accepted: a camera frame is a few thousand pixels
/// wide at most; more is a mistake, refused before any allocation.
pub const MAX_FRAME_SIDE: u32 = 8192;

/// The in-page analyzer: detector, classifier, tracker and mood tracker.
#[wasm_bindgen]
pub struct Analyzer {
    analyzer: FrameAnalyzer,
    /// The cascade, kept for going back to Haar after BlazeFace.
    haar: FaceFinder,
    /// The stream as this page reads it: tracked faces, calibration, whose
    /// face the mood follows, the mood (the server's viewers read theirs
    /// the same way).
    live: LiveAnalysis,
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
        let mut settings = self.live.settings();
        settings.full_scan_every = on.then(|| {
            settings
                .full_scan_every
                .unwrap_or(TrackingConfig::default().full_scan_interval)
        });
        self.live.apply(settings);
    }

    /// Takes a server's analysis settings (the `analysis` of its `hello`,
    /// as JSON): whose face the mood follows, smoothing, dwell and
    /// tracking, as `melodora serve` was started with. Forgets the faces
    /// and the mood so far. Refused when the settings name a detector
    /// other than the one in use: the page loads its model and calls
    /// [`Analyzer::use_detector`] first.
    pub fn configure(&mut self, settings_json: &str) -> Result<(), JsError> {
        let settings: AnalysisSettings = serde_json::from_str(settings_json)
            .map_err(|e| JsError::new(&format!("analysis settings: {e}")))?;
        let in_use = self.analyzer.finder.choice();
        if settings.detector != in_use {
            return Err(JsError::new(&format!(
                "the settings find faces with {}, and this analyzer with {in_use}: load its model first",
                settings.detector
            )));
        }
        self.apply(settings);
        Ok(())
    }

    /// Finds faces with the detector named `name` (`haar`, `blazeface` or
    /// `blazeface-full`, as `--detector` names them); a BlazeFace detector
    /// needs its TFLite model's bytes (`models/face_detection_*.tflite`).
    /// Forgets the faces being tracked.
    #[wasm_bindgen(js_name = useDetector)]
    pub fn use_detector(&mut self, name: &str, model: Option<Vec<u8>>) -> Result<(), JsError> {
        let choice: DetectorChoice = name.parse().map_err(|e: String| JsError::new(&e))?;
        self.switch_detector(choice, model.as_deref())
            .map_err(|e| js_error(&*e))
    }

    /// Forgets the faces being tracked and the mood (a new camera, say).
    pub fn reset(&mut self) {
        self.apply(self.live.settings());
    }

    /// Analyses a still image (RGBA, as [`Analyzer::analyze_rgba`] takes a
    /// frame) on its own, leaving the camera's tracked faces and mood as
    /// they are; answers a [`FrameReport`] whose `mood` is `null`.
    #[wasm_bindgen(js_name = analyzeImageRgba)]
    pub fn analyze_image_rgba(
        &self,
        width: u32,
        height: u32,
        rgba: &[u8],
    ) -> Result<String, JsError> {
        let image = gray_from_rgba(width, height, rgba).map_err(|e| JsError::new(&e))?;
        let json = self.analyze_image(&image).map_err(|e| js_error(&e))?;
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
    /// answers with a [`FrameReport`] as JSON text.
    #[wasm_bindgen(js_name = analyzeRgba)]
    pub fn analyze_rgba(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        now_ms: f64,
    ) -> Result<String, JsError> {
        let frame = gray_from_rgba(width, height, rgba).map_err(|e| JsError::new(&e))?;
        let json = self.analyze(&frame, now_ms).map_err(|e| js_error(&e))?;
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
        let haar = FaceFinder::Haar {
            detector,
            params: DetectParams::default(),
        };
        let mut analyzer = FrameAnalyzer::with_finder(haar.clone(), Some(classifier));
        analyzer.max_faces = MAX_FACES_PER_FRAME;
        Ok(Analyzer {
            haar,
            analyzer,
            live: LiveAnalysis::new(AnalysisSettings::default()),
        })
    }

    /// [`Analyzer::use_detector`] with Rust errors.
    pub fn switch_detector(
        &mut self,
        choice: DetectorChoice,
        model: Option<&[u8]>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        self.analyzer.finder = match (choice.blazeface_range(), model) {
            (None, _) => self.haar.clone(),
            (Some(range), Some(bytes)) => FaceFinder::from_blazeface(
                BlazeFace::from_tflite(bytes, range)
                    .map_err(|e| format!("{}: {e}", range.model_file()))?,
            ),
            (Some(range), None) => {
                return Err(format!("{choice} needs its model, {}", range.model_file()).into())
            }
        };
        self.apply(self.live.settings().with_detector(choice));
        Ok(())
    }

    /// The settings it analyses under.
    pub fn settings(&self) -> AnalysisSettings {
        self.live.settings()
    }

    /// Corrects later frames by `calibration` (none: uncorrected).
    pub fn use_calibration(&mut self, calibration: Option<Calibration>) {
        self.live.use_calibration(calibration);
    }

    /// Starts afresh under `settings` (the calibration stays).
    pub fn apply(&mut self, settings: AnalysisSettings) {
        self.live.apply(settings);
    }

    /// Analyses a gray frame taken at `now_ms`; the mood follows the face
    /// the settings say (the largest by default), as in server mode.
    pub fn analyze(&mut self, frame: &GrayImage, now_ms: f64) -> Result<FrameReport, AnalyzeError> {
        self.live
            .analyze(&self.analyzer, frame, now_ms.max(0.0) as u64)
    }

    /// Analyses a still image (a photo): the whole image is scanned, and
    /// neither the tracked faces nor the mood of the camera's stream are
    /// touched; `mood` is always `None`.
    pub fn analyze_image(&self, image: &GrayImage) -> Result<FrameReport, AnalyzeError> {
        self.live.analyze_still(&self.analyzer, image)
    }
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
