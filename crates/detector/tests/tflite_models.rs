//! The vendored BlazeFace models (assets/blazeface, from the npm package
//! `@mediapipe/face_detection`) read as the graphs MediaPipe documents:
//! 128x128 (short range) and 192x192 (full range) RGB in, 896 and 2304
//! anchors out with 16 box-and-keypoint values and one score each, made of
//! operators a direct engine can run; and damaged files are errors.

use melodora_detector::tflite::{OpKind, TfliteModel};

fn model(name: &str) -> TfliteModel {
    let path = format!(
        "{}/../../assets/blazeface/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    TfliteModel::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn shapes(model: &TfliteModel, tensors: &[usize]) -> Vec<Vec<usize>> {
    tensors
        .iter()
        .map(|&i| model.tensors[i].shape.clone())
        .collect()
}

/// Operator names, counted, sorted (for messages and checks).
fn census(model: &TfliteModel) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for op in &model.operators {
        let name = format!("{:?}", op.kind);
        let name = name.split([' ', '{', '(']).next().unwrap().to_string();
        *counts.entry(name).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

fn check(name: &str, side: usize, anchors: usize) {
    let model = model(name);
    assert_eq!(
        shapes(&model, &model.inputs),
        [vec![1, side, side, 3]],
        "{name}"
    );
    let mut outputs = shapes(&model, &model.outputs);
    outputs.sort();
    assert_eq!(
        outputs,
        [vec![1, anchors, 1], vec![1, anchors, 16]],
        "{name}"
    );
    let census = census(&model);
    for op in &model.operators {
        assert!(
            !matches!(op.kind, OpKind::Other(_)),
            "{name}: {:?} in {census:?}",
            op.kind
        );
        if let OpKind::Conv2d { .. } | OpKind::DepthwiseConv2d { .. } = op.kind {
            // Weights are constants (after a Dequantize when stored as float16).
            let weights = op.inputs[1].expect("weights");
            let made_by_dequantize = model.operators.iter().any(|d| {
                d.kind == OpKind::Dequantize
                    && d.outputs == [weights]
                    && d.inputs[0].is_some_and(|i| model.tensors[i].data.is_some())
            });
            assert!(
                model.tensors[weights].data.is_some() || made_by_dequantize,
                "{name}: weights of {:?}",
                op.kind
            );
        }
    }
    let convolutions: usize = census
        .iter()
        .filter(|(op, _)| op.contains("Conv2d"))
        .map(|(_, n)| n)
        .sum();
    assert!(convolutions > 20, "{name}: {census:?}");
    eprintln!("{name}: {} tensors, {census:?}", model.tensors.len());
}

#[test]
fn the_short_range_model_reads_as_blazeface() {
    check("face_detection_short_range.tflite", 128, 896);
}

#[test]
fn the_full_range_model_reads_as_blazeface() {
    check("face_detection_full_range.tflite", 192, 2304);
}

/// The committed models are the package's: each matches the hash that
/// `scripts/vendor_models.sh` pins (and wrote into SHA256SUMS).
#[test]
fn the_committed_models_are_the_ones_the_vendoring_script_pins() {
    use sha2::{Digest, Sha256};
    let dir = format!("{}/../../assets/blazeface", env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(format!(
        "{}/../../scripts/vendor_models.sh",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for name in [
        "face_detection_short_range.tflite",
        "face_detection_full_range.tflite",
    ] {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            script.contains(&format!("[{name}]={hash}")),
            "{name} ({hash}) is not the pinned file"
        );
    }
    assert!(std::fs::read_to_string(format!("{dir}/LICENSE"))
        .unwrap()
        .contains("Apache License"));
}

#[test]
fn a_damaged_model_is_an_error_or_a_model_never_a_panic() {
    let path = format!(
        "{}/../../assets/blazeface/face_detection_short_range.tflite",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    for len in [0, 7, 8, 100, 1000, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            TfliteModel::parse(&bytes[..len]).is_err(),
            "cut to {len} bytes"
        );
    }
    // Bytes flipped through the header, the tables and the weights: any
    // answer but a panic (a flipped weight still reads as a model).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..300 {
        let mut damaged = bytes.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % 4096) as usize;
            damaged[at] ^= (state >> 32) as u8 | 1;
        }
        let _ = TfliteModel::parse(&damaged);
    }
}
