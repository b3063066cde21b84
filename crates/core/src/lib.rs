//! Shared vocabulary of Melodora.
//!
//! Every other crate speaks in these types, so they are kept small and free of
//! heavy dependencies: the seven FER emotions ([`Emotion`]) and an axis-aligned
//! face rectangle in image pixels ([`FaceBox`]).

mod emotion;
mod face;

pub use emotion::{Emotion, UnknownEmotion};
pub use face::FaceBox;
