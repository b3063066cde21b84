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
