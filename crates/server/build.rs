//! Builds the table of the page's files from `web/` (every file the
//! browser loads: HTML, JavaScript, CSS, WebAssembly, images), so that a new
//! module needs no entry written by hand. Tests, type declarations and
//! tooling under `web/` are not served. The table is
//! `$OUT_DIR/web_files.rs`, included by `src/assets.rs`.

use std::fs;
use std::path::{Path, PathBuf};

/// Content type by file extension; a file with another extension is not served.
fn content_type(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".d.ts") {
        return None;
    }
    Some(match path.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "webmanifest" => "application/manifest+json",
        _ => return None,
    })
}

/// Folders of `web/` that are not served under `/static/`: not part of the
/// page, or (`offline`: the service worker) served apart, at `/sw.js` with
/// its list of files put before it (`src/offline.rs`).
const NOT_SERVED: &[&str] = &["tests", "types", "node_modules", "offline"];

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable web/ entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if !NOT_SERVED.contains(&name) {
                walk(&path, found);
            }
        } else if content_type(&path).is_some() {
            found.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let web = manifest
        .join("../../web")
        .canonicalize()
        .expect("web/ beside crates/");
    println!("cargo:rerun-if-changed={}", web.display());
    let mut files = Vec::new();
    walk(&web, &mut files);
    let mut table = String::from("&[\n");
    for path in &files {
        let url = path
            .strip_prefix(&web)
            .expect("under web/")
            .components()
            .map(|c| c.as_os_str().to_str().expect("UTF-8 file names in web/"))
            .collect::<Vec<_>>()
            .join("/");
        let kind = content_type(path).expect("only served files are listed");
        table.push_str(&format!(
            "    ({url:?}, {kind:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("web_files.rs");
    fs::write(&out, table).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
