//! The browser's analyzer, run natively: it must find the boxes the native
//! pipeline finds, classify them, follow the largest face into a stable
//! mood under the server's settings, and refuse malformed frames with a
//! message.

use std::path::Path;

use melodora_core::{Calibration, Emotion, EmotionProbabilities, FaceBox, GrayImage};
use melodora_vision::FrameReport;
use melodora_vision::{
    AnalysisSettings, Cascade, DetectParams, DetectorChoice, FaceFinder, HaarDetector, Range,
    FULL_RANGE_TFLITE, SHORT_RANGE_TFLITE,
};
use melodora_wasm::{gray_from_rgba, Analyzer};

fn assets() -> (String, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
    (
        std::fs::read_to_string(dir.join("haarcascade_frontalface_default.xml")).unwrap(),
        std::fs::read(dir.join("emotion.onnx")).unwrap(),
    )
}

/// A parity fixture as the page would hand it over: RGBA bytes.
fn rgba(name: &str) -> (u32, u32, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vision/tests/fixtures/parity/images")
        .join(name);
    let img = image::open(path).unwrap().to_rgba8();
    (img.width(), img.height(), img.into_raw())
}

#[test]
fn finds_the_native_boxes_and_classifies_them() {
    let (cascade, model) = assets();
    let mut analyzer = Analyzer::load(&cascade, &model, None).unwrap();
    analyzer.set_tracking(false);
    let (w, h, pixels) = rgba("scene_06_three_faces.png");
    let gray = gray_from_rgba(w, h, &pixels).unwrap();
    let json = analyzer.analyze_rgba(w, h, &pixels, 0.0).unwrap();
    let frame: serde_json::Value = serde_json::from_str(&json).unwrap();

    let native = HaarDetector::new(Cascade::frontal_face_default())
        .detect(&gray, &DetectParams::default())
        .unwrap();
    let faces = frame["faces"].as_array().unwrap();
    assert_eq!(faces.len(), native.len());
    assert_eq!(native.len(), 3, "the scene has three faces");
    for (face, expected) in faces.iter().zip(&native) {
        let got = [&face["x"], &face["y"], &face["w"], &face["h"]].map(|v| v.as_i64().unwrap());
        let want = [expected.x, expected.y, expected.w, expected.h].map(i64::from);
        assert_eq!(got, want);
        let sum: f64 = face["probabilities"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-3, "{face}");
    }
    assert_eq!(frame["scan"], "full");
}

#[test]
fn a_steady_face_becomes_the_stable_mood_after_the_dwell_time() {
    let (cascade, model) = assets();
    let mut analyzer = Analyzer::load(&cascade, &model, None).unwrap();
    let (w, h, pixels) = rgba("scene_02_one_face.png");
    let gray = gray_from_rgba(w, h, &pixels).unwrap();
    let mut changes = Vec::new();
    let mut scans = Vec::new();
    let mut last: Option<FrameReport> = None;
    for frame in 0..40 {
        let out = analyzer.analyze(&gray, f64::from(frame) * 50.0).unwrap();
        if out.mood_changed {
            changes.push(frame);
        }
        scans.push(out.scan);
        last = Some(out);
    }
    let last = last.unwrap();
    assert_eq!(changes.len(), 1, "one change, once the dwell time passed");
    assert!(
        changes[0] * 50 >= 700,
        "not before the 700 ms dwell: {changes:?}"
    );
    let mood = last.mood.expect("a stable mood");
    assert_eq!(mood.emotion, last.faces[0].emotion);
    assert!(scans.contains(&"tracked"), "tracking is on by default");

    analyzer.reset();
    let out = analyzer.analyze(&gray, 5000.0).unwrap();
    assert!(out.mood.is_none(), "reset forgets the mood");
}

