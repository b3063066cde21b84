//! Melodora's eyes: image decoding, Haar cascade face detection with OpenCV
//! parity, and (later) face preprocessing, emotion classification and
//! smoothing.
//!
//! Knows nothing of music or HTTP.

pub mod annotate;
pub mod cascade;
pub mod decode;
pub mod emotion;
mod gray;
pub mod pipeline;

pub use cascade::{Cascade, CascadeError, DetectParams, HaarDetector};
pub use decode::{decode_image, load_image, DecodeError, DecodeLimits};
pub use emotion::{EmotionClassifier, EmotionScores, ModelDescription, ModelError};
pub use gray::{rgb_to_gray, GrayImage};
