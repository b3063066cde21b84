//! Melodora's reference run of BlazeFace (`tflite::interpret`) against
//! TFLite's own runtime (LiteRT) on the same inputs: the fixtures are the
//! resized scenes and LiteRT's raw outputs, written by
//! `bench/blazeface_reference.py`. Every output value must agree within
//! `TOLERANCE` (relative to the value, absolute below 1): the same
//! arithmetic in another order.

use melodora_detector::tflite::{interpret, CompiledGraph, TfliteModel};

/// How far a value may be from LiteRT's.
const TOLERANCE: f32 = 1e-4;

const CASES: [(&str, &str); 4] = [
    ("face_detection_short_range.tflite", "scene_02_one_face_128"),
    (
        "face_detection_short_range.tflite",
        "scene_05_three_faces_128",
    ),
    ("face_detection_full_range.tflite", "scene_02_one_face_192"),
    (
        "face_detection_full_range.tflite",
        "scene_05_three_faces_192",
    ),
];

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> std::path::PathBuf {
    root().join("crates/detector/tests/fixtures/blazeface")
}

/// The model, and a case's input as MediaPipe normalises it (x / 127.5 - 1).
fn model_and_input(model_name: &str, case: &str) -> (TfliteModel, Vec<f32>) {
    let bytes = std::fs::read(root().join("assets/blazeface").join(model_name)).unwrap();
    let model = TfliteModel::parse(&bytes).unwrap();
    let image = image::open(fixtures().join(format!("{case}.png")))
        .unwrap()
        .to_rgb8();
    let input = image
        .as_raw()
        .iter()
        .map(|&p| p as f32 / 127.5 - 1.0)
        .collect();
    (model, input)
}

#[test]
fn the_reference_run_gives_tflites_outputs() {
    for (model_name, case) in CASES {
        let (model, input) = model_and_input(model_name, case);
        let expected: Vec<f32> = std::fs::read(fixtures().join(format!("{case}.f32")))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut outputs = interpret(&model, &input).unwrap();
        // Regressors (16 per anchor) first, then scores, as the fixture holds them.
        outputs.sort_by_key(|o| std::cmp::Reverse(o.len()));
        let got: Vec<f32> = outputs.concat();
        assert_eq!(got.len(), expected.len(), "{case}");
        let (mut worst, mut at) = (0f32, 0);
        for (i, (&g, &e)) in got.iter().zip(&expected).enumerate() {
            let off = (g - e).abs() / e.abs().max(1.0);
            if off > worst || off.is_nan() {
                (worst, at) = (off, i);
            }
        }
        eprintln!(
            "{case}: worst relative difference {worst:.2e} (value {at}: {} vs {})",
            got[at], expected[at]
        );
        assert!(
            worst <= TOLERANCE,
            "{case}: value {at} is {} where TFLite gives {}",
            got[at],
            expected[at]
        );
    }
}

/// The compiled graph (fused, packed, register-tiled kernels) gives the
/// reference run's outputs on the same fixtures, within 5e-5 relative:
/// the AVX2 and AVX-512 kernels fuse each multiply-add (one rounding where
/// the reference has two), over some thirty layers.
#[test]
fn the_compiled_graph_gives_the_reference_runs_outputs() {
    for (model_name, case) in CASES {
        let (model, input) = model_and_input(model_name, case);
        let reference = interpret(&model, &input).unwrap();
        let compiled = CompiledGraph::compile(model).unwrap().run(&input).unwrap();
        assert_eq!(compiled.len(), reference.len());
        for (c, r) in compiled.iter().zip(&reference) {
            assert_eq!(c.len(), r.len(), "{case}");
            let worst = c
                .iter()
                .zip(r)
                .map(|(&a, &b)| (a - b).abs() / b.abs().max(1.0))
                .fold(0f32, f32::max);
            assert!(worst <= 5e-5, "{case}: worst relative difference {worst:e}");
        }
    }
}
