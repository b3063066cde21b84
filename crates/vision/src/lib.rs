//! Melodora's eyes: image decoding, Haar cascade face detection with OpenCV
//! parity, face preprocessing, emotion classification, and the smoothing
//! that turns per-frame emotions into a stable mood.
//!
//! Knows nothing of music or HTTP.

pub mod annotate;
pub mod cascade;
pub mod decode;
pub mod emotion;
mod gray;
mod jpeg_segments;
pub mod pipeline;
pub mod simd;
pub mod stability;
pub mod tracking;
pub mod video;

pub use cascade::{Cascade, CascadeError, DetectParams, HaarDetector};
pub use decode::{decode_image, load_image, DecodeError, DecodeLimits};
pub use emotion::{EmotionClassifier, ModelDescription, ModelError};
pub use gray::{rgb_to_gray, GrayImage};
pub use stability::{MoodTracker, MoodUpdate, StabilityConfig, StableMood};
pub use video::{VideoError, VideoFormat, VideoFrame, VideoReader};
