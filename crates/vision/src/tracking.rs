//! Following faces through a video without scanning every whole frame.
//!
//! A face seldom moves far or changes size much between two frames, so
//! after a full scan the tracker looks for each known face only in a region
//! around where it was (see [`FaceFinder::find_in`]: Haar only at window
//! sizes near the face's, BlazeFace with the region enlarged to its input).
//! It scans the whole frame again every few frames (to find faces that
//! appeared), when a known face is not found near its last place, and when
//! nothing is known. The detector is the same as for a full scan, so a
//! tracked Haar face is the box a full scan would give, give or take the
//! pixel grid of the region; a tracked BlazeFace face is seen larger than
//! in the whole frame, which helps small faces. A tracked box lying mostly
//! inside a larger one is dropped: it is the detector's second box on a
//! face, not a face.

use melodora_core::FaceBox;

use crate::finder::{FaceFinder, FindError, FoundFace};
use crate::GrayImage;

/// How the tracker trades scanning work for latency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackingConfig {
    /// A full scan at least once every this many frames, to find new faces.
    pub full_scan_interval: u32,
    /// Margin around a known face searched in the next frame, as a fraction
    /// of the face's size on each side.
    pub search_margin: f32,
    /// Window sizes searched for a known face (Haar): from its size
    /// divided by this to its size multiplied by it.
    pub scale_band: f32,
}

impl Default for TrackingConfig {
    /// A full scan every 15 frames (twice a second at 30 fps); a region of
    /// half a face on each side; sizes within 15%.
    fn default() -> Self {
        TrackingConfig {
            full_scan_interval: 15,
            search_margin: 0.5,
            scale_band: 1.15,
        }
    }
}

/// Whether a frame was scanned whole or only around known faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The whole frame was scanned.
    Full,
    /// Only regions around known faces were scanned.
    Tracked,
}

/// One video stream's tracking state.
#[derive(Debug, Clone)]
pub struct FaceTracker {
    config: TrackingConfig,
    faces: Vec<FoundFace>,
    frames_since_full_scan: u32,
}

impl FaceTracker {
    /// A tracker for a new stream: its first frame is scanned whole.
    pub fn new(config: TrackingConfig) -> FaceTracker {
        FaceTracker {
            config,
            faces: Vec::new(),
            frames_since_full_scan: 0,
        }
    }

    /// Forgets the known faces: the next frame is scanned whole (e.g. after
    /// a cut or a seek).
    pub fn reset(&mut self) {
        self.faces.clear();
    }

    /// The faces in the next frame of the stream, and how they were found.
    pub fn detect(
        &mut self,
        finder: &FaceFinder,
        frame: &GrayImage,
    ) -> Result<(Vec<FoundFace>, Scan), FindError> {
        let due = self.frames_since_full_scan + 1 >= self.config.full_scan_interval.max(1);
        if !self.faces.is_empty() && !due {
            if let Some(faces) = self.track(finder, frame)? {
                self.frames_since_full_scan += 1;
                self.faces.clone_from(&faces);
                return Ok((faces, Scan::Tracked));
            }
        }
        let faces = finder.find(frame)?;
        self.frames_since_full_scan = 0;
        self.faces.clone_from(&faces);
        Ok((faces, Scan::Full))
    }

    /// Each known face searched near its last place; `None` if one is lost.
    fn track(
        &self,
        finder: &FaceFinder,
        frame: &GrayImage,
    ) -> Result<Option<Vec<FoundFace>>, FindError> {
        let mut found: Vec<FoundFace> = Vec::with_capacity(self.faces.len());
        for known in &self.faces {
            let known = &known.face;
            let Some(region) = self.search_region(known, frame) else {
                return Ok(None);
            };
            let size = known.w.max(known.h).max(0) as u32;
            let candidates = finder.find_in(frame, region, size, self.config.scale_band)?;
            let best = candidates
                .into_iter()
                .max_by(|a, b| a.face.iou(known).total_cmp(&b.face.iou(known)));
            match best {
                Some(face) if face.face.iou(known) > 0.0 => {
                    // Two known faces that merged into one are one face now.
                    if !found.iter().any(|f| f.face.iou(&face.face) > 0.5) {
                        found.push(face);
                    }
                }
                _ => return Ok(None),
            }
        }
        Ok(Some(without_nested(found)))
    }

    /// The known face grown by the margin, clipped to the frame.
    fn search_region(&self, face: &FaceBox, frame: &GrayImage) -> Option<FaceBox> {
        let margin_x = (face.w as f32 * self.config.search_margin).ceil() as i32;
        let margin_y = (face.h as f32 * self.config.search_margin).ceil() as i32;
        let x0 = (face.x - margin_x).max(0);
        let y0 = (face.y - margin_y).max(0);
        let x1 = (face.x + face.w + margin_x).min(frame.width() as i32);
        let y1 = (face.y + face.h + margin_y).min(frame.height() as i32);
        (x1 > x0 && y1 > y0).then(|| FaceBox::new(x0, y0, x1 - x0, y1 - y0))
    }
}

/// Share of a box's area that, lying inside a larger box, makes it a part
/// of that face rather than a face of its own.
const NESTED_SHARE: f64 = 0.7;

/// Removes boxes that lie mostly inside a larger one. The detector
/// sometimes gives a second, smaller box on a face (a full scan keeps it
/// when its neighbours do not merge with the face's); tracked on its own,
/// it would follow the face as a phantom until the next full scan.
fn without_nested(faces: Vec<FoundFace>) -> Vec<FoundFace> {
    let nested = |face: &FaceBox| {
        faces.iter().any(|outer| {
            let outer = &outer.face;
            outer.area() > face.area()
                && outer.intersection_area(face) as f64 >= NESTED_SHARE * face.area() as f64
        })
    };
    faces.iter().filter(|f| !nested(&f.face)).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_mostly_inside_a_larger_one_is_dropped() {
        let face = FaceBox::new(100, 100, 110, 110);
        let inner = FaceBox::new(130, 120, 60, 60);
        let overlapping = FaceBox::new(180, 100, 100, 100);
        let apart = FaceBox::new(400, 100, 50, 50);
        let found = |boxes: &[FaceBox]| boxes.iter().map(|&b| FoundFace::from(b)).collect();
        let faces = without_nested(found(&[inner, face, overlapping, apart]));
        assert_eq!(faces, found(&[face, overlapping, apart]) as Vec<FoundFace>);
    }

    #[test]
    fn regions_are_clipped_to_the_frame() {
        let tracker = FaceTracker::new(TrackingConfig::default());
        let frame = GrayImage::new(200, 100);
        let region = tracker
            .search_region(&FaceBox::new(150, 50, 60, 60), &frame)
            .unwrap();
        assert_eq!(region, FaceBox::new(120, 20, 80, 80));
        assert!(tracker
            .search_region(&FaceBox::new(400, 400, 10, 10), &frame)
            .is_none());
    }
}
