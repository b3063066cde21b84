//! Emotion recognition: any FER-style ONNX classifier (run by the direct
//! engine or tract), its
//! description, face preprocessing, and evaluation metrics.

mod classifier;
mod description;
mod direct;
mod metrics;
mod preprocess;

pub use classifier::{EmotionClassifier, Engine, ModelError, DEFAULT_MODEL_ONNX, ENGINE_ENV};
pub use description::{
    read_description_text, DescriptionError, InputSpec, Layout, ModelDescription, Normalization,
    OutputKind, METADATA_KEY,
};
pub use metrics::{ClassMetrics, ConfusionMatrix};
pub use preprocess::{crop_face, input_tensor, resize_face};
