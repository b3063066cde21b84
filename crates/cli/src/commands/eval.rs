//! `melodora eval`: accuracy of an emotion model on an image-folder data set
//! (class subfolders angry, disgust, ... or the original's disgusted, ...).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use melodora_core::{largest_face, Emotion, EmotionProbabilities, ErrorChain};
use melodora_emotion::calibration_study::{simulate, StudyRow};
use melodora_emotion::{resize_face, ClassMetrics, ConfusionMatrix};
use melodora_vision::{load_image, GrayImage};
use serde::Serialize;

use crate::detector_args::DetectorArgs;
use crate::emotion_args::EmotionArgs;
use crate::report::format_table;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Folder with one subfolder of images per emotion.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub emotion: EmotionArgs,
    /// Detect the largest face in each image first (otherwise images are
    /// taken as already-cropped faces).
    #[arg(long)]
    pub detect: bool,
    #[command(flatten)]
    pub detector: DetectorArgs,
    /// Faces per inference batch.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub batch: u32,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also measure personal calibration on simulated people (see
    /// docs/CALIBRATION.md): readings leaning towards one emotion,
    /// calibrated on neutral faces, scored on all.
    #[arg(long)]
    pub calibration: bool,
    /// Simulated people per condition of `--calibration`.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub people: u32,
    /// Turn each image by this many degrees (clockwise) on a plain canvas
    /// twice its size before detecting (with `--detect`): how tilted heads
    /// read. The face is enlarged to `--rotate-size` pixels as it is turned.
    #[arg(long, value_name = "DEG", requires = "detect", value_parser = parse_degrees)]
    pub rotate: Option<f32>,
    /// With `--rotate`: the size (pixels, the longer side) each image is
    /// enlarged to as it is turned. A webcam sees a face at arm's length
    /// 150-250 pixels tall; turning FER's 48-pixel crops at their own size
    /// would blur them twice (turned, then levelled back), a loss no camera
    /// causes.
    #[arg(long, value_name = "PX", default_value_t = 192, requires = "rotate",
          value_parser = clap::value_parser!(u32).range(16..=1024))]
    pub rotate_size: u32,
    /// Do not level the eyes of faces a CNN detector found before
    /// classifying (for comparison).
    #[arg(long)]
    pub no_align: bool,
}

fn parse_degrees(text: &str) -> Result<f32, String> {
    let degrees: f32 = text
        .parse()
        .map_err(|_| format!("not a number of degrees: {text}"))?;
    if degrees.is_finite() && degrees.abs() <= 180.0 {
        Ok(degrees)
    } else {
        Err(format!("degrees must be -180 to 180, not {text}"))
    }
}

/// `img` enlarged to `size` pixels (its longer side) and turned by
/// `degrees` (clockwise) about its centre, on a canvas twice that size
/// filled with its mean gray: one bilinear sampling of the original pixels,
/// as a camera would see the same face tilted.
fn turned_on_canvas(img: &GrayImage, degrees: f32, size: u32) -> GrayImage {
    let (w, h) = (img.width(), img.height());
    let scale = size as f32 / w.max(h).max(1) as f32;
    let (sw, sh) = (
        (w as f32 * scale).round().max(1.0),
        (h as f32 * scale).round().max(1.0),
    );
    let (cw, ch) = (2 * sw as usize, 2 * sh as usize);
    let mean = (img.pixels().iter().map(|&v| v as u64).sum::<u64>() / (w * h).max(1) as u64) as f32;
    let (sin, cos) = degrees.to_radians().sin_cos();
    let mut pixels = Vec::with_capacity(cw * ch);
    for y in 0..ch {
        for x in 0..cw {
            let (dx, dy) = (x as f32 + 0.5 - sw, y as f32 + 0.5 - sh);
            // The source of canvas (x, y): turned back by the angle, then
            // shrunk to the original's pixels.
            let sx = (dx * cos + dy * sin + sw / 2.0) / scale - 0.5;
            let sy = (-dx * sin + dy * cos + sh / 2.0) / scale - 0.5;
            let value = if sx < -0.5 || sy < -0.5 || sx > w as f32 - 0.5 || sy > h as f32 - 0.5 {
                mean
            } else {
                let (sx, sy) = (sx.clamp(0.0, (w - 1) as f32), sy.clamp(0.0, (h - 1) as f32));
                let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                let at = |x: usize, y: usize| img.row(y)[x] as f32;
                (at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx) * (1.0 - fy)
                    + (at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx) * fy
            };
            pixels.push(value.round().clamp(0.0, 255.0) as u8);
        }
    }
    GrayImage::from_pixels(cw, ch, pixels).expect("the canvas holds its pixels")
}

