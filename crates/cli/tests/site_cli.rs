//! `melodora site DIR`: writes the page, analyzer, models and catalog as a
//! static site, refuses a directory with files in it unless `--force`,
//! carries `serve`'s analysis options, and refuses models and cascades the
//! browser cannot use.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_melodora");

fn site(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("site")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run melodora")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn writes_a_static_site_and_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("site");
    let target = out.to_str().unwrap();

    let made = site(
        &data,
        &[target, "--group", "--dwell-ms", "900", "--no-tracking"],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("data-melodora=\"static\""), "{index}");
    for file in [
        "static/main.js",
        "static/view/playlist.js",
        "static/analyzer/worker.js",
        "static/wasm/melodora_wasm_bg.wasm",
        "static/models/emotion.onnx",
        "static/models/haarcascade_frontalface_default.xml",
        "static/vendor/bootstrap/bootstrap.min.css",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let catalog = std::fs::read_to_string(out.join("static/catalog.json")).unwrap();
    let catalog = melodora_music::CatalogSnapshot::from_json(&catalog).unwrap();
    assert!(catalog.songs.len() > 500, "the default catalog");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("static/site.json")).unwrap()).unwrap();
    assert_eq!(config["analysis"]["follow"], "group", "{config}");
    assert_eq!(config["analysis"]["dwell_ms"], 900, "{config}");
    assert!(config["analysis"]["full_scan_every"].is_null(), "{config}");
    // The offline worker beside index.html keeps the page and every file it
    // loads, the site's catalog and settings included.
    let worker = std::fs::read_to_string(out.join("sw.js")).unwrap();
    for kept in [
        "\"./\"",
        "\"static/main.js\"",
        "\"static/catalog.json\"",
        "\"static/site.json\"",
        "\"static/manifest.webmanifest\"",
    ] {
        assert!(worker.contains(kept), "sw.js keeps {kept}");
    }
    assert!(
        !out.join("static/offline").exists(),
        "the worker's source is not copied"
    );
    let total: u64 = walk(&out).iter().map(|f| f.metadata().unwrap().len()).sum();
    assert!(total < 10_000_000, "the site is {total} bytes");

    std::fs::write(out.join("mine.txt"), "keep me").unwrap();
    std::fs::write(out.join("static/stale.js"), "old").unwrap();
    let refused = site(&data, &[target]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    let forced = site(&data, &[target, "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(
        std::fs::read_to_string(out.join("mine.txt")).unwrap(),
        "keep me"
    );
    assert!(!out.join("static/stale.js").exists(), "static/ is replaced");
}

#[test]
fn models_and_cascades_the_browser_cannot_use_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("site");
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<opencv_storage>").unwrap();
    let not_a_model = dir.path().join("model.onnx");
    std::fs::write(&not_a_model, "not a model").unwrap();
    for (args, expected) in [
        (vec!["--cascade", bad.to_str().unwrap()], "cascade"),
        (vec!["--model", not_a_model.to_str().unwrap()], "model"),
        (vec!["--face-margin", "0.2"], "--face-margin"),
        (vec!["--min-confidence", "2"], "--min-confidence"),
    ] {
        let mut all = vec![out.to_str().unwrap()];
        all.extend(args);
        let output = site(&data, &all);
        assert_eq!(output.status.code(), Some(1), "{all:?}");
        assert!(
            stderr(&output).contains(expected),
            "{all:?}: {}",
            stderr(&output)
        );
        assert!(!out.join("index.html").exists(), "{all:?}: nothing written");
    }
}

fn walk(dir: &Path) -> Vec<std::fs::DirEntry> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry);
        }
    }
    files
}

/// The library's songs go into a site only with `--library`, which copies
/// each song's file under static/library/, named by its id; a song whose
/// file is gone since the scan is left out.
#[test]
fn a_site_with_library_carries_copies_of_its_files() {
    let wesnoth = std::path::PathBuf::from(
        std::env::var("MELODORA_TEST_MUSIC")
            .unwrap_or_else(|_| "/usr/share/games/wesnoth/1.16/data/core/music".into()),
    );
    assert!(
        wesnoth.join("defeat.ogg").is_file(),
        "run scripts/install_test_music.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let music = dir.path().join("music");
    std::fs::create_dir(&music).unwrap();
    for track in ["defeat.ogg", "defeat2.ogg"] {
        std::fs::copy(wesnoth.join(track), music.join(track)).unwrap();
    }
    let added = Command::new(BIN)
        .args(["library", "add", music.to_str().unwrap(), "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    std::fs::remove_file(music.join("defeat2.ogg")).unwrap();

    let catalog_of = |out: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(out.join("static/catalog.json")).unwrap()).unwrap()
    };
    let library_songs = |catalog: &serde_json::Value| -> Vec<serde_json::Value> {
        catalog["songs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|song| song.get("library").is_some())
            .cloned()
            .collect()
    };

    let plain = dir.path().join("plain");
    let made = site(&data, &[plain.to_str().unwrap()]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(library_songs(&catalog_of(&plain)).is_empty());
    assert!(!plain.join("static/library").exists());

    let with = dir.path().join("with");
    let made = site(&data, &[with.to_str().unwrap(), "--library"]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(
        stderr(&made).contains("1 library songs left out"),
        "{}",
        stderr(&made)
    );
    let songs = library_songs(&catalog_of(&with));
    assert_eq!(songs.len(), 1, "the song whose file is gone is left out");
    let file = songs[0]["library"]["file"].as_str().unwrap();
    assert_eq!(file, format!("static/library/{}.ogg", songs[0]["id"]));
    let worker = std::fs::read_to_string(with.join("sw.js")).unwrap();
    assert!(
        !worker.contains("static/library/"),
        "library copies are not kept offline"
    );
    assert_eq!(
        std::fs::read(with.join(file)).unwrap(),
        std::fs::read(music.join("defeat.ogg")).unwrap()
    );
}

#[test]
fn a_site_carries_the_detector_it_chose_and_only_that_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let models = |site: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(site.join("static/models"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let detector = |site: &Path| {
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(site.join("static/site.json")).unwrap()).unwrap();
        config["analysis"]["detector"].clone()
    };

    let haar = dir.path().join("haar");
    let made = site(&data, &[haar.to_str().unwrap()]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert_eq!(detector(&haar), "haar");
    assert_eq!(
        models(&haar),
        ["emotion.onnx", "haarcascade_frontalface_default.xml"]
    );

    let full = dir.path().join("full");
    let made = site(
        &data,
        &[full.to_str().unwrap(), "--detector", "blazeface-full"],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    assert_eq!(detector(&full), "blazeface-full");
    assert_eq!(
        models(&full),
        [
            "emotion.onnx",
            "face_detection_full_range.tflite",
            "haarcascade_frontalface_default.xml"
        ]
    );
    let worker = std::fs::read_to_string(full.join("sw.js")).unwrap();
    assert!(worker.contains("\"static/models/face_detection_full_range.tflite\""));
    assert!(
        !worker.contains("short_range"),
        "only the chosen model is kept"
    );

    let refused = site(
        &data,
        &[
            dir.path().join("x").to_str().unwrap(),
            "--detector",
            "yunet",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("possible values"),
        "{}",
        stderr(&refused)
    );
}
