//! The chunked scanner against OpenCV's window-by-window loop.

use super::*;
use crate::model::Cascade;
use melodora_core::GrayImage;

/// Reference scan: OpenCV's loop, one window at a time.
fn reference_scan(
    cc: &CompiledCascade,
    t: &Integrals,
    rows: usize,
    step: usize,
) -> Vec<(usize, usize)> {
    let columns = t.width + 1 - cc.window_width;
    let mut hits = Vec::new();
    for y in (0..rows).step_by(step) {
        let mut x = 0;
        while x < columns {
            let p = y * t.stride + x;
            match cc.run_at(t, p) {
                Some(true) => hits.push((x, y)),
                Some(false) => {
                    let norm = cc.variance_factor(t, p).unwrap();
                    if !cc.stage_passes::<false>(0, t, p, norm) {
                        x += step;
                    }
                }
                None => {}
            }
            x += step;
        }
    }
    hits
}

fn fixture(name: &str) -> GrayImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vision/tests/fixtures/parity/images")
        .join(name);
    GrayImage::from_dynamic(&image::open(&path).unwrap())
}

#[test]
fn chunked_scan_equals_window_by_window_scan() {
    let cascade = Cascade::frontal_face_default();
    let mut total_hits = 0;
    for name in [
        "photo_astronaut_small_256.png",
        "scene_05_three_faces.png",
        "noface_coins.png",
    ] {
        let img = fixture(name);
        let (w, h) = (img.width(), img.height());
        let mut plain = Integrals::default();
        plain.compute(&img, false, false);
        let reference_cascade = CompiledCascade::new(&cascade, plain.stride, false);
        let rows = h + 1 - 24;
        let _ = w;
        for step in [1, 2] {
            let split = step == 2;
            let mut t = Integrals::default();
            t.compute(&img, false, split);
            let cc = CompiledCascade::new(&cascade, t.stride, split);
            let mut fast = Vec::new();
            cc.scan_rows(&t, 0..rows, step, &mut fast);
            let expected = reference_scan(&reference_cascade, &plain, rows, step);
            assert_eq!(fast, expected, "{name} step {step}");
            total_hits += fast.len();
        }
    }
    assert!(total_hits > 0, "the images must exercise accepted windows");
}

fn chunked_equals_reference(cascade: &Cascade, name: &str) -> usize {
    let img = fixture(name);
    let mut plain = Integrals::default();
    plain.compute(&img, cascade.has_tilted_features(), false);
    let reference_cascade = CompiledCascade::new(cascade, plain.stride, false);
    let rows = img.height() + 1 - cascade.window_size().1 as usize;
    let mut hits = 0;
    for step in [1, 2] {
        let mut t = Integrals::default();
        t.compute(&img, cascade.has_tilted_features(), step == 2);
        let cc = CompiledCascade::new(cascade, t.stride, step == 2);
        let mut fast = Vec::new();
        cc.scan_rows(&t, 0..rows, step, &mut fast);
        assert_eq!(
            fast,
            reference_scan(&reference_cascade, &plain, rows, step),
            "{name} step {step}"
        );
        hits += fast.len();
    }
    hits
}

#[test]
fn opencv_face_cascade_qualifies_for_the_fast_paths() {
    let cc = CompiledCascade::new(&Cascade::frontal_face_default(), 641, true);
    assert!(
        cc.stages.iter().all(|s| s.exact),
        "every stage sum is order-independent"
    );
    #[cfg(target_arch = "x86_64")]
    assert!(cc.gather.is_some());
}

#[test]
fn stages_with_inexact_sums_keep_opencv_order() {
    // A leaf of 1e-30 makes exact reordering impossible: the scanner must
    // fall back to sequential sums and still agree with the reference.
    let mut cascade = Cascade::frontal_face_default();
    for stage in &mut cascade.stages {
        stage.trees[0].leaves[0] = 1e-30;
    }
    let cc = CompiledCascade::new(&cascade, 641, false);
    assert!(cc.stages.iter().all(|s| !s.exact));
    #[cfg(target_arch = "x86_64")]
    assert!(cc.gather.is_none());
    assert!(chunked_equals_reference(&cascade, "scene_05_three_faces.png") > 0);
}

#[test]
fn tree_and_tilted_cascades_scan_like_the_reference() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vision/tests/fixtures/cascades");
    let load = |f: &str| Cascade::from_xml(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap();
    let alt2 = load("haarcascade_frontalface_alt2.xml");
    assert!(!alt2.is_stump_based());
    assert!(chunked_equals_reference(&alt2, "scene_05_three_faces.png") > 0);
    let eyes = load("haarcascade_eye_tree_eyeglasses.xml");
    assert!(eyes.has_tilted_features());
    assert!(chunked_equals_reference(&eyes, "photo_astronaut_small_256.png") > 0);
}
