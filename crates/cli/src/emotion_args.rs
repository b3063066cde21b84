//! Options that choose the emotion model and describe a user's own model.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use melodora_emotion::{
    read_description_text, InputSpec, Layout, ModelDescription, Normalization, OutputKind,
};
use melodora_vision::EmotionClassifier;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutArg {
    Nchw,
    Nhwc,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputArg {
    Logits,
    Probabilities,
}

/// Which emotion model to run, and how to feed it when it carries no
/// description of its own.
#[derive(Args, Debug, Clone)]
pub struct EmotionArgs {
    /// ONNX emotion model to use instead of the embedded default.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// JSON description of --model (overrides a sidecar and the model's metadata).
    #[arg(long, value_name = "FILE", requires = "model")]
    pub description: Option<PathBuf>,
    /// Model input size in pixels (square), for a model without description.
    #[arg(long, value_name = "PX", requires = "model")]
    pub input_size: Option<u32>,
    /// Model input channels (1 = gray, 3 = gray replicated to RGB).
    #[arg(long, requires = "model")]
    pub channels: Option<u32>,
    /// Model input layout.
    #[arg(long, value_enum, requires = "model")]
    pub layout: Option<LayoutArg>,
    /// Pixel normalisation: x = (pixel / scale - mean) / std.
    #[arg(long, requires = "model")]
    pub scale: Option<f32>,
    #[arg(long, requires = "model", allow_negative_numbers = true)]
    pub mean: Option<f32>,
    #[arg(long, requires = "model")]
    pub std: Option<f32>,
    /// Output labels in model order, comma-separated (e.g. angry,disgust,fear,happy,sad,surprise,neutral).
    #[arg(long, value_delimiter = ',', requires = "model")]
    pub labels: Option<Vec<String>>,
    /// Whether the model outputs logits (softmax applied) or probabilities.
    #[arg(long, value_enum, requires = "model")]
    pub output: Option<OutputArg>,
    /// Margin added around each detected face before classifying, as a
    /// fraction of its size.
    #[arg(long, default_value_t = 0.0)]
    pub face_margin: f32,
}

impl EmotionArgs {
    fn has_field_overrides(&self) -> bool {
        self.input_size.is_some()
            || self.channels.is_some()
            || self.layout.is_some()
            || self.scale.is_some()
            || self.mean.is_some()
            || self.std.is_some()
            || self.labels.is_some()
            || self.output.is_some()
    }

    /// The description given on the command line, if any.
    fn description(&self) -> Result<Option<ModelDescription>> {
        let base = match &self.description {
            Some(path) => {
                let text = read_description_text(path)
                    .with_context(|| format!("cannot read description {}", path.display()))?;
                Some(
                    ModelDescription::from_json(&text)
                        .with_context(|| format!("description {}", path.display()))?,
                )
            }
            None => None,
        };
        if !self.has_field_overrides() {
            return Ok(base);
        }
        let mut desc = match base {
            Some(d) => d,
            None => {
                let (Some(size), Some(labels)) = (self.input_size, &self.labels) else {
                    bail!("describing --model on the command line needs at least --input-size and --labels (or use --description FILE)");
                };
                ModelDescription {
                    name: None,
                    input: InputSpec {
                        width: size,
                        height: size,
                        channels: 1,
                        layout: Layout::Nchw,
                    },
                    normalization: Normalization::default(),
                    labels: labels.clone(),
                    output: OutputKind::Logits,
                }
            }
        };
        if let Some(size) = self.input_size {
            desc.input.width = size;
            desc.input.height = size;
        }
        if let Some(c) = self.channels {
            desc.input.channels = c;
        }
        if let Some(l) = self.layout {
            desc.input.layout = match l {
                LayoutArg::Nchw => Layout::Nchw,
                LayoutArg::Nhwc => Layout::Nhwc,
            };
        }
        if let Some(v) = self.scale {
            desc.normalization.scale = v;
        }
        if let Some(v) = self.mean {
            desc.normalization.mean = v;
        }
        if let Some(v) = self.std {
            desc.normalization.std = v;
        }
        if let Some(labels) = &self.labels {
            desc.labels = labels.clone();
        }
        if let Some(o) = self.output {
            desc.output = match o {
                OutputArg::Logits => OutputKind::Logits,
                OutputArg::Probabilities => OutputKind::Probabilities,
            };
        }
        desc.validate()?;
        Ok(Some(desc))
    }

    /// Loads the chosen model.
    pub fn classifier(&self) -> Result<EmotionClassifier> {
        anyhow::ensure!(
            self.face_margin.is_finite() && (0.0..=1.0).contains(&self.face_margin),
            "--face-margin must be between 0 and 1"
        );
        match &self.model {
            None => EmotionClassifier::default_model().context("embedded emotion model"),
            Some(path) => {
                // A mismatch may be the description's fault: name it too.
                let described_by = match &self.description {
                    Some(file) => format!(" described by {}", file.display()),
                    None if self.has_field_overrides() => {
                        " as described on the command line".into()
                    }
                    None => String::new(),
                };
                EmotionClassifier::from_path(path, self.description()?)
                    .with_context(|| format!("model {}{described_by}", path.display()))
            }
        }
    }
}
