//! `melodora site DIR`: the app as a static site.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use melodora_emotion::Engine;
use melodora_music::{CatalogSnapshot, Store};
use melodora_server::site::{write_site, SiteContents, SiteFile, SiteFileContent};
use melodora_vision::{Cascade, DetectorChoice};

use crate::analysis_args::AnalysisArgs;
use crate::detector_args::detector_choice;
use crate::emotion_args::EmotionArgs;
use crate::store_args::StoreArgs;

#[derive(Args, Debug)]
pub struct SiteArgs {
    /// Directory to write the site into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Write into a directory that is not empty: its index.html and static/
    /// are replaced, other files are left as they are.
    #[arg(long)]
    pub force: bool,
    /// Include the songs of your music library (`melodora library add`):
    /// the site carries a copy of each song's file and cover, under
    /// static/library/. Without it, library songs are left out of the site.
    #[arg(long)]
    pub library: bool,
    /// Which face detector the pages run: `haar`, `blazeface` or
    /// `blazeface-full` (as `melodora serve --detector`).
    #[arg(long = "detector", value_name = "NAME", default_value = "haar", value_parser = detector_choice())]
    pub detector: DetectorChoice,
    /// OpenCV Haar cascade XML to ship instead of the embedded frontal-face one.
    #[arg(long, value_name = "FILE")]
    pub cascade: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub model: EmotionArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: SiteArgs) -> Result<ExitCode> {
    let analysis = args.analysis.settings()?.with_detector(args.detector);
    anyhow::ensure!(
        args.model.face_margin == 0.0,
        "--face-margin is not supported by the browser's analyzer"
    );
    let model = match &args.model.model {
        None => None,
        Some(path) => {
            // The browser has the direct engine only: the model must run on it.
            let classifier = args
                .model
                .classifier()?
                .with_engine(Engine::Direct)
                .with_context(|| format!("model {}", path.display()))?;
            anyhow::ensure!(
                classifier.engine() == Engine::Direct,
                "model {} needs tract, which the browser's analyzer does not have; \
                 only the layers of the usual FER CNNs run in the browser",
                path.display()
            );
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some((bytes, classifier.description().clone()))
        }
    };
    let cascade = match &args.cascade {
        None => None,
        Some(path) => {
            let xml = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Cascade::from_xml(&xml).with_context(|| format!("cascade {}", path.display()))?;
            Some(xml)
        }
    };
    let store = args.store.open()?;
    let mut catalog = store.snapshot().context("cannot read the song catalog")?;
    let library = if args.library {
        library_files(&store, &mut catalog)?
    } else {
        catalog.without_library_songs();
        Vec::new()
    };
    anyhow::ensure!(
        !catalog.songs.is_empty(),
        "the catalog is empty; import songs first (melodora catalog import)"
    );
    let contents = SiteContents {
        catalog: &catalog,
        model: model.as_ref().map(|(bytes, _)| bytes.as_slice()),
        model_description: model.as_ref().map(|(_, description)| description),
        cascade: cascade.as_deref(),
        analysis,
        library: &library,
    };
    let summary = write_site(&args.dir, &contents, args.force)?;
    println!(
        "Wrote {} files ({:.1} MB, {} songs) to {}.",
        summary.files,
        summary.bytes as f64 / 1e6,
        summary.songs,
        args.dir.display()
    );
    println!(
        "Publish the directory on any static web server; browsers give pages the camera \
         only over https (or on localhost): e.g. `python3 -m http.server -d {}` and open \
         http://localhost:8000/",
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The copies a site with `--library` carries: each library song's file and
/// cover, named by the song's id (never by the file's own name), and the
/// catalog's songs told where they are. A song whose file is gone since the
/// last scan is left out, and said so.
fn library_files(store: &Store, catalog: &mut CatalogSnapshot) -> Result<Vec<SiteFile>> {
    let entries: std::collections::HashMap<i64, melodora_music::LibraryEntry> = store
        .library_entries()?
        .into_iter()
        .map(|entry| (entry.id, entry))
        .collect();
    let mut files = Vec::new();
    let mut gone = Vec::new();
    for song in &mut catalog.songs {
        let Some(heard) = song.library.as_mut() else {
            continue;
        };
        let Some(entry) = entries.get(&song.id).filter(|e| e.path.is_file()) else {
            gone.push(song.id);
            continue;
        };
        let extension = extension_of(&entry.path);
        let relative = format!("static/library/{}.{extension}", song.id);
        heard.file = Some(relative.clone());
        files.push(SiteFile {
            relative,
            content: SiteFileContent::Copy(entry.path.clone()),
        });
        let cover = std::fs::File::open(&entry.path)
            .ok()
            .and_then(|file| melodora_audio::read_tags_only(Box::new(file), Some(&extension)).ok())
            .and_then(|(_, cover)| cover);
        if let Some(cover) = cover {
            if let Some(kind) = cover.image_type() {
                let relative = format!(
                    "static/library/{}.cover.{}",
                    song.id,
                    kind.trim_start_matches("image/")
                );
                heard.cover_file = Some(relative.clone());
                files.push(SiteFile {
                    relative,
                    content: SiteFileContent::Bytes(cover.data),
                });
            }
        }
    }
    if !gone.is_empty() {
        eprintln!(
            "melodora: {} library songs left out: their files are gone (run melodora library scan)",
            gone.len()
        );
        catalog.songs.retain(|song| !gone.contains(&song.id));
    }
    Ok(files)
}

/// A file's extension as the site names its copy: lower case, letters and
/// digits only (a hostile name cannot reach the site's paths).
fn extension_of(path: &std::path::Path) -> String {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !extension.is_empty()
        && extension.len() <= 5
        && extension.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        extension
    } else {
        "audio".into()
    }
}