/// Calibrated on the face's own readings, every later reading of it is the
/// calibration applied (neutral up, its emotion down); uncalibrated again,
/// it reads as before.
#[test]
fn a_calibration_corrects_every_face_and_can_be_taken_back() {
    let (cascade, model) = assets();
    let mut analyzer = Analyzer::load(&cascade, &model, None).unwrap();
    analyzer.set_tracking(false);
    let (w, h, pixels) = rgba("scene_02_one_face.png");
    let gray = gray_from_rgba(w, h, &pixels).unwrap();
    let before = analyzer.analyze(&gray, 0.0).unwrap();
    let face = &before.faces[0];
    assert_ne!(
        face.emotion,
        Emotion::Neutral,
        "the fixture's face must not already read neutral"
    );
    let reading: EmotionProbabilities =
        serde_json::from_value(serde_json::to_value(&face.probabilities).unwrap()).unwrap();
    let calibration = Calibration::from_resting(&[reading; 5]).unwrap();
    analyzer.use_calibration(Some(calibration));
    let calibrated = &analyzer.analyze(&gray, 50.0).unwrap().faces[0];
    let expected = calibration.apply(&reading);
    for (emotion, p) in expected.iter() {
        assert!((calibrated.probabilities[emotion.name()] - p).abs() < 1e-6);
    }
    let name = face.emotion.name();
    assert!(calibrated.probabilities[name] < face.probabilities[name]);
    assert!(calibrated.probabilities["neutral"] > face.probabilities["neutral"]);
    analyzer.use_calibration(None);
    assert_eq!(analyzer.analyze(&gray, 100.0).unwrap().faces[0], *face);
}

/// A photo is scanned whole and classified, as a frame would be, without
/// touching the camera's mood.
#[test]
fn a_photo_is_read_whole_and_leaves_the_cameras_mood_alone() {
    let (cascade, model) = assets();
    let mut analyzer = Analyzer::load(&cascade, &model, None).unwrap();
    let (w, h, pixels) = rgba("scene_02_one_face.png");
    let gray = gray_from_rgba(w, h, &pixels).unwrap();
    let mut mood = None;
    for frame in 0..20 {
        mood = analyzer
            .analyze(&gray, f64::from(frame) * 50.0)
            .unwrap()
            .mood;
    }
    let mood = mood.expect("a stable mood from the camera");
    let (w3, h3, three) = rgba("scene_06_three_faces.png");
    let photo = analyzer
        .analyze_image(&gray_from_rgba(w3, h3, &three).unwrap())
        .unwrap();
    assert_eq!(photo.faces.len(), 3);
    assert_eq!(
        (photo.scan, photo.mood, photo.mood_changed),
        ("full", None, false)
    );
    let next = analyzer.analyze(&gray, 1000.0).unwrap();
    let next_mood = next.mood.expect("the camera's mood is kept");
    assert_eq!(next_mood.emotion, mood.emotion);
    assert!(
        (next_mood.confidence - mood.confidence).abs() < 0.01,
        "smoothing went on: {next_mood:?}"
    );
    assert!(!next.mood_changed);
    assert_eq!(next.scan, "tracked", "the camera's tracker was not reset");
}

#[test]
fn a_servers_settings_change_the_dwell_and_turn_tracking_off() {
    let (cascade, model) = assets();
    let mut analyzer = Analyzer::load(&cascade, &model, None).unwrap();
    let settings: AnalysisSettings = serde_json::from_str(
        r#"{"follow":"group","half_life_ms":250,"dwell_ms":1500,"min_confidence":0.4,"forget_after_ms":3000,"full_scan_every":null}"#,
    )
    .unwrap();
    analyzer.apply(settings);
    let (w, h, pixels) = rgba("scene_02_one_face.png");
    let gray = gray_from_rgba(w, h, &pixels).unwrap();
    let mut first_change = None;
    for frame in 0..50 {
        let out = analyzer.analyze(&gray, f64::from(frame) * 50.0).unwrap();
        assert_eq!(out.scan, "full", "tracking is off");
        if out.mood_changed && first_change.is_none() {
            first_change = Some(frame * 50);
        }
    }
    let at = first_change.expect("a mood within 2.5 s");
    assert!(at >= 1500, "the 1500 ms dwell was kept: {at} ms");
}

#[test]
fn malformed_frames_and_assets_are_refused_with_a_message() {
    assert!(gray_from_rgba(0, 10, &[]).unwrap_err().contains("0x10"));
    assert!(gray_from_rgba(2, 2, &[0; 15])
        .unwrap_err()
        .contains("15 bytes"));
    assert!(gray_from_rgba(100_000, 1, &[]).is_err());
    assert_eq!(
        gray_from_rgba(1, 1, &[255, 0, 0, 7]).unwrap(),
        GrayImage::from_pixels(1, 1, vec![76]).unwrap()
    );

    let (cascade, model) = assets();
    let refusal = |cascade: &str, model: &[u8], description: Option<&str>| match Analyzer::load(
        cascade,
        model,
        description,
    ) {
        Ok(_) => panic!("loaded"),
        Err(e) => melodora_core::ErrorChain(&*e).to_string(),
    };
    let not_a_cascade = refusal("<opencv_storage>", &model, None);
    assert!(
        not_a_cascade.contains("not a valid XML document"),
        "{not_a_cascade}"
    );
    let not_onnx = refusal(&cascade, b"not a model", None);
    assert!(not_onnx.contains("not an ONNX model"), "{not_onnx}");
    let bad_description = refusal(&cascade, &model, Some("{"));
    assert!(bad_description.contains("description"), "{bad_description}");
}

