use serde::{Deserialize, Serialize};

/// An axis-aligned rectangle in image pixel coordinates (top-left origin).
///
/// Signed coordinates keep the arithmetic of detectors (which mirror OpenCV's
/// `cv::Rect`) free of casts; a box produced by a detector always lies inside
/// the image it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FaceBox {
    /// Left edge, in pixels from the image's left.
    pub x: i32,
    /// Top edge, in pixels from the image's top.
    pub y: i32,
    /// Width in pixels.
    pub w: i32,
    /// Height in pixels.
    pub h: i32,
}

impl FaceBox {
    /// The box with top-left corner `(x, y)`, `w` wide and `h` high.
    pub const fn new(x: i32, y: i32, w: i32, h: i32) -> Self {
        Self { x, y, w, h }
    }

    /// Area in pixels (zero for degenerate boxes).
    pub fn area(&self) -> i64 {
        i64::from(self.w.max(0)) * i64::from(self.h.max(0))
    }

    /// Area in pixels of the part the two boxes share.
    pub fn intersection_area(&self, other: &FaceBox) -> i64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        i64::from((x1 - x0).max(0)) * i64::from((y1 - y0).max(0))
    }

    /// Intersection over union, the usual measure of how well two boxes agree.
    pub fn iou(&self, other: &FaceBox) -> f64 {
        let inter = self.intersection_area(other);
        let union = self.area() + other.area() - inter;
        if union <= 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    }
}

/// The item whose face box is largest (the last of equal ones): the face
/// the playlist follows, the one `eval --detect` classifies.
pub fn largest_face<T>(
    items: impl IntoIterator<Item = T>,
    face_box: impl Fn(&T) -> FaceBox,
) -> Option<T> {
    items.into_iter().max_by_key(|item| face_box(item).area())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_face_is_found_and_ties_go_to_the_last() {
        let faces = [
            FaceBox::new(0, 0, 10, 10),
            FaceBox::new(5, 5, 30, 30),
            FaceBox::new(9, 9, 30, 30),
        ];
        assert_eq!(largest_face(&faces, |f| **f), Some(&faces[2]));
        assert_eq!(largest_face(Vec::<FaceBox>::new(), |f| *f), None);
    }

    #[test]
    fn iou_of_identical_boxes_is_one() {
        let b = FaceBox::new(3, 4, 10, 20);
        assert_eq!(b.iou(&b), 1.0);
    }

    #[test]
    fn iou_of_disjoint_boxes_is_zero() {
        let a = FaceBox::new(0, 0, 10, 10);
        let b = FaceBox::new(10, 0, 10, 10);
        assert_eq!(a.iou(&b), 0.0);
    }

    #[test]
    fn iou_of_half_overlap() {
        let a = FaceBox::new(0, 0, 10, 10);
        let b = FaceBox::new(5, 0, 10, 10);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-12);
    }

    #[test]
    fn intersection_of_nested_and_disjoint_boxes() {
        let outer = FaceBox::new(0, 0, 10, 10);
        assert_eq!(outer.intersection_area(&FaceBox::new(2, 3, 4, 4)), 16);
        assert_eq!(outer.intersection_area(&FaceBox::new(8, 8, 4, 4)), 4);
        assert_eq!(outer.intersection_area(&FaceBox::new(10, 0, 4, 4)), 0);
    }

    #[test]
    fn degenerate_boxes_have_no_area() {
        assert_eq!(FaceBox::new(0, 0, -3, 5).area(), 0);
        assert_eq!(FaceBox::new(0, 0, 0, 0).iou(&FaceBox::new(0, 0, 0, 0)), 0.0);
    }
}
