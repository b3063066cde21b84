//! `melodora eval` end to end: on FER2013 val (from ../shared) with the
//! embedded model, and on hand-made folders for the layout rules.

use std::path::{Path, PathBuf};
use std::process::Command;

fn melodora() -> Command {
    Command::new(env!("CARGO_BIN_EXE_melodora"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fer_val() -> PathBuf {
    let dir = repo().join("../shared/datasets/fer2013/val");
    assert!(
        dir.is_dir(),
        "FER2013 val not found at {} (see README: Data)",
        dir.display()
    );
    dir
}

fn eval_json(args: &[&str]) -> serde_json::Value {
    let out = melodora()
        .arg("eval")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The model card states "N of M images" correct on val; `melodora eval`
/// must print exactly that.
#[test]
fn embedded_model_scores_what_its_model_card_says() {
    let report = eval_json(&[fer_val().to_str().unwrap()]);
    let n = report["n"].as_u64().unwrap();
    let accuracy = report["accuracy"].as_f64().unwrap();
    assert_eq!(n, 3589);
    let card = std::fs::read_to_string(repo().join("assets/MODEL_CARD.md")).unwrap();
    let claim = card
        .lines()
        .find_map(|l| {
            let i = l.find(" of 3589 images")?;
            let digits: String = l[..i]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.chars().rev().collect::<String>().parse::<u64>().ok()
        })
        .expect("MODEL_CARD.md states 'N of 3589 images'");
    assert_eq!(
        (accuracy * n as f64).round() as u64,
        claim,
        "accuracy {accuracy}"
    );
    let confusion = report["confusion"].as_array().unwrap();
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, n);
    assert_eq!(report["labels"][1], "disgust");
    assert!(report["per_class"]["happy"]["recall"].as_f64().unwrap() > 0.5);
}

/// The calibration study on val (docs/CALIBRATION.md): calibrating on
/// truly neutral faces (30 frames, no lean) never costs more than half a
/// point, and a person read 2 nats sadder gets most of the loss back.
#[test]
fn calibration_costs_unbiased_people_nothing_and_wins_back_a_sad_lean() {
    let report = eval_json(&[
        fer_val().to_str().unwrap(),
        "--calibration",
        "--people",
        "100",
    ]);
    let rows = report["calibration"].as_array().unwrap();
    assert_eq!(rows.len(), 9);
    let row = |lean: Option<&str>, bias: f64, frames: u64| {
        rows.iter()
            .find(|r| {
                r["bias_toward"].as_str() == lean
                    && (r["bias"].as_f64().unwrap() - bias).abs() < 1e-6
                    && r["frames"] == frames
            })
            .unwrap_or_else(|| panic!("no row {lean:?} {bias} {frames}"))
    };
    let unbiased = row(None, 0.0, 30);
    let model = unbiased["accuracy_model"].as_f64().unwrap();
    assert!((model - report["accuracy"].as_f64().unwrap()).abs() < 1e-9);
    let worst = unbiased["accuracy_calibrated_min"].as_f64().unwrap();
    assert!(
        model - worst <= 0.005,
        "calibration cost up to {:.2} points",
        (model - worst) * 100.0
    );
    let sad = row(Some("sad"), 2.0, 30);
    let biased = sad["accuracy_biased"].as_f64().unwrap();
    let calibrated = sad["accuracy_calibrated_mean"].as_f64().unwrap();
    assert!(
        model - biased > 0.03,
        "a 2-nat sad lean should cost points: {sad}"
    );
    assert!(
        calibrated - biased > 0.8 * (model - biased),
        "calibration won back too little: {sad}"
    );
}

/// Folders named like the original's song files count as those emotions.
#[test]
fn accepts_the_original_folder_names() {
    let dir = tempfile::tempdir().unwrap();
    for (ours, fer) in [
        ("disgusted", "disgust"),
        ("fearful", "fear"),
        ("surprised", "surprise"),
    ] {
        let target = dir.path().join(ours);
        std::fs::create_dir(&target).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(fer_val().join(fer))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.iter().take(3) {
            std::fs::copy(f, target.join(f.file_name().unwrap())).unwrap();
        }
    }
    std::fs::create_dir(dir.path().join("not_an_emotion")).unwrap();
    let report = eval_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(report["n"], 9);
    for e in ["disgust", "fear", "surprise"] {
        assert_eq!(report["per_class"][e]["support"], 3, "{e}");
    }
}

#[test]
fn a_folder_without_class_folders_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("holiday")).unwrap();
    let out = melodora().arg("eval").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no class folders") && err.contains("angry"),
        "{err}"
    );
}

#[test]
fn a_model_that_is_not_onnx_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.onnx");
    std::fs::write(&model, b"definitely not protobuf").unwrap();
    let out = melodora()
        .args([
            "eval",
            fer_val().to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
        ])
        .args([
            "--input-size",
            "48",
            "--labels",
            "angry,disgust,fear,happy,neutral,sad,surprise",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("model.onnx") && err.contains("not an ONNX model"),
        "{err}"
    );
}

/// Tilted heads: `--rotate 30` turns each face on a canvas; BlazeFace finds
/// (nearly) all of them and, with the eyes levelled, reads them better than
/// without (on 10 faces per emotion; bench/alignment.sh measures more).
/// `--rotate` needs `--detect` and a sane angle.
#[test]
fn levelling_the_eyes_reads_tilted_faces_better() {
    let dir = tempfile::tempdir().unwrap();
    for class in [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    ] {
        let target = dir.path().join(class);
        std::fs::create_dir(&target).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(fer_val().join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.iter().take(10) {
            std::fs::copy(f, target.join(f.file_name().unwrap())).unwrap();
        }
    }
    let path = dir.path().to_str().unwrap();
    let args = ["--detect", "--detector", "blazeface", "--rotate", "30"];
    let levelled = eval_json(&[&[path][..], &args].concat());
    let plain = eval_json(&[&[path][..], &args, &["--no-align"]].concat());
    assert!(levelled["n"].as_u64().unwrap() >= 65, "{levelled}");
    let accuracy = |r: &serde_json::Value| r["accuracy"].as_f64().unwrap();
    assert!(
        accuracy(&levelled) > accuracy(&plain) + 0.05,
        "levelled {levelled} against {plain}"
    );
    for bad in [
        &["--rotate", "30"][..],
        &["--detect", "--rotate", "500"],
        &["--detect", "--rotate", "30", "--rotate-size", "5"],
        &["--detect", "--rotate-size", "96"],
    ] {
        let out = melodora().arg("eval").arg(path).args(bad).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
