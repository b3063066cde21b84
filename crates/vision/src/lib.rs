//! Melodora's frame pipeline: from image bytes or video to faces, their
//! emotions and a stable mood. Decodes images ([`decode_image`]) and video
//! ([`VideoReader`]), runs detection and classification on a frame through
//! one [`FrameAnalyzer`](pipeline::FrameAnalyzer) (with or without a
//! [`FaceTracker`](tracking::FaceTracker)), smooths per-frame emotions into
//! a mood ([`MoodTracker`]) and draws annotated frames ([`annotate`]).
//!
//! The detector is `melodora-detector`, the classifier `melodora-emotion`;
//! the types an analyzer is built from are re-exported here so that users of
//! the pipeline need this one crate. Knows nothing of music or HTTP, and
//! needs no threads, files or clocks on its frame path, so it builds for
//! WebAssembly.

pub mod annotate;
pub mod decode;
pub mod finder;
pub mod follow;
mod jpeg_segments;
pub mod live;
pub mod pipeline;
pub mod settings;
pub mod stability;
pub mod tracking;
pub mod video;

pub use decode::{decode_image, load_image, DecodeError, DecodeLimits};
pub use finder::{DetectorChoice, FaceFinder, FoundFace, Landmarks};
pub use follow::{followed, Follow};
pub use live::{FaceReport, FrameReport, LiveAnalysis, Observation, MAX_FACES_PER_FRAME};
pub use melodora_core::{rgb_to_gray, GrayImage};
pub use melodora_detector::{
    BlazeFace, Cascade, CascadeError, DetectParams, HaarDetector, Range, DEFAULT_CASCADE_XML,
    FULL_RANGE_TFLITE, SHORT_RANGE_TFLITE,
};
pub use melodora_emotion::{EmotionClassifier, ModelDescription, ModelError, DEFAULT_MODEL_ONNX};
pub use settings::AnalysisSettings;
pub use stability::{MoodTracker, MoodUpdate, StabilityConfig, StableMood};
pub use video::{VideoError, VideoFormat, VideoFrame, VideoReader};
