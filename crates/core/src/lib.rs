//! Shared vocabulary of Melodora.
//!
//! Every other crate speaks in these types, so they are kept small and free of
//! heavy dependencies: the seven FER emotions ([`Emotion`]) and how likely
//! each is ([`EmotionProbabilities`]), an axis-aligned face rectangle in image
//! pixels ([`FaceBox`]) and which of many is largest ([`largest_face`]), and
//! [`read_at_most`], the one way untrusted files are read whole.

#![warn(missing_docs)]

mod emotion;
mod face;
mod probabilities;
mod read;

pub use emotion::{Emotion, UnknownEmotion};
pub use face::{largest_face, FaceBox};
pub use probabilities::EmotionProbabilities;
pub use read::read_at_most;
