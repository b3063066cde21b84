//! Detection and classification composed: the one [`FrameAnalyzer`] that
//! the CLI, the server, the benchmarks and the fuzz targets run on a frame.

use melodora_core::{EmotionProbabilities, FaceBox};

use melodora_detector::{DetectParams, HaarDetector, ParamsError};
use melodora_emotion::{crop_face, EmotionClassifier, ModelError};

use crate::tracking::{FaceTracker, Scan};
use crate::GrayImage;

/// One face found in a frame, with its emotion if the analyzer classifies.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzedFace {
    /// Where the face is in the frame.
    pub face: FaceBox,
    /// Its emotions; `None` when the analyzer only finds faces, or the face
    /// was beyond the face cap.
    pub probabilities: Option<EmotionProbabilities>,
}

/// Why a frame could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The detection parameters are invalid.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The classifier failed on the faces.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Everything that turns a gray frame into faces and their emotions: the
/// detector and its parameters, the classifier (none for detection only),
/// how much context goes around each face, and how many faces at most are
/// classified.
pub struct FrameAnalyzer {
    /// Finds faces.
    pub detector: HaarDetector,
    /// How the detector searches (pyramid step, neighbours, sizes).
    pub params: DetectParams,
    /// `None`: find faces only.
    pub classifier: Option<EmotionClassifier>,
    /// Each face box is enlarged by this fraction of its size before
    /// classifying (see [`crop_face`]).
    pub face_margin: f32,
    /// Most faces kept per frame, the largest ones: a frame tiled with
    /// thousands of faces must not hold the CPU for seconds.
    pub max_faces: usize,
}

impl FrameAnalyzer {
    /// An analyzer with no face margin and no cap on faces.
    pub fn new(
        detector: HaarDetector,
        params: DetectParams,
        classifier: Option<EmotionClassifier>,
    ) -> Self {
        FrameAnalyzer {
            detector,
            params,
            classifier,
            face_margin: 0.0,
            max_faces: usize::MAX,
        }
    }

    /// Finds the faces of `frame` and classifies them (in one batch).
    /// With a tracker the frame is part of a stream, and faces are searched
    /// near where they were (see [`FaceTracker`]).
    pub fn analyze(
        &self,
        frame: &GrayImage,
        tracker: Option<&mut FaceTracker>,
    ) -> Result<Vec<AnalyzedFace>, AnalyzeError> {
        let (faces, _) = self.find_faces(frame, tracker)?;
        self.classify(frame, faces)
    }

    /// The first half of [`FrameAnalyzer::analyze`]: the faces of `frame`,
    /// at most [`FrameAnalyzer::max_faces`] of them, the largest, and how
    /// they were searched for.
    pub fn find_faces(
        &self,
        frame: &GrayImage,
        tracker: Option<&mut FaceTracker>,
    ) -> Result<(Vec<FaceBox>, Scan), AnalyzeError> {
        let (mut faces, scan) = match tracker {
            Some(tracker) => tracker.detect(&self.detector, &self.params, frame)?,
            None => (self.detector.detect(frame, &self.params)?, Scan::Full),
        };
        if faces.len() > self.max_faces {
            faces.sort_by_key(|f| std::cmp::Reverse(f.area()));
            faces.truncate(self.max_faces);
        }
        Ok((faces, scan))
    }

    /// The second half of [`FrameAnalyzer::analyze`]: classifies faces
    /// found in `frame`, all in one batch. Only boxes inside the frame have
    /// crops; the detector's always are.
    pub fn classify(
        &self,
        frame: &GrayImage,
        faces: Vec<FaceBox>,
    ) -> Result<Vec<AnalyzedFace>, AnalyzeError> {
        let Some(classifier) = &self.classifier else {
            return Ok(faces
                .into_iter()
                .map(|face| AnalyzedFace {
                    face,
                    probabilities: None,
                })
                .collect());
        };
        let (faces, crops): (Vec<FaceBox>, Vec<GrayImage>) = faces
            .into_iter()
            .filter_map(|f| crop_face(frame, &f, self.face_margin).map(|crop| (f, crop)))
            .unzip();
        let probabilities = classifier.classify(&crops)?;
        Ok(faces
            .into_iter()
            .zip(probabilities)
            .map(|(face, p)| AnalyzedFace {
                face,
                probabilities: Some(p),
            })
            .collect())
    }
}