#[test]
fn blazeface_from_the_pages_copy_finds_the_native_faces_and_tracks_them() {
    let (cascade, model) = assets();
    let mut analyzer = Analyzer::load(&cascade, &model, None).unwrap();
    analyzer
        .switch_detector(DetectorChoice::Blazeface, Some(SHORT_RANGE_TFLITE))
        .unwrap();
    assert_eq!(
        analyzer.settings().detector,
        DetectorChoice::Blazeface,
        "the settings say which detector runs"
    );
    let (w, h, pixels) = rgba("scene_06_three_faces.png");
    let gray = gray_from_rgba(w, h, &pixels).unwrap();
    let native = FaceFinder::blazeface(Range::Short).find(&gray).unwrap();
    assert!(!native.is_empty());
    let mut scans = Vec::new();
    for frame in 0..3 {
        let json = analyzer
            .analyze_rgba(w, h, &pixels, f64::from(frame) * 40.0)
            .unwrap();
        let frame: serde_json::Value = serde_json::from_str(&json).unwrap();
        let faces = frame["faces"].as_array().unwrap();
        assert_eq!(faces.len(), native.len(), "{frame}");
        for face in faces {
            let got = FaceBox::new(
                face["x"].as_i64().unwrap() as i32,
                face["y"].as_i64().unwrap() as i32,
                face["w"].as_i64().unwrap() as i32,
                face["h"].as_i64().unwrap() as i32,
            );
            let best = native.iter().map(|f| f.face.iou(&got)).fold(0.0, f64::max);
            assert!(best > 0.7, "{got:?} is one of {native:?}");
            assert!(face["probabilities"].is_object());
        }
        scans.push(frame["scan"].as_str().unwrap().to_string());
    }
    assert_eq!(
        scans,
        ["full", "tracked", "tracked"],
        "tracking works with BlazeFace"
    );

    // Back to Haar: the cascade's boxes again.
    analyzer
        .switch_detector(DetectorChoice::Haar, None)
        .unwrap();
    analyzer.set_tracking(false);
    let report = analyzer.analyze(&gray, 200.0).unwrap();
    let haar = HaarDetector::new(Cascade::frontal_face_default())
        .detect(&gray, &DetectParams::default())
        .unwrap();
    let boxes: Vec<FaceBox> = report.faces.iter().map(|f| f.face_box()).collect();
    assert_eq!(boxes, haar);
}

#[test]
fn a_wrong_or_missing_detector_model_is_refused_with_its_name() {
    let (cascade, model) = assets();
    let mut analyzer = Analyzer::load(&cascade, &model, None).unwrap();
    let message = |e: Box<dyn std::error::Error>| melodora_core::ErrorChain(&*e).to_string();
    let missing = message(
        analyzer
            .switch_detector(DetectorChoice::BlazefaceFull, None)
            .unwrap_err(),
    );
    assert!(
        missing.contains("face_detection_full_range.tflite"),
        "{missing}"
    );
    let truncated = message(
        analyzer
            .switch_detector(DetectorChoice::Blazeface, Some(&SHORT_RANGE_TFLITE[..1000]))
            .unwrap_err(),
    );
    assert!(
        truncated.contains("face_detection_short_range.tflite"),
        "{truncated}"
    );
    // The full-range model is not the short-range one.
    let swapped = message(
        analyzer
            .switch_detector(DetectorChoice::Blazeface, Some(FULL_RANGE_TFLITE))
            .unwrap_err(),
    );
    assert!(swapped.contains("not a Short-range BlazeFace"), "{swapped}");
    // Still Haar, still working.
    assert_eq!(analyzer.settings().detector, DetectorChoice::Haar);
    let (w, h, pixels) = rgba("scene_02_one_face.png");
    assert!(analyzer.analyze_rgba(w, h, &pixels, 0.0).is_ok());
}
