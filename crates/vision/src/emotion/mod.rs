//! Emotion recognition: any FER-style ONNX classifier run with tract, its
//! description, face preprocessing, and evaluation metrics.

mod classifier;
mod description;
mod metrics;
mod preprocess;

pub use classifier::{EmotionClassifier, EmotionScores, ModelError, DEFAULT_MODEL_ONNX};
pub use description::{
    DescriptionError, InputSpec, Layout, ModelDescription, Normalization, OutputKind, METADATA_KEY,
};
pub use metrics::{ClassMetrics, ConfusionMatrix};
pub use preprocess::{crop_face, input_tensor, resize_face};
