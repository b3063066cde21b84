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
    let Some(classifier) = classifier else {
        return Ok(faces
            .into_iter()
            .map(|face| AnalyzedFace { face, scores: None })
            .collect());
    };
    // Detector boxes lie inside the image, so every crop exists.
    let crops: Vec<GrayImage> = faces
        .iter()
        .filter_map(|f| crop_face(img, f, face_margin))
        .collect();
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
