//! Detector options shared by the commands that detect faces.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::builder::TypedValueParser;
use clap::Args;
use melodora_vision::pipeline::FrameAnalyzer;
use melodora_vision::{
    Cascade, DecodeLimits, DetectParams, DetectorChoice, EmotionClassifier, FaceFinder,
    HaarDetector,
};

/// `--detector`'s parser: one of [`DetectorChoice::ALL`] by name (listed
/// in `--help`).
pub fn detector_choice() -> impl clap::builder::TypedValueParser<Value = DetectorChoice> {
    clap::builder::PossibleValuesParser::new(DetectorChoice::ALL.map(DetectorChoice::name)).map(
        |name| {
            name.parse::<DetectorChoice>()
                .expect("a DetectorChoice's name")
        },
    )
}

/// Options that choose and tune the face detector.
#[derive(Args, Debug, Clone)]
pub struct DetectorArgs {
    /// Which face detector: `haar` (OpenCV's cascade, exactly: frontal
    /// faces), `blazeface` (MediaPipe's CNN, faces near the camera, turned
    /// heads too) or `blazeface-full` (faces across a room). The Haar
    /// options below tune only `haar`.
    #[arg(long = "detector", value_name = "NAME", default_value = "haar", value_parser = detector_choice())]
    pub choice: DetectorChoice,
    /// How much the search window grows per pyramid level (at least 1.01).
    #[arg(long, default_value_t = 1.1)]
    pub scale_factor: f64,
    /// Neighbouring detections needed to keep a face (0 = raw windows).
    #[arg(long, default_value_t = 5)]
    pub min_neighbors: u32,
    /// Smallest face to look for, in pixels (square side).
    #[arg(long, value_name = "PX")]
    pub min_size: Option<u32>,
    /// Largest face to look for, in pixels (square side).
    #[arg(long, value_name = "PX")]
    pub max_size: Option<u32>,
    /// OpenCV Haar cascade XML to use instead of the embedded frontal-face one.
    #[arg(long, value_name = "FILE")]
    pub cascade: Option<PathBuf>,
    /// Worker threads (0 = all cores, 1 = no parallelism; at most 256).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=256))]
    pub threads: u16,
    /// Refuse images larger than this many megapixels.
    #[arg(long, value_name = "MP", default_value_t = 50.0)]
    pub max_megapixels: f64,
}

impl DetectorArgs {
    /// Detection parameters, validated.
    pub fn params(&self) -> Result<DetectParams> {
        let square = |s: Option<u32>| s.map_or((0, 0), |s| (s, s));
        let params = DetectParams {
            scale_factor: self.scale_factor,
            min_neighbors: self.min_neighbors,
            min_size: square(self.min_size),
            max_size: square(self.max_size),
        };
        params.validate()?;
        Ok(params)
    }

    /// Loads the cascade (embedded default or `--cascade`) into a detector.
    pub fn haar_detector(&self) -> Result<HaarDetector> {
        let cascade = match &self.cascade {
            None => Cascade::frontal_face_default(),
            Some(path) => load_cascade(path)?,
        };
        Ok(HaarDetector::new(cascade).with_threads(usize::from(self.threads))?)
    }

    /// How faces are found: the chosen detector.
    pub fn finder(&self) -> Result<FaceFinder> {
        Ok(match self.choice.blazeface_range() {
            None => FaceFinder::Haar {
                detector: self.haar_detector()?,
                params: self.params()?,
            },
            Some(range) => FaceFinder::blazeface(range),
        })
    }

    /// The frame analyzer these options describe, classifying with
    /// `classifier` (none: detection only) faces enlarged by `face_margin`.
    pub fn analyzer(
        &self,
        classifier: Option<EmotionClassifier>,
        face_margin: f32,
    ) -> Result<FrameAnalyzer> {
        Ok(FrameAnalyzer {
            face_margin,
            ..FrameAnalyzer::with_finder(self.finder()?, classifier)
        })
    }

    pub fn decode_limits(&self) -> Result<DecodeLimits> {
        anyhow::ensure!(
            self.max_megapixels.is_finite() && self.max_megapixels > 0.0,
            "--max-megapixels must be a positive number"
        );
        Ok(DecodeLimits {
            max_pixels: (self.max_megapixels * 1e6) as u64,
            ..DecodeLimits::default()
        })
    }
}

/// Largest cascade file we read (OpenCV's biggest is under 3 MB).
const MAX_CASCADE_BYTES: u64 = 64 * 1024 * 1024;

fn load_cascade(path: &std::path::Path) -> Result<Cascade> {
    let ctx = || format!("cascade {}", path.display());
    let size = std::fs::metadata(path).with_context(ctx)?.len();
    anyhow::ensure!(
        size <= MAX_CASCADE_BYTES,
        "cascade {}: file is {size} bytes, over the {MAX_CASCADE_BYTES}-byte limit",
        path.display()
    );
    let bytes = melodora_core::read_at_most(path, MAX_CASCADE_BYTES).with_context(ctx)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("not UTF-8 text"))
        .with_context(ctx)?;
    Cascade::from_xml(&text).with_context(ctx)
}
