//! Shared vocabulary of Melodora.
//!
//! Every other crate speaks in these types, so they are kept small and free of
//! heavy dependencies: the seven FER emotions ([`Emotion`]) and how likely
//! each is ([`EmotionProbabilities`]), an axis-aligned face rectangle in image
//! pixels ([`FaceBox`]) and which of many is largest ([`largest_face`]), the
//! 8-bit gray frame every perception crate works on ([`GrayImage`]) and
//! a person's correction of the classifier ([`Calibration`]),
//! a seeded generator for repeatable draws ([`SplitMix64`]),
//! OpenCV's bilinear resize of it ([`resize_linear_exact`]), which
//! vector instructions the CPU offers and how kernels choose by it
//! ([`simd`]), [`read_at_most`], the one way untrusted files are read
//! whole, and [`ErrorChain`], the one way an error and its causes become
//! text.
//!
//! Knows nothing of image formats, models, music or HTTP.

mod calibration;
mod emotion;
mod error;
mod face;
mod gray;
mod probabilities;
mod random;
mod read;
mod resize;
pub mod simd;

pub use calibration::{
    Calibration, CalibrationError, MAX_OFFSET, MIN_RESTING_SAMPLES, RESTING_MARGIN, RESTING_NEUTRAL,
};
pub use emotion::{Emotion, UnknownEmotion};
pub use error::ErrorChain;
pub use face::{largest_face, FaceBox};
pub use gray::{rgb_to_gray, GrayImage};
pub use probabilities::EmotionProbabilities;
pub use random::SplitMix64;
pub use read::read_at_most;
pub use resize::resize_linear_exact;
