//! Shared vocabulary of Melodora.
//!
//! Every other crate speaks in these types, so they are kept small and free of
//! heavy dependencies: the seven FER emotions ([`Emotion`]) and an axis-aligned
//! face rectangle in image pixels ([`FaceBox`]), and [`read_at_most`], the
//! one way untrusted files are read whole.

mod emotion;
mod face;
mod read;

pub use emotion::{Emotion, UnknownEmotion};
pub use face::FaceBox;
pub use read::read_at_most;
