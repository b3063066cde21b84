//! Detection and classification composed: what the CLI, the server and the
//! benchmarks all run on a frame.

use melodora_core::FaceBox;

use crate::cascade::{DetectParams, HaarDetector, ParamsError};
use crate::emotion::{crop_face, EmotionClassifier, EmotionScores, ModelError};
use crate::GrayImage;

/// One face found in a frame, with its emotion if a classifier was given.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzedFace {
    pub face: FaceBox,
    pub scores: Option<EmotionScores>,
}

/// Why a frame could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Params(#[from] ParamsError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Detects faces and, with a classifier, classifies all of them in one batch.
pub fn analyze_frame(
    img: &GrayImage,
    detector: &HaarDetector,
    params: &DetectParams,
    classifier: Option<&EmotionClassifier>,
    face_margin: f32,
) -> Result<Vec<AnalyzedFace>, AnalyzeError> {
    let faces = detector.detect(img, params)?;
    match classifier {
        Some(classifier) => classify_faces(img, faces, classifier, face_margin),
        None => Ok(faces
            .into_iter()
            .map(|face| AnalyzedFace { face, scores: None })
            .collect()),
    }
}

/// Classifies faces already found in `img` (e.g. by a [`FaceTracker`]), all
/// in one batch.
///
/// [`FaceTracker`]: crate::tracking::FaceTracker
pub fn classify_faces(
    img: &GrayImage,
    faces: Vec<FaceBox>,
    classifier: &EmotionClassifier,
    face_margin: f32,
) -> Result<Vec<AnalyzedFace>, AnalyzeError> {
    // Only boxes inside the image have crops; the detector's always do.
    let (faces, crops): (Vec<FaceBox>, Vec<GrayImage>) = faces
        .into_iter()
        .filter_map(|f| crop_face(img, &f, face_margin).map(|crop| (f, crop)))
        .unzip();
    let scores = classifier.classify(&crops)?;
    Ok(faces
        .into_iter()
        .zip(scores)
        .map(|(face, s)| AnalyzedFace {
            face,
            scores: Some(s),
        })
        .collect())
}
