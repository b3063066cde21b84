//! `melodora bench`: how long detection (or emotion classification, the
//! whole pipeline on a video with `--video`, or the music catalog with
//! `--catalog`) takes,
//! for side-by-side comparison with the references (OpenCV, ONNX Runtime;
//! see `bench/haar_vs_opencv.py`, `bench/emotion_vs_onnxruntime.py`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use melodora_vision::tracking::TrackingConfig;
use melodora_vision::{load_image, GrayImage};
use serde::Serialize;

use crate::detector_args::DetectorArgs;
use crate::emotion_args::EmotionArgs;
use crate::report::format_table;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Images to time detection on (with --emotion: face crops to classify).
    #[arg(required_unless_present_any = ["catalog", "video"], value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Time the whole pipeline (detect, classify, smooth) on each frame of
    /// this video (Y4M or MJPEG), scanning every frame and then tracking.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["emotion", "images", "catalog"])]
    pub video: Option<PathBuf>,
    /// Frames of --video to use (decoded up front, gray).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub frames: u64,
    /// With --video: a full scan at least every this many frames when tracking.
    #[arg(long, default_value_t = TrackingConfig::default().full_scan_interval as u64,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub full_scan_every: u64,
    /// Benchmark the music side instead: import, index and recommend on a
    /// synthetic catalog of this many songs (see docs/PERFORMANCE.md).
    #[arg(long, value_name = "SONGS", conflicts_with_all = ["emotion", "images"],
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub catalog: Option<u64>,
    /// Recommendations to time with --catalog.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub calls: u64,
    /// With --catalog: also write the synthetic catalog as a snapshot (the
    /// JSON a static site's browser recommends from), for
    /// bench/browser/node_playlists.mjs to time the same lists in wasm.
    #[arg(long, value_name = "FILE", requires = "catalog")]
    pub snapshot_out: Option<std::path::PathBuf>,
    /// With --catalog: import into this PostgreSQL database (it must hold
    /// no songs yet) instead of a scratch SQLite store.
    #[arg(long, value_name = "URL", requires = "catalog")]
    pub database: Option<String>,
    #[command(flatten)]
    pub detector: DetectorArgs,
    /// Time the emotion classifier instead of the detector: each image is a
    /// face crop, classified in batches of --batch.
    #[arg(long)]
    pub emotion: bool,
    /// Faces per classifier run with --emotion.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub batch: u32,
    #[command(flatten)]
    pub model: EmotionArgs,
    /// Timed runs per image (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub repeat: u32,
    /// Print one JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Timing<'a> {
    image: &'a str,
    width: usize,
    height: usize,
    median_ms: f64,
    faces: usize,
}

#[derive(Serialize)]
struct EmotionTiming {
    /// `direct` or `tract` (set `MELODORA_ENGINE=tract` to compare).
    engine: &'static str,
    batch: usize,
    faces: usize,
    median_ms_per_batch: f64,
    median_ms_per_face: f64,
}

/// Median of `repeat` timed runs of `f`, in milliseconds.
fn median_ms(repeat: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if let Some(songs) = args.catalog {
        super::bench_catalog::run(
            songs,
            args.calls as usize,
            args.snapshot_out.as_deref(),
            args.database.as_deref(),
            args.json,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(video) = &args.video {
        let classifier = args.model.classifier()?;
        let analyzer = args
            .detector
            .analyzer(Some(classifier), args.model.face_margin)?;
        let tracking = TrackingConfig {
            full_scan_interval: args.full_scan_every as u32,
            ..TrackingConfig::default()
        };
        super::bench_video::run(video, args.frames as usize, &analyzer, tracking, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let limits = args.detector.decode_limits()?;
    let mut grays = Vec::with_capacity(args.images.len());
    for path in &args.images {
        let image = load_image(path, &limits).with_context(|| path.display().to_string())?;
        grays.push(GrayImage::from_dynamic(&image));
    }
    if args.emotion {
        bench_emotion(&args, &grays)
    } else {
        bench_detection(&args, &grays)
    }
}

fn bench_detection(args: &BenchArgs, grays: &[GrayImage]) -> Result<ExitCode> {
    let analyzer = args.detector.analyzer(None, 0.0)?;
    let mut rows = Vec::new();
    for (path, gray) in args.images.iter().zip(grays) {
        let shown = path.display().to_string();
        let faces = analyzer.find_faces(gray, None)?.0.len();
        let median = median_ms(args.repeat as usize, || {
            analyzer.find_faces(gray, None)?;
            Ok(())
        })?;
        let timing = Timing {
            image: &shown,
            width: gray.width(),
            height: gray.height(),
            median_ms: median,
            faces,
        };
        if args.json {
            println!("{}", serde_json::to_string(&timing)?);
        } else {
            rows.push(vec![
                shown.clone(),
                format!("{}x{}", timing.width, timing.height),
                format!("{median:.2}"),
                faces.to_string(),
            ]);
        }
    }
    if !args.json {
        print!(
            "{}",
            format_table(&["IMAGE", "SIZE", "MEDIAN ms", "FACES"], &rows)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Per-face latency of the classifier: every batch of `--batch` crops is
/// timed `--repeat` times; the median over all runs is reported.
fn bench_emotion(args: &BenchArgs, faces: &[GrayImage]) -> Result<ExitCode> {
    let classifier = args.model.classifier()?;
    let batch = args.batch as usize;
    let mut per_batch = Vec::new();
    for chunk in faces.chunks(batch).filter(|c| c.len() == batch) {
        per_batch.push(median_ms(args.repeat as usize, || {
            classifier.classify(chunk)?;
            Ok(())
        })?);
    }
    anyhow::ensure!(
        !per_batch.is_empty(),
        "need at least --batch ({batch}) images"
    );
    per_batch.sort_by(f64::total_cmp);
    let median = per_batch[per_batch.len() / 2];
    let timing = EmotionTiming {
        engine: classifier.engine().name(),
        batch,
        faces: per_batch.len() * batch,
        median_ms_per_batch: median,
        median_ms_per_face: median / batch as f64,
    };
    if args.json {
        println!("{}", serde_json::to_string(&timing)?);
    } else {
        println!(
            "emotion model ({} engine): {:.3} ms per face (batch {batch}, median over {} batches)",
            timing.engine,
            timing.median_ms_per_face,
            per_batch.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
