//! The emotion classifier: the embedded model, user models with sidecars,
//! label mapping, batching, and every way a model can be wrong.

use std::path::{Path, PathBuf};

use melodora_core::GrayImage;
use melodora_core::{Emotion, ErrorChain};
use melodora_emotion::EmotionClassifier;
use melodora_emotion::{Layout, ModelDescription, ModelError, OutputKind, DEFAULT_MODEL_ONNX};

/// Five different face-sized crops of a real photo (a face among them).
fn fer_faces() -> Vec<GrayImage> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vision/tests/fixtures/parity/images/photo_astronaut_small_256.png");
    let img = GrayImage::from_dynamic(&image::open(&path).unwrap());
    (0..5).map(|i| img.crop(20 * i, 10 * i, 96, 96)).collect()
}

fn default_description() -> ModelDescription {
    EmotionClassifier::default_model()
        .unwrap()
        .description()
        .clone()
}

#[test]
fn default_model_describes_itself() {
    let c = EmotionClassifier::default_model().unwrap();
    let d = c.description();
    assert_eq!(
        (d.input.width, d.input.height, d.input.channels),
        (48, 48, 1)
    );
    assert_eq!(d.emotions().unwrap(), Emotion::ALL.to_vec());
}

#[test]
fn batched_and_single_runs_agree_and_sum_to_one() {
    let c = EmotionClassifier::default_model().unwrap();
    let faces = fer_faces();
    let batch = c.classify(&faces).unwrap();
    assert_eq!(batch.len(), faces.len());
    for (face, b) in faces.iter().zip(&batch) {
        let single = &c.classify(std::slice::from_ref(face)).unwrap()[0];
        let sum: f32 = b.as_array().iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
        for (x, y) in b.as_array().iter().zip(single.as_array()) {
            assert!((x - y).abs() < 1e-4, "batch {x} vs single {y}");
        }
    }
    assert!(c.classify(&[]).unwrap().is_empty());
}

#[test]
fn labels_follow_the_description_order() {
    let faces = fer_faces();
    let ours = EmotionClassifier::default_model()
        .unwrap()
        .classify(&faces)
        .unwrap();
    // Same model, labels declared in reverse: every probability moves.
    let mut desc = default_description();
    desc.labels.reverse();
    let reversed = EmotionClassifier::from_onnx_bytes(DEFAULT_MODEL_ONNX, Some(desc)).unwrap();
    let theirs = reversed.classify(&faces).unwrap();
    for (a, b) in ours.iter().zip(&theirs) {
        for (i, e) in Emotion::ALL.iter().enumerate() {
            let mirrored = Emotion::ALL[6 - i];
            assert!((a.get(*e) - b.get(mirrored)).abs() < 1e-5);
        }
    }
}

#[test]
fn rejects_files_that_are_not_onnx() {
    for bytes in [
        &b"hello, I am not a model"[..],
        &[],
        &DEFAULT_MODEL_ONNX[..DEFAULT_MODEL_ONNX.len() / 3],
    ] {
        let err =
            EmotionClassifier::from_onnx_bytes(bytes, Some(default_description())).unwrap_err();
        assert!(matches!(err, ModelError::NotOnnx(_)), "{err}");
        assert!(err.to_string().contains("not an ONNX model"), "{err}");
    }
}

#[test]
fn rejects_a_description_that_does_not_fit_the_model() {
    let mut nhwc = default_description();
    nhwc.input.layout = Layout::Nhwc;
    let err = EmotionClassifier::from_onnx_bytes(DEFAULT_MODEL_ONNX, Some(nhwc)).unwrap_err();
    assert!(matches!(err, ModelError::Mismatch(_)), "{err}");

    let mut five = default_description();
    five.labels.truncate(5);
    let err = EmotionClassifier::from_onnx_bytes(DEFAULT_MODEL_ONNX, Some(five)).unwrap_err();
    let shown = ErrorChain(&err).to_string();
    assert!(shown.contains("one score per label"), "{shown}");
}

#[test]
fn outputs_that_are_not_probabilities_are_an_error_not_the_first_emotion() {
    let faces = fer_faces();
    // Logits read as probabilities: negative "probabilities".
    let mut as_probabilities = default_description();
    as_probabilities.output = OutputKind::Probabilities;
    let c = EmotionClassifier::from_onnx_bytes(DEFAULT_MODEL_ONNX, Some(as_probabilities)).unwrap();
    let err = c.classify(&faces).unwrap_err();
    assert!(matches!(err, ModelError::Inference(_)), "{err}");
    let shown = ErrorChain(&err).to_string();
    assert!(shown.contains("logits"), "{shown}");
}

fn write_model(dir: &Path, sidecar: Option<&str>) -> PathBuf {
    let model = dir.join("model.onnx");
    std::fs::write(&model, DEFAULT_MODEL_ONNX).unwrap();
    if let Some(json) = sidecar {
        std::fs::write(dir.join("model.onnx.json"), json).unwrap();
    }
    model
}

#[test]
fn sidecar_overrides_metadata_and_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let mut desc = default_description();
    desc.name = Some("from-sidecar".into());
    let model = write_model(dir.path(), Some(&serde_json::to_string(&desc).unwrap()));
    let c = EmotionClassifier::from_path(&model, None).unwrap();
    assert_eq!(c.description().name.as_deref(), Some("from-sidecar"));

    let unknown = serde_json::to_string(&desc)
        .unwrap()
        .replacen('{', "{\"colour\": \"red\",", 1);
    std::fs::write(dir.path().join("model.onnx.json"), unknown).unwrap();
    let err = EmotionClassifier::from_path(&model, None).unwrap_err();
    let msg = ErrorChain(&err).to_string();
    assert!(
        msg.contains("unknown field `colour`") && msg.contains("model.onnx.json"),
        "{msg}"
    );
}

#[test]
fn missing_model_file_is_an_io_error() {
    let err = EmotionClassifier::from_path(Path::new("/nonexistent/model.onnx"), None).unwrap_err();
    assert!(matches!(err, ModelError::Io(_)), "{}", ErrorChain(&err));
}
