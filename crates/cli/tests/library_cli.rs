//! `melodora library` on real music no one here wrote (Debian's
//! wesnoth-1.16-music, installed by scripts/install_test_music.sh): a folder
//! is heard and listed with every field, recommended from, rescanned without
//! reading anything, survives `kill -9` mid-scan (the next scan ends with
//! the same library), and is removed; bad folders are clear errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

fn melodora(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("MELODORA_LOG", "warn")
        .output()
        .expect("run melodora")
}

fn json_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

/// What a library is, whatever the order songs were written in: each
/// file's path and what was heard in it.
fn library(data: &Path) -> Vec<String> {
    let mut songs: Vec<String> = json_lines(&melodora(data, &["library", "list", "--json"]))
        .into_iter()
        .map(|mut song| {
            song.as_object_mut().unwrap().remove("id");
            song.to_string()
        })
        .collect();
    songs.sort();
    songs
}

#[test]
fn the_wesnoth_soundtrack_is_heard_listed_recommended_rescanned_and_removed() {
    let music = wesnoth();
    let data = tempfile::tempdir().unwrap();
    let added = melodora(
        data.path(),
        &["library", "add", music.to_str().unwrap(), "--json"],
    );
    let summary = &json_lines(&added)[0];
    assert_eq!(summary["files"], 41, "{summary}");
    assert_eq!(summary["heard"], 41, "{summary}");
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 0, "{summary}");

    let songs = json_lines(&melodora(data.path(), &["library", "list", "--json"]));
    assert_eq!(songs.len(), 41);
    let mut quadrants = std::collections::HashSet::new();
    for song in &songs {
        for field in [
            "id",
            "path",
            "title",
            "artist",
            "duration_s",
            "tempo_bpm",
            "loudness_lufs",
            "valence",
            "arousal",
            "quadrant",
            "emotion",
        ] {
            assert!(song.get(field).is_some(), "{field} missing: {song}");
        }
        assert!(Path::new(song["path"].as_str().unwrap()).starts_with(&music));
        let duration = song["duration_s"].as_f64().unwrap();
        assert!((5.0..600.0).contains(&duration), "{song}");
        if song["path"].as_str().unwrap().ends_with("/silence.ogg") {
            // Silence has no beat and no loudness: null, not a made-up number.
            assert!(
                song["tempo_bpm"].is_null() && song["loudness_lufs"].is_null(),
                "{song}"
            );
            continue;
        }
        let lufs = song["loudness_lufs"].as_f64().unwrap();
        assert!((-40.0..-5.0).contains(&lufs), "{song}");
        assert!(
            (40.0..250.0).contains(&song["tempo_bpm"].as_f64().unwrap()),
            "{song}"
        );
        for axis in ["valence", "arousal"] {
            assert!(
                (-1.0..=1.0).contains(&song[axis].as_f64().unwrap()),
                "{song}"
            );
        }
        quadrants.insert(song["quadrant"].as_str().unwrap().to_string());
        assert_eq!(song["media_type"], "audio/ogg");
    }
    assert!(
        quadrants.len() >= 2,
        "one soundtrack, more than one mood: {quadrants:?}"
    );
    let battle = songs
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("/battle.ogg"))
        .unwrap();
    assert_eq!(battle["title"], "Battle Music", "from its tags");

    // Recommended from, with a reason in words.
    let output = melodora(
        data.path(),
        &["recommend", "sad", "--from", "library", "--json"],
    );
    assert!(output.status.success());
    let list: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list.len(), 15);
    for item in &list {
        assert!(
            item["reason"].as_str().unwrap().contains("from its audio"),
            "{item}"
        );
        assert!(
            item["library"]["duration_s"].as_f64().unwrap() > 0.0,
            "{item}"
        );
        assert!(
            item.get("path").is_none(),
            "a recommendation never carries a file path"
        );
    }

    // Nothing changed: nothing read, quickly.
    let again = &json_lines(&melodora(data.path(), &["library", "scan", "--json"]))[0];
    assert_eq!(
        (again["unchanged"].as_u64(), again["heard"].as_u64()),
        (Some(41), Some(0)),
        "{again}"
    );
    assert!(again["seconds"].as_f64().unwrap() < 2.0, "{again}");

    // Removed: the catalog stays, the library is empty.
    let removed = melodora(data.path(), &["library", "remove", music.to_str().unwrap()]);
    assert!(removed.status.success());
    assert!(String::from_utf8_lossy(&removed.stdout).contains("41 songs"));
    assert!(library(data.path()).is_empty());
    let catalog = melodora(data.path(), &["recommend", "sad", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&catalog.stdout)
            .unwrap()
            .len(),
        15
    );
}

#[test]
fn a_scan_killed_midway_resumes_and_ends_with_the_same_library() {
    let music = wesnoth();
    let whole = tempfile::tempdir().unwrap();
    assert!(
        melodora(whole.path(), &["library", "add", music.to_str().unwrap()])
            .status
            .success()
    );
    let expected = library(whole.path());
    assert_eq!(expected.len(), 41);

    let data = tempfile::tempdir().unwrap();
    let mut scan = Command::new(BIN)
        .args([
            "library",
            "add",
            music.to_str().unwrap(),
            "--threads",
            "1",
            "--data-dir",
        ])
        .arg(data.path())
        .env("MELODORA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some songs are written and before it is done.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let written = library(data.path()).len();
        if written > 0 {
            assert!(written < 41, "the scan finished before it could be killed");
            break;
        }
        assert!(Instant::now() < deadline, "no song written in two minutes");
        assert!(scan.try_wait().unwrap().is_none(), "the scan ended early");
    }
    scan.kill().unwrap(); // SIGKILL
    scan.wait().unwrap();
    let partial = library(data.path()).len();
    assert!((1..41).contains(&partial), "{partial}");

    let resumed = &json_lines(&melodora(data.path(), &["library", "scan", "--json"]))[0];
    assert_eq!(
        resumed["unchanged"].as_u64().unwrap() as usize,
        partial,
        "{resumed}"
    );
    assert_eq!(
        resumed["heard"].as_u64().unwrap() as usize,
        41 - partial,
        "{resumed}"
    );
    assert_eq!(library(data.path()), expected);
}

#[test]
fn bad_folders_and_names_are_clear_errors() {
    let data = tempfile::tempdir().unwrap();
    let missing = melodora(data.path(), &["library", "add", "/no/such/folder"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/folder"));

    let file = tempfile::NamedTempFile::new().unwrap();
    let not_a_folder = melodora(
        data.path(),
        &["library", "add", file.path().to_str().unwrap()],
    );
    assert!(!not_a_folder.status.success());
    assert!(String::from_utf8_lossy(&not_a_folder.stderr).contains("not a folder"));

    let unknown = melodora(data.path(), &["library", "remove", "/tmp"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not a folder of the library"));

    // A hostile name is listed escaped, never as terminal control codes.
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("evil\u{1b}[31mred.mp3"), b"not audio").unwrap();
    let added = melodora(
        data.path(),
        &["library", "add", folder.path().to_str().unwrap()],
    );
    assert!(added.status.success());
    let shown = String::from_utf8_lossy(&added.stdout);
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(shown.contains("evil\\u{1b}[31mred.mp3"), "{shown}");
}
