//! `melodora site DIR`: the app as a static site.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use melodora_emotion::Engine;
use melodora_server::site::{write_site, SiteContents};
use melodora_vision::Cascade;

use crate::analysis_args::AnalysisArgs;
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
    let analysis = args.analysis.settings()?;
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
    let catalog = store.snapshot().context("cannot read the song catalog")?;
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
