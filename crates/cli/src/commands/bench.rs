//! `melodora bench`: how long detection takes per image, for side-by-side
//! comparison with OpenCV (see `bench/haar_vs_opencv.py`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use melodora_vision::{load_image, GrayImage};
use serde::Serialize;

use crate::detector_args::DetectorArgs;
use crate::report::format_table;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Images to time detection on.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub detector: DetectorArgs,
    /// Timed runs per image (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 7)]
    pub repeat: usize,
    /// Print one JSON object per image per line.
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

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.repeat >= 1, "--repeat must be at least 1");
    let params = args.detector.params()?;
    let limits = args.detector.decode_limits()?;
    let detector = args.detector.detector()?;
    let mut rows = Vec::new();
    for path in &args.images {
        let shown = path.display().to_string();
        let image = load_image(path, &limits).with_context(|| shown.clone())?;
        let gray = GrayImage::from_dynamic(&image);
        let faces = detector.detect(&gray, &params)?.len();
        let mut times: Vec<f64> = (0..args.repeat)
            .map(|_| {
                let start = Instant::now();
                let found = detector.detect(&gray, &params).map(|f| f.len());
                debug_assert_eq!(found.ok(), Some(faces));
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let timing = Timing {
            image: &shown,
            width: gray.width(),
            height: gray.height(),
            median_ms: times[times.len() / 2],
            faces,
        };
        if args.json {
            println!("{}", serde_json::to_string(&timing)?);
        } else {
            rows.push(vec![
                shown.clone(),
                format!("{}x{}", timing.width, timing.height),
                format!("{:.2}", timing.median_ms),
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
