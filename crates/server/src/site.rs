//! The app as a static site: the page and every file it loads, written to
//! a directory that any static web server can publish, plus what the page
//! needs to work without a Melodora server: the catalog for the browser's
//! recommender and the analysis settings.
//!
//! The page is the one `serve` embeds; the site's `index.html` only says
//! `data-melodora="static"` where the server's says `"server"`, and the
//! page switches on that.
//!
//! ```text
//! DIR/index.html
//! DIR/sw.js                 the offline worker: keeps index.html and static/ (not library copies)
//! DIR/static/...            the page's scripts, styles, wasm, cascade, model
//! DIR/static/catalog.json   the catalog (melodora_music::CatalogSnapshot)
//! DIR/static/site.json      {"analysis": AnalysisSettings, "model_description"?: ...}
//! DIR/static/library/ID.EXT        with --library: a copy of each library song's file,
//! DIR/static/library/ID.cover.EXT  and its cover (the catalog's songs name them)
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use melodora_music::CatalogSnapshot;
use melodora_vision::{AnalysisSettings, DetectorChoice, ModelDescription, Range};
use serde::Serialize;

use crate::assets::{content_hash, files};
use crate::offline::service_worker;

/// What a site is made of besides the embedded page.
pub struct SiteContents<'a> {
    /// The catalog the browser recommends from.
    pub catalog: &'a CatalogSnapshot,
    /// The emotion model to ship instead of the embedded one (ONNX bytes;
    /// the caller checks that the browser's engine runs it).
    pub model: Option<&'a [u8]>,
    /// How to feed `model` and read it, when it does not carry its own
    /// description (a sidecar or command-line description).
    pub model_description: Option<&'a ModelDescription>,
    /// The cascade to ship instead of the embedded one (OpenCV XML).
    pub cascade: Option<&'a str>,
    /// How the page turns frames into a mood.
    pub analysis: AnalysisSettings,
    /// Library files to copy into the site (the catalog's library songs
    /// name where, relative to the page).
    pub library: &'a [SiteFile],
}

/// A file the site carries a copy of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Where the site keeps it, relative to its directory
    /// (`static/library/12.ogg`).
    pub relative: String,
    /// What to copy.
    pub content: SiteFileContent,
}

/// Where a copied file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteFileContent {
    /// A file on disk (a library song's audio: copied, never read whole).
    Copy(PathBuf),
    /// Bytes in hand (a cover read from a song's tags).
    Bytes(Vec<u8>),
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSummary {
    /// Files written.
    pub files: usize,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Songs in the catalog.
    pub songs: usize,
}

/// Why a site could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The directory has files of its own and `--force` was not given.
    #[error("{0} is not empty; pass --force to write the site into it anyway (its index.html and static/ are replaced, other files are left)")]
    NotEmpty(PathBuf),
    /// A file or directory could not be written or read.
    #[error("cannot write {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Whether `name` (an embedded file's path) is a BlazeFace model that the
/// pages of a site finding faces with `detector` do not run.
fn unused_model(name: &str, detector: DetectorChoice) -> bool {
    [Range::Short, Range::Full].into_iter().any(|range| {
        name == format!("models/{}", range.model_file())
            && detector.blazeface_range() != Some(range)
    })
}

/// An XML file with the whitespace between tags dropped and every other
/// run of whitespace made one space: a Haar cascade's indentation and
/// aligned number columns are a third of its 0.9 MB, which the site's
/// offline worker would fetch whole, while the cascade it describes is the
/// same (tested).
fn compact_xml(xml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len());
    let mut i = 0;
    while i < xml.len() {
        if xml[i].is_ascii_whitespace() {
            let start = i;
            while i < xml.len() && xml[i].is_ascii_whitespace() {
                i += 1;
            }
            let between_tags = out.last() == Some(&b'>') && xml.get(i) == Some(&b'<');
            if !between_tags && start > 0 && i < xml.len() {
                out.push(b' ');
            }
        } else {
            out.push(xml[i]);
            i += 1;
        }
    }
    out
}

/// The marker in the embedded `index.html` that tells the page a Melodora
/// server is there.
const SERVER_MARKER: &str = "data-melodora=\"server\"";

/// `static/site.json`: what the page needs besides the files.
#[derive(Serialize)]
struct SiteConfig<'a> {
    analysis: AnalysisSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_description: Option<&'a ModelDescription>,
}

