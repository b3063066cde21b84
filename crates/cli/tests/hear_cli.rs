//! `melodora hear` on real music no one here wrote (Debian's
//! wesnoth-1.16-music, installed by scripts/install_test_music.sh): every
//! track is heard with its tags, silence has no beat, and files that are not
//! audio are listed with why while the others are still heard.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_melodora");

/// The Wesnoth soundtrack's folder; the test fails (not skips) without it.
fn wesnoth() -> PathBuf {
    let dir = std::env::var_os("MELODORA_TEST_MUSIC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/games/wesnoth/1.16/data/core/music"));
    assert!(
        dir.join("battle.ogg").is_file(),
        "{} lacks the test music: run scripts/install_test_music.sh (or set MELODORA_TEST_MUSIC)",
        dir.display()
    );
    dir
}

fn hear(files: &[PathBuf]) -> (Output, Vec<Value>) {
    let output = Command::new(BIN)
        .arg("hear")
        .arg("--json")
        .args(files)
        .output()
        .expect("run melodora");
    let lines = String::from_utf8(output.stdout.clone())
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    (output, lines)
}

#[test]
fn the_wesnoth_soundtrack_is_heard_track_by_track() {
    let dir = wesnoth();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ogg"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 41, "the package's 41 tracks");
    let (output, records) = hear(&files);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(records.len(), 41);
    for record in &records {
        let path = record["path"].as_str().unwrap();
        assert!(record.get("error").is_none(), "{record}");
        assert_eq!(record["codec"], "vorbis", "{path}");
        let features = &record["features"];
        assert!(features["duration_s"].as_f64().unwrap() > 5.0, "{path}");
        for axis in ["valence", "arousal"] {
            let value = record["mood"][axis].as_f64().unwrap();
            assert!((-1.0..=1.0).contains(&value), "{path}: {axis} {value}");
        }
        let quadrant = record["mood"]["quadrant"].as_str().unwrap();
        assert!(["Q1", "Q2", "Q3", "Q4"].contains(&quadrant), "{path}");
        if path.ends_with("/silence.ogg") {
            // Ten seconds of nothing: no loudness above the gate, no beat, no key.
            assert!(
                features["loudness"]["integrated_lufs"].is_null(),
                "{record}"
            );
            assert_eq!(features["rhythm"]["tempo_bpm"], 0.0, "{record}");
            assert!(features["key"].is_null(), "{record}");
        } else {
            let lufs = features["loudness"]["integrated_lufs"].as_f64().unwrap();
            assert!((-30.0..-5.0).contains(&lufs), "{path}: {lufs} LUFS");
            let bpm = features["rhythm"]["tempo_bpm"].as_f64().unwrap();
            assert!((50.0..=220.0).contains(&bpm), "{path}: {bpm} BPM");
        }
    }
    let titled = records
        .iter()
        .filter(|r| r["tags"]["title"].is_string())
        .count();
    assert!(titled >= 40, "{titled} of 41 tracks carry a title tag");
    let battle = records
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/battle.ogg"))
        .unwrap();
    assert_eq!(battle["tags"]["title"], "Battle Music");
    assert_eq!(battle["tags"]["album"], "The Battle for Wesnoth OST");
    assert_eq!(battle["tags"]["track"], 9);
    let seconds = battle["features"]["duration_s"].as_f64().unwrap();
    assert!(
        (seconds - 318.2).abs() < 0.5,
        "battle.ogg lasts 5:18, heard {seconds}"
    );
}

#[test]
fn files_that_are_not_audio_are_listed_with_why_and_the_rest_are_heard() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("not music.mp3");
    std::fs::write(&text, "These are lyrics, not an MP3 file.\n".repeat(200)).unwrap();
    let empty = dir.path().join("empty.flac");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.path().join("cut.ogg");
    let whole = std::fs::read(wesnoth().join("victory.ogg")).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 3]).unwrap();
    let missing = dir.path().join("gone.ogg");
    let real = wesnoth().join("defeat.ogg");
    let (output, records) = hear(&[text.clone(), empty, truncated, missing, real]);
    assert!(!output.status.success(), "some files were not heard");
    assert_eq!(records.len(), 5);
    let error = |name: &str| {
        let record = records
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap();
        record["error"].as_str().map(str::to_string)
    };
    assert!(error("not music.mp3")
        .is_some_and(|e| e.contains("unsupported") || e.contains("decodable")));
    assert_eq!(error("empty.flac").as_deref(), Some("the file is empty"));
    assert!(error("gone.ogg").is_some_and(|e| e.contains("could not be read")));
    assert_eq!(
        error("defeat.ogg"),
        None,
        "a real track among bad ones is heard"
    );
    // A third of a 5.5 s track is under the 2 s a song needs: refused, not a panic.
    assert!(
        error("cut.ogg").is_some_and(|e| e.contains("too short")),
        "{records:?}"
    );
}