/// The conditions `--calibration` runs: (lean, nats, resting frames). No
/// lean measures what calibrating costs people the model reads right; one
/// frame is one face seen for the whole capture.
const CALIBRATION_CONDITIONS: [(Option<Emotion>, f32, usize); 9] = [
    (None, 0.0, 30),
    (None, 0.0, 1),
    (Some(Emotion::Sad), 1.0, 30),
    (Some(Emotion::Sad), 2.0, 30),
    (Some(Emotion::Sad), 2.0, 1),
    (Some(Emotion::Angry), 1.0, 30),
    (Some(Emotion::Angry), 2.0, 30),
    (Some(Emotion::Happy), 1.0, 30),
    (Some(Emotion::Fear), 1.0, 30),
];

#[derive(Serialize)]
struct EvalReport {
    n: u64,
    accuracy: f64,
    per_class: BTreeMap<&'static str, ClassMetrics>,
    confusion: Vec<Vec<u64>>,
    labels: Vec<&'static str>,
    model: String,
    unreadable: usize,
    no_face: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calibration: Vec<StudyRow>,
}

const IMAGE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "bmp", "webp", "gif"];

/// (true emotion, image path) for every image under a known class folder.
fn collect(dir: &Path) -> Result<Vec<(Emotion, PathBuf)>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut items = Vec::new();
    let mut classes = 0;
    let mut sub: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    sub.sort();
    for class_dir in sub {
        let name = class_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let Ok(emotion) = name.parse::<Emotion>() else {
            tracing::warn!("skipping folder {name:?}: not an emotion name");
            continue;
        };
        classes += 1;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&class_dir)
            .with_context(|| format!("cannot read {}", class_dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .map(|e| {
                        IMAGE_EXTENSIONS
                            .contains(&e.to_string_lossy().to_ascii_lowercase().as_str())
                    })
                    .unwrap_or(false)
            })
            .collect();
        files.sort();
        items.extend(files.into_iter().map(|f| (emotion, f)));
    }
    if classes == 0 {
        bail!(
            "{} has no class folders; expected subfolders named angry, disgust, fear, happy, neutral, sad, surprise \
             (or disgusted, fearful, surprised)",
            dir.display()
        );
    }
    if items.is_empty() {
        bail!("{} has class folders but no images in them", dir.display());
    }
    Ok(items)
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let items = collect(&args.dir)?;
    let classifier = args.emotion.classifier()?;
    let limits = args.detector.decode_limits()?;
    // Detection only: the classifier below takes whole batches of faces.
    let detector = if args.detect {
        let mut analyzer = args.detector.analyzer(None, args.emotion.face_margin)?;
        analyzer.align = !args.no_align;
        Some(analyzer)
    } else {
        None
    };

    let progress = ProgressBar::new(items.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let input = {
        let spec = &classifier.description().input;
        (spec.width as usize, spec.height as usize)
    };
    let mut confusion = ConfusionMatrix::new();
    let mut readings: Vec<(Emotion, EmotionProbabilities)> = Vec::new();
    let (mut unreadable, mut no_face) = (0, 0);
    for chunk in items.chunks(args.batch as usize) {
        let mut faces: Vec<GrayImage> = Vec::with_capacity(chunk.len());
        let mut truths = Vec::with_capacity(chunk.len());
        for (truth, path) in chunk {
            let image = match load_image(path, &limits) {
                Ok(img) if args.rotate.is_some() => turned_on_canvas(
                    &GrayImage::from_dynamic(&img),
                    args.rotate.unwrap_or(0.0),
                    args.rotate_size,
                ),
                Ok(img) => GrayImage::from_dynamic(&img),
                Err(e) => {
                    progress.suspend(|| {
                        eprintln!("melodora: warning: {}: {}", path.display(), ErrorChain(&e))
                    });
                    unreadable += 1;
                    continue;
                }
            };
            let face = match &detector {
                None => Some(image),
                Some(analyzer) => {
                    let (faces, _) = analyzer.find_faces(&image, None)?;
                    largest_face(faces, |f| f.face).and_then(|f| analyzer.crop(&image, &f))
                }
            };
            match face {
                Some(f) => {
                    // Only the model-sized face is kept for the batch, not
                    // the decoded image (up to the megapixel limit each).
                    faces.push(resize_face(&f, input.0, input.1));
                    truths.push(*truth);
                }
                None => no_face += 1,
            }
        }
        for (probabilities, truth) in classifier.classify(&faces)?.iter().zip(truths) {
            confusion.add(truth, probabilities.top().0);
            if args.calibration {
                readings.push((truth, *probabilities));
            }
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();

    let report = EvalReport {
        n: confusion.total(),
        accuracy: confusion.accuracy(),
        per_class: Emotion::ALL
            .iter()
            .map(|&e| (e.name(), confusion.class_metrics(e)))
            .collect(),
        confusion: confusion.counts().iter().map(|r| r.to_vec()).collect(),
        labels: Emotion::ALL.iter().map(|e| e.name()).collect(),
        model: classifier
            .description()
            .name
            .clone()
            .unwrap_or_else(|| "unnamed".into()),
        unreadable,
        no_face,
        calibration: if args.calibration {
            calibration_study(&readings, args.people as usize)?
        } else {
            Vec::new()
        },
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Every condition of [`CALIBRATION_CONDITIONS`], each with its own seed.
fn calibration_study(
    readings: &[(Emotion, EmotionProbabilities)],
    people: usize,
) -> Result<Vec<StudyRow>> {
    CALIBRATION_CONDITIONS
        .iter()
        .enumerate()
        .map(|(seed, &(lean, nats, frames))| {
            simulate(
                readings,
                lean.map(|e| (e, nats)),
                frames,
                people,
                seed as u64,
            )
            .context("--calibration needs neutral faces in the data set (a neutral folder)")
        })
        .collect()
}

fn print_calibration(rows: &[StudyRow]) {
    println!("\ncalibration on simulated people (see docs/CALIBRATION.md)");
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.bias_toward.map_or("none".to_string(), |e| {
                    format!("{} +{:.1}", e.name(), r.bias)
                }),
                r.frames.to_string(),
                r.people.to_string(),
                format!("{:.2}%", r.accuracy_biased * 100.0),
                format!("{:.2}%", r.accuracy_calibrated_mean * 100.0),
                format!(
                    "{:.2}% .. {:.2}%",
                    r.accuracy_calibrated_min * 100.0,
                    r.accuracy_calibrated_max * 100.0
                ),
                r.recovered()
                    .map_or("-".to_string(), |f| format!("{:.0}%", f * 100.0)),
            ]
        })
        .collect();
    print!(
        "{}",
        format_table(
            &[
                "LEAN",
                "FRAMES",
                "PEOPLE",
                "UNCALIBRATED",
                "CALIBRATED",
                "RANGE",
                "RECOVERED"
            ],
            &cells
        )
    );
}

fn print_report(r: &EvalReport) {
    println!(
        "model {}: accuracy {:.2}% on {} images",
        r.model,
        r.accuracy * 100.0,
        r.n
    );
    if r.unreadable + r.no_face > 0 {
        println!(
            "skipped: {} unreadable, {} without a detected face",
            r.unreadable, r.no_face
        );
    }
    let rows: Vec<Vec<String>> = r
        .labels
        .iter()
        .map(|l| {
            let m = &r.per_class[l];
            vec![
                l.to_string(),
                format!("{:.3}", m.precision),
                format!("{:.3}", m.recall),
                format!("{:.3}", m.f1),
                m.support.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        format_table(&["CLASS", "PRECISION", "RECALL", "F1", "SUPPORT"], &rows)
    );
    println!("\nconfusion (rows: true, columns: predicted, order as above)");
    for (label, row) in r.labels.iter().zip(&r.confusion) {
        let cells: Vec<String> = row.iter().map(|c| format!("{c:>5}")).collect();
        println!("{label:<9}{}", cells.join(""));
    }
    if !r.calibration.is_empty() {
        print_calibration(&r.calibration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> GrayImage {
        let pixels = (0..w * h)
            .map(|i| ((i % w) * 8 + (i / w) * 3) as u8)
            .collect();
        GrayImage::from_pixels(w, h, pixels).unwrap()
    }

    #[test]
    fn unturned_at_its_own_size_the_image_sits_unchanged_in_the_canvas_middle() {
        let img = gradient(12, 10);
        let canvas = turned_on_canvas(&img, 0.0, 12);
        assert_eq!((canvas.width(), canvas.height()), (24, 20));
        for y in 0..10 {
            assert_eq!(&canvas.row(y + 5)[6..18], img.row(y), "row {y}");
        }
        // The border is the image's mean gray.
        let mean = (img.pixels().iter().map(|&v| v as u32).sum::<u32>() / 120) as u8;
        assert_eq!(canvas.row(0)[0], mean);
    }

    #[test]
    fn a_quarter_turn_enlarged_twice_puts_the_top_row_on_the_right() {
        let mut pixels = vec![0u8; 16 * 16];
        pixels[..16].fill(255); // the top row
        let img = GrayImage::from_pixels(16, 16, pixels).unwrap();
        let canvas = turned_on_canvas(&img, 90.0, 32);
        assert_eq!((canvas.width(), canvas.height()), (64, 64));
        // Turned clockwise, the image's top lies along its right side
        // (canvas columns 16..48, the right edge at 47), about two pixels
        // wide once enlarged; the canvas beyond is the mean gray.
        let row = canvas.row(32);
        assert!(row[47] > 200 && row[46] > 150, "{:?}", &row[40..50]);
        assert!(row[44] < 30 && row[16] < 30, "{:?}", &row[40..50]);
        assert_eq!(row[48], row[0]);
    }
}