/// Writes the site into `dir` (created if missing). Refuses a directory
/// that holds anything unless `force`; then replaces `index.html` and
/// `static/` and leaves everything else.
pub fn write_site(
    dir: &Path,
    contents: &SiteContents<'_>,
    force: bool,
) -> Result<SiteSummary, SiteError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SiteError::Io { path, source }
    };
    if dir.exists() {
        let has_entries = fs::read_dir(dir).map_err(io(dir))?.next().is_some();
        if has_entries && !force {
            return Err(SiteError::NotEmpty(dir.to_path_buf()));
        }
    }
    let static_dir = dir.join("static");
    if static_dir.exists() {
        fs::remove_dir_all(&static_dir).map_err(io(&static_dir))?;
    }
    fs::create_dir_all(&static_dir).map_err(io(&static_dir))?;

    let mut summary = SiteSummary {
        files: 0,
        bytes: 0,
        songs: contents.catalog.songs.len(),
    };
    // What the page loads, for the offline worker's list (the page is "./").
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut write = |relative: &str, bytes: &[u8]| -> Result<(), SiteError> {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        fs::write(&path, bytes).map_err(io(&path))?;
        summary.files += 1;
        summary.bytes += bytes.len() as u64;
        let page_path = if relative == "index.html" {
            "./"
        } else {
            relative
        };
        kept.push((page_path.to_string(), content_hash(bytes)));
        Ok(())
    };
    for &(name, _, bytes) in files() {
        match name {
            "index.html" => write(name, &static_index(bytes))?,
            "models/emotion.onnx" => {
                write(&format!("static/{name}"), contents.model.unwrap_or(bytes))?
            }
            "models/haarcascade_frontalface_default.xml" => write(
                &format!("static/{name}"),
                &compact_xml(contents.cascade.map_or(bytes, str::as_bytes)),
            )?,
            // Only the BlazeFace model the pages run: a site is fetched
            // whole by the offline worker, and the other is 0.2 to 1 MB.
            _ if unused_model(name, contents.analysis.detector) => {}
            _ => write(&format!("static/{name}"), bytes)?,
        }
    }
    write("static/catalog.json", contents.catalog.to_json().as_bytes())?;
    let config = SiteConfig {
        analysis: contents.analysis,
        model_description: contents.model_description,
    };
    let config = serde_json::to_vec(&config).expect("site settings serialise");
    write("static/site.json", &config)?;
    // The worker that keeps those files for offline visits (beside index.html, so that it covers the site).
    let worker = service_worker(&kept);
    let worker_path = dir.join("sw.js");
    fs::write(&worker_path, &worker).map_err(io(&worker_path))?;
    summary.files += 1;
    summary.bytes += worker.len() as u64;
    for file in contents.library {
        match &file.content {
            SiteFileContent::Bytes(bytes) => {
                let path = dir.join(&file.relative);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(io(parent))?;
                }
                fs::write(&path, bytes).map_err(io(&path))?;
                summary.files += 1;
                summary.bytes += bytes.len() as u64;
            }
            SiteFileContent::Copy(source) => {
                let path = dir.join(&file.relative);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(io(parent))?;
                }
                let copied = fs::copy(source, &path).map_err(io(source))?;
                summary.files += 1;
                summary.bytes += copied;
            }
        }
    }
    Ok(summary)
}

/// The embedded page with its marker switched to static mode.
fn static_index(server_index: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(server_index).expect("index.html is UTF-8");
    assert_eq!(
        text.matches(SERVER_MARKER).count(),
        1,
        "index.html carries the mode marker once"
    );
    text.replace(SERVER_MARKER, "data-melodora=\"static\"")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compacted_cascade_is_the_same_cascade_in_two_thirds_of_the_bytes() {
        use melodora_vision::{Cascade, DEFAULT_CASCADE_XML};
        let compact = compact_xml(DEFAULT_CASCADE_XML.as_bytes());
        assert!(
            compact.len() * 3 < DEFAULT_CASCADE_XML.len() * 2,
            "{} bytes",
            compact.len()
        );
        let compact = String::from_utf8(compact).unwrap();
        assert!(
            compact.contains("Intel License Agreement"),
            "the licence stays"
        );
        assert_eq!(
            Cascade::from_xml(&compact).unwrap(),
            Cascade::from_xml(DEFAULT_CASCADE_XML).unwrap()
        );
        assert_eq!(
            compact_xml(b"  <a>\n  <b> 1   2\t3 </b>\n</a>  "),
            b"<a><b> 1 2 3 </b></a>"
        );
    }

    #[test]
    fn the_static_index_differs_only_in_its_marker() {
        let (_, _, index) = files().iter().find(|f| f.0 == "index.html").unwrap();
        let site = String::from_utf8(static_index(index)).unwrap();
        assert!(site.contains("data-melodora=\"static\""));
        assert_eq!(
            site.replace("data-melodora=\"static\"", SERVER_MARKER),
            std::str::from_utf8(index).unwrap()
        );
        assert!(
            !site.contains("\"/static/"),
            "relative paths, so the site works under any path"
        );
    }
}
