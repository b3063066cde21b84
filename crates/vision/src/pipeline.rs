//! Detection and classification composed: the one [`FrameAnalyzer`] that
//! the CLI, the server, the benchmarks and the fuzz targets run on a frame.

use melodora_core::{EmotionProbabilities, FaceBox};

use melodora_detector::{DetectParams, HaarDetector};
use melodora_emotion::{crop_face, crop_face_level, EmotionClassifier, ModelError};

pub use crate::finder::{FaceFinder, FindError, FoundFace, Landmarks};
use crate::tracking::{FaceTracker, Scan};
use crate::GrayImage;

/// One face found in a frame, with its emotion if the analyzer classifies.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzedFace {
    /// Where the face is in the frame.
    pub face: FaceBox,
    /// Score and keypoints, from a CNN detector.
    pub landmarks: Option<Landmarks>,
    /// Its emotions; `None` when the analyzer only finds faces, or the face
    /// was beyond the face cap.
    pub probabilities: Option<EmotionProbabilities>,
}

/// Why a frame could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// Faces could not be searched for.
    #[error(transparent)]
    Find(#[from] FindError),
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
    pub finder: FaceFinder,
    /// `None`: find faces only.
    pub classifier: Option<EmotionClassifier>,
    /// Each face box is enlarged by this fraction of its size before
    /// classifying (see [`crop_face`]).
    pub face_margin: f32,
    /// Most faces kept per frame, the largest ones: a frame tiled with
    /// thousands of faces must not hold the CPU for seconds.
    pub max_faces: usize,
    /// Level the eyes before classifying, where the detector gives them
    /// (see [`crop_face_level`]); on by default.
    pub align: bool,
}

impl FrameAnalyzer {
    /// An analyzer finding faces with a Haar cascade, with no face margin
    /// and no cap on faces.
    pub fn new(
        detector: HaarDetector,
        params: DetectParams,
        classifier: Option<EmotionClassifier>,
    ) -> Self {
        FrameAnalyzer::with_finder(FaceFinder::Haar { detector, params }, classifier)
    }

    /// An analyzer finding faces with `finder`, with no face margin and no
    /// cap on faces.
    pub fn with_finder(finder: FaceFinder, classifier: Option<EmotionClassifier>) -> Self {
        FrameAnalyzer {
            finder,
            classifier,
            face_margin: 0.0,
            max_faces: usize::MAX,
            align: true,
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
    ) -> Result<(Vec<FoundFace>, Scan), AnalyzeError> {
        let (mut faces, scan) = match tracker {
            Some(tracker) => tracker.detect(&self.finder, frame)?,
            None => (self.finder.find(frame)?, Scan::Full),
        };
        if faces.len() > self.max_faces {
            faces.sort_by_key(|f| std::cmp::Reverse(f.face.area()));
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
        faces: Vec<FoundFace>,
    ) -> Result<Vec<AnalyzedFace>, AnalyzeError> {
        let Some(classifier) = &self.classifier else {
            return Ok(faces
                .into_iter()
                .map(|f| AnalyzedFace {
                    face: f.face,
                    landmarks: f.landmarks,
                    probabilities: None,
                })
                .collect());
        };
        let (faces, crops): (Vec<FoundFace>, Vec<GrayImage>) = faces
            .into_iter()
            .filter_map(|f| self.crop(frame, &f).map(|crop| (f, crop)))
            .unzip();
        let probabilities = classifier.classify(&crops)?;
        Ok(faces
            .into_iter()
            .zip(probabilities)
            .map(|(f, p)| AnalyzedFace {
                face: f.face,
                landmarks: f.landmarks,
                probabilities: Some(p),
            })
            .collect())
    }
}

/// A CNN detector's box hugs the face more tightly than the crops the
/// emotion network learnt from (FER2013's, framed like a Haar cascade's
/// boxes): its crop is this much larger on every side (of its size), on top
/// of [`FrameAnalyzer::face_margin`]. Measured: 66.1 % on 350 val faces
/// against 62.4 % without, 64.4 % at 0.05 and 61.8 % at 0.15
/// (`bench/alignment.sh`, docs/PERFORMANCE.md).
pub const CNN_BOX_FRAMING: f32 = 0.1;

/// Eyes tilted less than this (degrees) are left as they are: FER2013's
/// faces are roughly upright, and turning a crop costs it detail (levelling
/// every face read 56.3 % of upright val faces against 62.4 % unturned).
pub const MIN_TILT_DEGREES: f32 = 10.0;

impl FrameAnalyzer {
    /// The face's crop for the classifier. A face a CNN detector found is
    /// framed as the network expects ([`CNN_BOX_FRAMING`]) and, when
    /// [`FrameAnalyzer::align`] is on and its eyes (keypoints 0 and 1: the
    /// image-left and image-right eye) tilt by at least
    /// [`MIN_TILT_DEGREES`], levelled.
    pub fn crop(&self, frame: &GrayImage, found: &FoundFace) -> Option<GrayImage> {
        let Some(landmarks) = found.landmarks else {
            return crop_face(frame, &found.face, self.face_margin);
        };
        let margin = self.face_margin + CNN_BOX_FRAMING;
        let [(lx, ly), (rx, ry), ..] = landmarks.keypoints;
        let tilt = (ry - ly).atan2(rx - lx).to_degrees().abs();
        if self.align && tilt >= MIN_TILT_DEGREES {
            crop_face_level(frame, &found.face, ((lx, ly), (rx, ry)), margin)
        } else {
            crop_face(frame, &found.face, margin)
        }
    }
}
