//! Facial emotion recognition: any FER-style ONNX classifier
//! ([`EmotionClassifier`]), run by Melodora's own CNN engine (`direct`:
//! AVX-512, AVX2 or portable kernels, checked against tract at load) or by
//! tract; the model's [`ModelDescription`]; face preprocessing
//! ([`crop_face`], [`input_tensor`]); and evaluation metrics
//! ([`ConfusionMatrix`]).
//!
//! Takes gray face crops ([`GrayImage`]) and gives
//! [`EmotionProbabilities`](melodora_core::EmotionProbabilities). Knows
//! nothing of image files, face detection, tracking, music or HTTP.

pub mod calibration_study;
mod classifier;
mod description;
mod direct;
mod error;
mod metrics;
mod onnx;
mod preprocess;
#[cfg(feature = "tract")]
mod tract_engine;

pub use classifier::{EmotionClassifier, Engine, DEFAULT_MODEL_ONNX, ENGINE_ENV};
pub use description::{
    read_description_text, DescriptionError, InputSpec, Layout, ModelDescription, Normalization,
    OutputKind, METADATA_KEY,
};
pub use error::{BoxError, ModelError, SidecarError};
pub use melodora_core::GrayImage;
pub use metrics::{ClassMetrics, ConfusionMatrix};
pub use preprocess::{crop_face, crop_face_level, input_tensor, resize_face};
