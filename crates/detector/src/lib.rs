//! Viola-Jones face detection with OpenCV's Haar cascades, in pure Rust.
//!
//! [`Cascade`] reads OpenCV's XML files (current and old dialects);
//! [`HaarDetector`] runs `detectMultiScale` with OpenCV 4.x semantics and
//! gives OpenCV's rectangles, bit for bit, on the same gray image: the
//! pyramid ([`resize_linear_exact`]), integral tables, the stage-by-stage
//! scan (AVX2/AVX-512 on x86-64, portable Rust elsewhere, WebAssembly
//! included) and [`group_rectangles`].
//!
//! [`blazeface`] is MediaPipe's CNN face detector (boxes and six keypoints,
//! for turned heads and dim rooms), run from the TFLite files MediaPipe
//! ships ([`tflite`] reads them; `assets/blazeface/`).
//!
//! Usable on its own by anyone who needs `detectMultiScale` in Rust. Knows
//! nothing of image files (it takes a [`GrayImage`]; decoding is
//! `melodora-vision`'s), emotions, tracking, music or HTTP.

pub mod blazeface;
mod detector;
#[cfg(target_arch = "x86_64")]
mod gather;
mod group;
mod integral;
mod model;
mod scan;
pub mod tflite;
mod xml;

pub use blazeface::{
    BlazeFace, BlazeFaceError, FaceDetection, Range, FULL_RANGE_TFLITE, SHORT_RANGE_TFLITE,
};
pub use detector::{DetectParams, HaarDetector, ParamsError};
pub use group::group_rectangles;
pub use melodora_core::resize_linear_exact;
pub use melodora_core::simd::{simd_level, SimdLevel};
pub use melodora_core::GrayImage;
pub use model::{Cascade, CascadeError, HaarFeature, Stage, TreeNode, WeakTree, WeightedRect};

/// OpenCV's `haarcascade_frontalface_default.xml`, embedded so the binary
/// detects faces with no files around it (licence: see `assets/`).
pub const DEFAULT_CASCADE_XML: &str =
    include_str!("../../../assets/haarcascade_frontalface_default.xml");

impl Cascade {
    /// The embedded default frontal-face cascade.
    pub fn frontal_face_default() -> Cascade {
        Cascade::from_xml(DEFAULT_CASCADE_XML)
            .expect("embedded cascade is valid (checked by tests)")
    }
}
