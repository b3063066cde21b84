//! The vision half the server composes (detection and classification of
//! frames within the server's limits), shared by all clients; the music half
//! is `music`.

use melodora_vision::pipeline::{AnalyzeError, FrameAnalyzer};
use melodora_vision::tracking::FaceTracker;
use melodora_vision::{
    decode_image, DecodeError, DecodeLimits, DetectorChoice, EmotionClassifier, FaceFinder,
    GrayImage,
};
pub use melodora_vision::{FaceReport, MAX_FACES_PER_FRAME};
use serde::Serialize;

use crate::metrics::VisionMetrics;

/// Largest encoded frame or image accepted, in bytes.
pub const MAX_FRAME_BYTES: usize = 2 * 1024 * 1024;
/// Largest frame or image accepted, in pixels (a 4K frame; browsers send
/// about 480x360).
pub const MAX_FRAME_PIXELS: u64 = 3840 * 2160;
/// Face detection and emotion classification of encoded frames, within
/// the server's limits (frame size, pixels, faces per frame).
pub struct Vision {
    analyzer: FrameAnalyzer,
    metrics: VisionMetrics,
}

/// One analysed frame.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FrameAnalysis {
    pub width: usize,
    pub height: usize,
    pub faces: Vec<FaceReport>,
}

/// Why a frame could not be analysed: the client's fault (`TooLarge`,
/// `Decode`: a 4xx), the server's (`Analysis`, `Worker`: a 500 whose cause
/// is logged, not sent), or a busy server (`Busy`: a 503).
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("not a readable image")]
    Decode(#[source] DecodeError),
    /// The detector's parameters or the model failed.
    #[error("analysis failed")]
    Analysis(#[source] AnalyzeError),
    /// The worker thread analysing the frame panicked or was cancelled.
    #[error("analysis failed")]
    Worker(#[source] tokio::task::JoinError),
    #[error("server busy: the frame waited too long for its turn and was dropped")]
    Busy,
}

impl Vision {
    /// Detection by `finder`, then classification with `classifier` of
    /// the [`MAX_FACES_PER_FRAME`] largest faces, each enlarged by
    /// `face_margin`.
    pub fn new(finder: FaceFinder, classifier: EmotionClassifier, face_margin: f32) -> Vision {
        let analyzer = FrameAnalyzer {
            face_margin,
            max_faces: MAX_FACES_PER_FRAME,
            ..FrameAnalyzer::with_finder(finder, Some(classifier))
        };
        Vision {
            analyzer,
            metrics: VisionMetrics::default(),
        }
    }

    /// The counts of its analyses, for `/metrics`.
    pub(crate) fn metrics(&self) -> &VisionMetrics {
        &self.metrics
    }

    /// Which detector finds faces (pages analysing their own camera use
    /// the same).
    pub fn detector(&self) -> DetectorChoice {
        self.analyzer.finder.choice()
    }

    /// Whether faces are classified (a model is loaded).
    pub fn has_model(&self) -> bool {
        self.analyzer.classifier.is_some()
    }

    /// The emotion model's name, if its description has one.
    pub fn model_name(&self) -> Option<&str> {
        let classifier = self.analyzer.classifier.as_ref()?;
        classifier.description().name.as_deref()
    }

    /// Decodes an encoded image (JPEG, PNG, ...) and analyses it. Nothing
    /// is written anywhere: frames live only in memory.
    pub fn analyze_encoded(&self, bytes: &[u8]) -> Result<FrameAnalysis, FrameError> {
        self.analyze_encoded_in_stream(bytes, None)
    }

    /// Like [`Vision::analyze_encoded`] for a frame of a stream: with a
    /// tracker, faces are searched near where they were (see
    /// [`FaceTracker`]).
    pub fn analyze_encoded_in_stream(
        &self,
        bytes: &[u8],
        tracker: Option<&mut FaceTracker>,
    ) -> Result<FrameAnalysis, FrameError> {
        let gray = self.decode(bytes).inspect_err(|_| self.metrics.failed())?;
        self.analyze_in_stream(&gray, tracker)
    }

    /// Analyses a gray frame of a stream, with a tracker if given.
    pub fn analyze_in_stream(
        &self,
        gray: &GrayImage,
        tracker: Option<&mut FaceTracker>,
    ) -> Result<FrameAnalysis, FrameError> {
        let started = std::time::Instant::now();
        let faces = self
            .analyzer
            .analyze(gray, tracker)
            .inspect_err(|_| self.metrics.failed())
            .map_err(FrameError::Analysis)?;
        self.metrics.analysed(faces.len(), started.elapsed());
        Ok(FrameAnalysis {
            width: gray.width(),
            height: gray.height(),
            faces: faces.iter().filter_map(FaceReport::of).collect(),
        })
    }

    fn decode(&self, bytes: &[u8]) -> Result<GrayImage, FrameError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge {
                size: bytes.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        let limits = DecodeLimits {
            max_pixels: MAX_FRAME_PIXELS,
            max_bytes: MAX_FRAME_BYTES as u64,
        };
        let image = decode_image(bytes, &limits).map_err(FrameError::Decode)?;
        Ok(GrayImage::from_dynamic(&image))
    }
}
