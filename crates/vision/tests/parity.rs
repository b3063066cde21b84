//! Box-for-box parity with OpenCV 4.x `CascadeClassifier::detectMultiScale`.
//!
//! `fixtures/parity/expected.json` holds OpenCV's output on the fixture
//! images for several cascades and parameter sets; it is produced by
//! `bench/opencv_reference.py` (see that script for how to regenerate).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use melodora_core::FaceBox;
use melodora_vision::{load_image, Cascade, DecodeLimits, DetectParams, GrayImage, HaarDetector};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    opencv_version: String,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    cascade: String,
    scale_factor: f64,
    min_neighbors: u32,
    min_size: u32,
    max_size: u32,
    boxes: HashMap<String, Vec<[i32; 4]>>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load_gray(name: &str) -> GrayImage {
    let path = fixtures().join("parity/images").join(name);
    let img = load_image(&path, &DecodeLimits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    GrayImage::from_dynamic(&img)
}

fn load_cascade(name: &str) -> Cascade {
    let text = std::fs::read_to_string(fixtures().join("cascades").join(name)).unwrap();
    Cascade::from_xml(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(fixtures().join("parity/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn params(run: &Run) -> DetectParams {
    DetectParams {
        scale_factor: run.scale_factor,
        min_neighbors: run.min_neighbors,
        min_size: (run.min_size, run.min_size),
        max_size: (run.max_size, run.max_size),
    }
}

fn sorted(mut v: Vec<FaceBox>) -> Vec<FaceBox> {
    v.sort_by_key(|b| (b.x, b.y, b.w, b.h));
    v
}

/// Counts of OpenCV boxes matched (IoU >= 0.9, one-to-one) and of our extra boxes.
fn match_counts(ours: &[FaceBox], theirs: &[FaceBox]) -> (usize, usize) {
    let mut used = vec![false; ours.len()];
    let mut matched = 0;
    for t in theirs {
        let best = ours
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .map(|(i, o)| (i, o.iou(t)))
            .filter(|&(_, iou)| iou >= 0.9)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, _)) = best {
            used[i] = true;
            matched += 1;
        }
    }
    (matched, ours.len() - matched)
}

struct RunStats {
    images: usize,
    exact_images: usize,
    theirs: usize,
    matched: usize,
    extra: usize,
}

fn check_run(run: &Run, detector: &HaarDetector) -> RunStats {
    let p = params(run);
    let mut stats = RunStats {
        images: 0,
        exact_images: 0,
        theirs: 0,
        matched: 0,
        extra: 0,
    };
    let mut names: Vec<&String> = run.boxes.keys().collect();
    names.sort();
    for name in names {
        let theirs: Vec<FaceBox> = run.boxes[name]
            .iter()
            .map(|b| FaceBox::new(b[0], b[1], b[2], b[3]))
            .collect();
        let ours = detector.detect(&load_gray(name), &p).unwrap();
        let (m, e) = match_counts(&ours, &theirs);
        stats.images += 1;
        stats.theirs += theirs.len();
        stats.matched += m;
        stats.extra += e;
        if sorted(ours.clone()) == sorted(theirs.clone()) {
            stats.exact_images += 1;
        } else {
            eprintln!(
                "  {} sf={} mn={}: {name}: ours {} boxes, OpenCV {} ({} matched)",
                run.cascade,
                run.scale_factor,
                run.min_neighbors,
                ours.len(),
                theirs.len(),
                m
            );
        }
    }
    stats
}

/// Every run, every image: the same boxes as OpenCV (as multisets; OpenCV's
/// order depends on its thread count). This is stricter than the issue's
/// criterion (>= 98% matched at IoU 0.9, <= 2% extra), which is asserted too.
#[test]
fn matches_opencv_on_all_fixture_runs() {
    let expected = expected();
    assert!(
        expected.opencv_version.starts_with("4."),
        "reference must be OpenCV 4.x"
    );
    assert!(expected.runs.len() >= 8);
    let mut cascades: HashMap<String, HaarDetector> = HashMap::new();
    let mut failures = Vec::new();
    for run in &expected.runs {
        let detector = cascades
            .entry(run.cascade.clone())
            .or_insert_with(|| HaarDetector::new(load_cascade(&run.cascade)));
        let s = check_run(run, detector);
        let matched_pct = if s.theirs == 0 {
            100.0
        } else {
            100.0 * s.matched as f64 / s.theirs as f64
        };
        let extra_pct = if s.theirs == 0 {
            0.0
        } else {
            100.0 * s.extra as f64 / s.theirs as f64
        };
        eprintln!(
            "{} sf={} mn={} min={} max={}: {}/{} images exact; {}/{} boxes matched ({matched_pct:.2}%), {} extra ({extra_pct:.2}%)",
            run.cascade, run.scale_factor, run.min_neighbors, run.min_size, run.max_size,
            s.exact_images, s.images, s.matched, s.theirs, s.extra
        );
        if matched_pct < 98.0 || (s.theirs > 0 && extra_pct > 2.0) || (s.theirs == 0 && s.extra > 0)
        {
            failures.push(format!(
                "{} sf={} mn={}: issue criterion not met",
                run.cascade, run.scale_factor, run.min_neighbors
            ));
        }
        if s.exact_images != s.images {
            failures.push(format!(
                "{} sf={} mn={}: {} of {} images differ from OpenCV",
                run.cascade,
                run.scale_factor,
                run.min_neighbors,
                s.images - s.exact_images,
                s.images
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The named settings are present in the fixtures with enough images.
#[test]
fn fixtures_cover_the_required_settings() {
    let expected = expected();
    for (sf, mn) in [(1.1, 5), (1.3, 5)] {
        let run = expected
            .runs
            .iter()
            .find(|r| {
                r.cascade == "haarcascade_frontalface_default.xml"
                    && r.scale_factor == sf
                    && r.min_neighbors == mn
            })
            .unwrap_or_else(|| panic!("no run for ({sf}, {mn})"));
        assert!(
            run.boxes.len() >= 30,
            "({sf}, {mn}) covers only {} images",
            run.boxes.len()
        );
        let with_faces = run.boxes.values().filter(|b| !b.is_empty()).count();
        let without = run.boxes.len() - with_faces;
        assert!(
            with_faces >= 20 && without >= 5,
            "{with_faces} with faces, {without} without"
        );
    }
}

/// Single-thread and multi-thread detection find the same boxes, and the
/// single-thread order is deterministic.
#[test]
fn thread_count_does_not_change_results() {
    let cascade = load_cascade("haarcascade_frontalface_default.xml");
    let one = HaarDetector::new(cascade.clone()).with_threads(1).unwrap();
    let two = HaarDetector::new(cascade).with_threads(2).unwrap();
    for name in [
        "scene_07_four_faces.png",
        "photo_lfw_faces_grid_640x480.png",
        "noface_coins.png",
    ] {
        let img = load_gray(name);
        for mn in [0, 5] {
            let p = DetectParams {
                min_neighbors: mn,
                ..DetectParams::default()
            };
            let a = one.detect(&img, &p).unwrap();
            assert_eq!(
                a,
                one.detect(&img, &p).unwrap(),
                "{name}: single-thread order is stable"
            );
            assert_eq!(
                sorted(a),
                sorted(two.detect(&img, &p).unwrap()),
                "{name} mn={mn}"
            );
        }
    }
}

/// The old cascade dialect gives exactly what the current one gives for the
/// same classifier (OpenCV verified the same on these images).
#[test]
fn old_format_cascade_matches_current_format() {
    let old = HaarDetector::new(load_cascade("frontalface_default_oldformat.xml"))
        .with_threads(1)
        .unwrap();
    let new = HaarDetector::new(load_cascade("haarcascade_frontalface_default.xml"))
        .with_threads(1)
        .unwrap();
    assert_eq!(old.cascade().stages().len(), new.cascade().stages().len());
    for name in [
        "scene_07_four_faces.png",
        "photo_astronaut.png",
        "noface_coins.png",
    ] {
        let img = load_gray(name);
        let p = DetectParams {
            min_neighbors: 0,
            ..DetectParams::default()
        };
        assert_eq!(
            old.detect(&img, &p).unwrap(),
            new.detect(&img, &p).unwrap(),
            "{name}"
        );
    }
}
