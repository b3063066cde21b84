//! Viola-Jones face detection with OpenCV's Haar cascades, in pure Rust.
//!
//! [`Cascade`] reads OpenCV's XML files (current and old dialects);
//! [`HaarDetector`] runs `detectMultiScale` with OpenCV 4.x semantics.

mod detector;
mod gather;
mod group;
mod integral;
mod model;
mod resize;
mod scan;
mod xml;

pub use crate::simd::{simd_level, SimdLevel};
pub use detector::{DetectParams, HaarDetector, ParamsError};
pub use group::group_rectangles;
pub use model::{Cascade, CascadeError, HaarFeature, Stage, TreeNode, WeakTree, WeightedRect};
pub use resize::resize_linear_exact;

/// OpenCV's `haarcascade_frontalface_default.xml`, embedded so the binary
/// detects faces with no files around it (licence: see `assets/`).
pub const DEFAULT_CASCADE_XML: &str =
    include_str!("../../../../assets/haarcascade_frontalface_default.xml");

impl Cascade {
    /// The embedded default frontal-face cascade.
    pub fn frontal_face_default() -> Cascade {
        Cascade::from_xml(DEFAULT_CASCADE_XML)
            .expect("embedded cascade is valid (checked by tests)")
    }
}
