//! Haar detection on 640x480 scenes, one thread: a full scan at OpenCV's two
//! usual parameter sets, and a tracked frame (search near known faces).

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use melodora_vision::tracking::{FaceTracker, TrackingConfig};
use melodora_vision::{
    load_image, Cascade, DecodeLimits, DetectParams, FaceFinder, GrayImage, HaarDetector,
};

fn scene(name: &str) -> GrayImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parity/images")
        .join(name);
    GrayImage::from_dynamic(&load_image(&path, &DecodeLimits::default()).expect("fixture"))
}

fn detection(c: &mut Criterion) {
    let detector = HaarDetector::new(Cascade::frontal_face_default())
        .with_threads(1)
        .expect("one thread");
    let frame = scene("scene_06_three_faces.png");
    let mut group = c.benchmark_group("haar_640x480");
    for scale_factor in [1.1, 1.3] {
        let params = DetectParams {
            scale_factor,
            ..DetectParams::default()
        };
        group.bench_function(format!("full_scan_{scale_factor}"), |b| {
            b.iter(|| detector.detect(&frame, &params).expect("valid params"))
        });
    }
    let params = DetectParams::default();
    let never_rescan = TrackingConfig {
        full_scan_interval: u32::MAX,
        ..TrackingConfig::default()
    };
    let mut tracker = FaceTracker::new(never_rescan);
    let finder = FaceFinder::Haar {
        detector: detector.clone(),
        params,
    };
    tracker.detect(&finder, &frame).expect("first scan");
    group.bench_function("tracked_1.1", |b| {
        b.iter(|| tracker.detect(&finder, &frame).expect("valid params"))
    });
    group.finish();
}

criterion_group!(benches, detection);
criterion_main!(benches);
