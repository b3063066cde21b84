//! `melodora detect`: faces in image files, as a table, JSON lines or
//! annotated copies.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use melodora_vision::annotate::draw_labelled_boxes;
use melodora_vision::pipeline::AnalyzedFace;
use melodora_vision::{load_image, GrayImage};

use crate::detector_args::DetectorArgs;
use crate::emotion_args::EmotionArgs;
use crate::report::{emotion_label, format_table, ErrorRecord, FaceRecord, ImageRecord};

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Images to scan (JPEG, PNG, BMP, WebP, GIF).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub detector: DetectorArgs,
    /// Print one JSON object per image per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write a copy of each image with the faces boxed into this directory
    /// (named like the input; `-2`, `-3`... where that would replace an input).
    #[arg(long, value_name = "DIR")]
    pub annotate: Option<PathBuf>,
    /// Only detect faces; do not classify their emotion.
    #[arg(long, conflicts_with = "model")]
    pub no_emotion: bool,
    #[command(flatten)]
    pub emotion: EmotionArgs,
}

struct Detected {
    width: u32,
    height: u32,
    faces: Vec<AnalyzedFace>,
}

pub fn run(args: DetectArgs) -> Result<ExitCode> {
    let limits = args.detector.decode_limits()?;
    let classifier = if args.no_emotion {
        None
    } else {
        Some(args.emotion.classifier()?)
    };
    let analyzer = args
        .detector
        .analyzer(classifier, args.emotion.face_margin)?;
    if let Some(dir) = &args.annotate {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut annotated_names = HashSet::new();
    // An annotated copy never replaces an input image, even with
    // `--annotate` pointing at the inputs' own directory.
    let inputs: HashSet<PathBuf> = args
        .images
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut rows = Vec::new();
    let mut failures = 0usize;
    for path in &args.images {
        let shown = path.display().to_string();
        let result = (|| -> Result<Detected> {
            let image = load_image(path, &limits)?;
            let gray = GrayImage::from_dynamic(&image);
            let faces = analyzer.analyze(&gray, None)?;
            if let Some(dir) = &args.annotate {
                let out = unique_output_path(dir, path, &mut annotated_names, &inputs);
                let mut rgb = image.to_rgb8();
                let labelled: Vec<_> = faces.iter().map(|f| (f.face, emotion_label(f))).collect();
                draw_labelled_boxes(&mut rgb, &labelled);
                rgb.save(&out)
                    .with_context(|| format!("cannot write annotated copy {}", out.display()))?;
            }
            Ok(Detected {
                width: image.width(),
                height: image.height(),
                faces,
            })
        })();
        match result {
            Ok(d) => {
                if args.json {
                    let record = ImageRecord {
                        image: &shown,
                        width: d.width,
                        height: d.height,
                        faces: d.faces.iter().map(FaceRecord::from).collect(),
                    };
                    println!("{}", serde_json::to_string(&record)?);
                } else {
                    rows.push(table_row(&shown, &d));
                }
            }
            Err(err) => {
                failures += 1;
                eprintln!("melodora: error: {shown}: {err:#}");
                if args.json {
                    let record = ErrorRecord {
                        image: &shown,
                        error: format!("{err:#}"),
                    };
                    println!("{}", serde_json::to_string(&record)?);
                }
            }
        }
    }
    if !args.json && !rows.is_empty() {
        print!(
            "{}",
            format_table(
                &["IMAGE", "SIZE", "FACES", "BOXES (x,y,w,h) EMOTION"],
                &rows
            )
        );
    }
    if failures > 0 {
        eprintln!(
            "melodora: {failures} of {} image(s) could not be processed",
            args.images.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn table_row(shown: &str, d: &Detected) -> Vec<String> {
    let boxes: Vec<String> = d
        .faces
        .iter()
        .map(|a| {
            let b = a.face;
            match emotion_label(a) {
                Some(label) => format!("({},{},{},{}) {label}", b.x, b.y, b.w, b.h),
                None => format!("({},{},{},{})", b.x, b.y, b.w, b.h),
            }
        })
        .collect();
    vec![
        shown.to_string(),
        format!("{}x{}", d.width, d.height),
        d.faces.len().to_string(),
        boxes.join(" "),
    ]
}

/// `DIR/<file name>`, with `-2`, `-3`... before the extension when several
/// inputs share a file name or when the name is one of the input images
/// (`inputs`, canonical paths), so that no input is overwritten. Always
/// PNG-or-input format by extension.
fn unique_output_path(
    dir: &Path,
    input: &Path,
    taken: &mut HashSet<PathBuf>,
    inputs: &HashSet<PathBuf>,
) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or_else(|| "image".to_string(), |s| s.to_string_lossy().into_owned());
    let ext = input
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .filter(|e| matches!(e.as_str(), "png" | "jpg" | "jpeg" | "bmp"))
        .unwrap_or_else(|| "png".to_string());
    let is_input =
        |candidate: &Path| std::fs::canonicalize(candidate).is_ok_and(|c| inputs.contains(&c));
    let mut candidate = dir.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while is_input(&candidate) || !taken.insert(candidate.clone()) {
        candidate = dir.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    candidate
}
