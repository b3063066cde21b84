//! Tracking finds the same faces as full scans, frame by frame, on clips
//! where faces move, while scanning most frames only around known faces.

use std::path::Path;

use melodora_core::FaceBox;
use melodora_vision::tracking::{FaceTracker, Scan, TrackingConfig};
use melodora_vision::{Cascade, DecodeLimits, DetectParams, GrayImage, HaarDetector};

fn scene(name: &str) -> GrayImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parity/images")
        .join(name);
    GrayImage::from_dynamic(&melodora_vision::load_image(&path, &DecodeLimits::default()).unwrap())
}

/// `img` moved by (dx, dy), edges repeated: a camera panning slowly.
fn shifted(img: &GrayImage, dx: i32, dy: i32) -> GrayImage {
    let (w, h) = (img.width() as i32, img.height() as i32);
    let mut pixels = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        let row = img.row((y - dy).clamp(0, h - 1) as usize);
        pixels.extend((0..w).map(|x| row[(x - dx).clamp(0, w - 1) as usize]));
    }
    GrayImage::from_pixels(w as usize, h as usize, pixels).unwrap()
}

/// Every box of `a` has a box in `b` overlapping it by IoU >= 0.5.
fn covered(a: &[FaceBox], b: &[FaceBox]) -> bool {
    a.iter().all(|x| b.iter().any(|y| x.iou(y) >= 0.5))
}

/// Pans over `name` by `step` pixels per frame (in 1/3 pixel) for 30
/// frames, on a clip whose faces a full scan finds in every frame, and
/// checks that tracking finds the same faces in every frame.
fn check_clip(name: &str, step: (i32, i32)) {
    const FRAMES: i32 = 30;
    let detector = HaarDetector::new(Cascade::frontal_face_default());
    let params = DetectParams::default();
    let mut tracker = FaceTracker::new(TrackingConfig::default());
    let base = scene(name);
    let mut tracked_frames = 0;
    let mut faces_present = None;
    for t in 0..FRAMES {
        let frame = shifted(&base, step.0 * t / 3, step.1 * t / 3);
        let full = detector.detect(&frame, &params).unwrap();
        let present = *faces_present.get_or_insert(full.len());
        assert!(present > 0, "{name}: the clip has faces");
        assert_eq!(
            full.len(),
            present,
            "{name} frame {t}: the clip's faces stay in view"
        );
        let (tracked, scan) = tracker.detect(&detector, &params, &frame).unwrap();
        tracked_frames += usize::from(scan == Scan::Tracked);
        assert!(
            covered(&full, &tracked) && covered(&tracked, &full),
            "{name} frame {t} ({scan:?}): full scan {full:?}, tracking {tracked:?}"
        );
    }
    assert!(
        tracked_frames >= FRAMES as usize * 3 / 4,
        "{name}: only {tracked_frames} of {FRAMES} frames tracked"
    );
}

#[test]
fn tracking_follows_moving_faces_like_full_scans() {
    check_clip("scene_06_three_faces.png", (2, 1));
    check_clip("scene_14_small_and_large_faces.png", (-2, 1));
    check_clip("scene_03_two_faces.png", (3, -2));
    check_clip("scene_19_one_face_flat_bg.png", (-4, -2));
    check_clip("scene_02_one_face.png", (-6, 6));
}

#[test]
fn a_face_leaving_the_frame_triggers_a_full_scan() {
    let detector = HaarDetector::new(Cascade::frontal_face_default());
    let params = DetectParams::default();
    let mut tracker = FaceTracker::new(TrackingConfig::default());
    let with_face = scene("scene_02_one_face.png");
    let without = scene("noface_flat_gray_640x480.png");
    let (faces, scan) = tracker.detect(&detector, &params, &with_face).unwrap();
    assert_eq!((faces.len(), scan), (1, Scan::Full));
    let (faces, scan) = tracker.detect(&detector, &params, &with_face).unwrap();
    assert_eq!((faces.len(), scan), (1, Scan::Tracked));
    let (faces, scan) = tracker.detect(&detector, &params, &without).unwrap();
    assert_eq!(
        (faces.len(), scan),
        (0, Scan::Full),
        "lost, so scanned whole"
    );
    // With nothing known, every frame is a full scan until a face appears.
    let (faces, scan) = tracker.detect(&detector, &params, &with_face).unwrap();
    assert_eq!((faces.len(), scan), (1, Scan::Full));
}
