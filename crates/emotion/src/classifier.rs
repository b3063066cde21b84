//! Running an emotion model: load and check an ONNX file against its
//! description, then classify batches of faces in one run — on the direct
//! engine when the graph is made of the CNN layers it knows (see
//! `direct::compile`), else on tract.

use std::path::Path;

use melodora_core::{Emotion, EmotionProbabilities};

use crate::description::{read_description_text, ModelDescription, OutputKind, METADATA_KEY};
use crate::direct::{softmax, DirectNet};
use crate::error::{ModelError, SidecarError};
use crate::onnx::{self, ModelProto};
use crate::preprocess::input_tensor;
#[cfg(feature = "tract")]
use crate::tract_engine::TractModel;
use melodora_core::GrayImage;

/// Melodora's default model (see `assets/MODEL_CARD.md`), embedded.
pub const DEFAULT_MODEL_ONNX: &[u8] = include_bytes!("../../../assets/emotion.onnx");

/// Largest model file we load.
const MAX_MODEL_BYTES: u64 = 512 * 1024 * 1024;

/// Largest batch compiled as one plan; bigger batches run in chunks.
const MAX_BATCH: usize = 16;

/// Which implementation runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Melodora's direct convolutions (the usual FER CNN layers, residual
    /// and depthwise ones included; see `direct`).
    Direct,
    /// tract, for every other graph.
    Tract,
}

impl Engine {
    /// The engine's name, as `MELODORA_ENGINE` and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Direct => "direct",
            Engine::Tract => "tract",
        }
    }
}

/// The environment variable that picks the engine: `tract` runs every
/// model on tract, `direct` uses the direct engine wherever it takes the
/// graph, even without AVX2; unset, the direct engine is used where it
/// takes the graph and the CPU has AVX2 or AVX-512 (its portable kernel is
/// slower than tract's).
pub const ENGINE_ENV: &str = "MELODORA_ENGINE";

/// The engine used unless [`ENGINE_ENV`] says otherwise: the direct engine
/// where its AVX2 or AVX-512 kernels run (on an AVX2 CPU 1.8 ms a face
/// against tract's 7.1 and ONNX Runtime's 3.6, docs/PERFORMANCE.md;
/// without either, tract's kernels are faster), and always without tract.
fn default_engine() -> Engine {
    #[cfg(feature = "tract")]
    if melodora_core::simd::simd_level() < melodora_core::simd::SimdLevel::Avx2 {
        return Engine::Tract;
    }
    Engine::Direct
}

/// The engine asked for by [`ENGINE_ENV`], if any.
fn engine_from_env() -> Option<Engine> {
    match std::env::var(ENGINE_ENV).as_deref() {
        Ok("tract") => Some(Engine::Tract),
        Ok("direct") => Some(Engine::Direct),
        _ => None,
    }
}

/// An ONNX emotion classifier, ready to run.
///
/// A model made of the layers FER CNNs usually have (convolutions, plain or
/// depthwise, pooling, residual additions, dense layers) runs on the direct
/// engine, after a check at load time that it gives tract's results on a
/// probe input. Others run on tract (see `tract_engine`). A build without
/// the `tract` feature has the direct engine only, and refuses models it
/// does not take.
pub struct EmotionClassifier {
    /// The graph as the direct engine reads it.
    proto: ModelProto,
    #[cfg(feature = "tract")]
    tract: TractModel,
    direct: Option<DirectNet>,
    description: ModelDescription,
    emotions: Vec<Emotion>,
}

impl std::fmt::Debug for EmotionClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmotionClassifier")
            .field("description", &self.description)
            .field("engine", &self.engine())
            .finish()
    }
}

impl EmotionClassifier {
    /// The embedded default model with its own description.
    pub fn default_model() -> Result<Self, ModelError> {
        Self::from_onnx_bytes(DEFAULT_MODEL_ONNX, None)
    }

    /// Loads `path`; the description is `description` if given, else a JSON
    /// sidecar (`<path>.json` or the path with `.json` as extension), else
    /// the model's metadata.
    pub fn from_path(
        path: &Path,
        description: Option<ModelDescription>,
    ) -> Result<Self, ModelError> {
        let size = std::fs::metadata(path).map_err(ModelError::Io)?.len();
        if size > MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge {
                size,
                max: MAX_MODEL_BYTES,
            });
        }
        let bytes = melodora_core::read_at_most(path, MAX_MODEL_BYTES).map_err(ModelError::Io)?;
        let description = match description {
            Some(d) => Some(d),
            None => read_sidecar(path)?,
        };
        Self::from_onnx_bytes(&bytes, description)
    }

    /// Loads an in-memory ONNX model (see [`from_path`](Self::from_path)).
    pub fn from_onnx_bytes(
        bytes: &[u8],
        description: Option<ModelDescription>,
    ) -> Result<Self, ModelError> {
        let proto = onnx::parse(bytes).map_err(|e| ModelError::NotOnnx(e.into()))?;
        if proto.graph.is_none() {
            return Err(ModelError::NotOnnx("the file has no graph".into()));
        }
        let description = match description {
            Some(d) => d,
            None => description_from_metadata(&proto)?.ok_or(ModelError::NoDescription)?,
        };
        let emotions = description.validate()?;
        let classifier = Self {
            #[cfg(feature = "tract")]
            tract: TractModel::load(bytes, &description, emotions.len())?,
            proto,
            direct: None,
            description,
            emotions,
        };
        classifier.with_engine(engine_from_env().unwrap_or_else(default_engine))
    }

    /// The direct engine's version of the model, if it takes the graph and
    /// agrees with tract on a probe batch.
    #[cfg(feature = "tract")]
    fn checked_direct_net(&self) -> Result<Option<DirectNet>, ModelError> {
        let Ok(net) = DirectNet::compile(&self.proto, &self.description.input) else {
            return Ok(None);
        };
        if net.outputs() != self.emotions.len() {
            return Ok(None);
        }
        // One face of pseudo-random pixels, so the check reuses the
        // single-face plan compiled at load.
        let input = &self.description.input;
        let (w, h) = (input.width as usize, input.height as usize);
        let pixels = (0..w * h).map(|i| (i * 7919 % 251) as u8).collect();
        let face = GrayImage::from_pixels(w, h, pixels).expect("w x h pixels");
        let (probe, shape) = input_tensor(std::slice::from_ref(&face), &self.description);
        let expected = self.tract.run(&probe, shape)?;
        let got = net.run(&probe);
        let scale = expected.iter().fold(1f32, |m, v| m.max(v.abs()));
        let agrees = got.len() == expected.len()
            && got
                .iter()
                .zip(&expected)
                .all(|(a, b)| (a - b).abs() <= 1e-3 * scale);
        Ok(agrees.then_some(net))
    }

    /// How the model's input is made and its output read.
    pub fn description(&self) -> &ModelDescription {
        &self.description
    }

    /// The direct engine's version of the model. With no tract to check it
    /// against, the direct engine's own checks (every layer understood,
    /// one output per label) are all there is.
    #[cfg(not(feature = "tract"))]
    fn checked_direct_net(&self) -> Result<Option<DirectNet>, ModelError> {
        let net = DirectNet::compile(&self.proto, &self.description.input)
            .map_err(|e| ModelError::NeedsTract(e.into()))?;
        if net.outputs() != self.emotions.len() {
            return Err(ModelError::Mismatch(
                format!(
                    "the model gives {} scores, the description names {} labels",
                    net.outputs(),
                    self.emotions.len()
                )
                .into(),
            ));
        }
        Ok(Some(net))
    }

    /// The same model on `engine`: tract, or the direct engine if it takes
    /// the graph (else it stays on tract; see [`engine`](Self::engine)).
    /// Without the `tract` feature every model runs on the direct engine.
    pub fn with_engine(mut self, engine: Engine) -> Result<Self, ModelError> {
        self.direct = match engine {
            #[cfg(feature = "tract")]
            Engine::Tract => None,
            _ if self.direct.is_some() => self.direct.take(),
            _ => self.checked_direct_net()?,
        };
        Ok(self)
    }

    /// Which implementation runs this model.
    pub fn engine(&self) -> Engine {
        if self.direct.is_some() {
            Engine::Direct
        } else {
            Engine::Tract
        }
    }

    /// Classifies faces (gray crops of any size), batched: up to 16 faces
    /// per model run.
    pub fn classify(&self, faces: &[GrayImage]) -> Result<Vec<EmotionProbabilities>, ModelError> {
        let mut out = Vec::with_capacity(faces.len());
        for chunk in faces.chunks(MAX_BATCH) {
            out.extend(self.classify_batch(chunk)?);
        }
        Ok(out)
    }

    fn classify_batch(&self, faces: &[GrayImage]) -> Result<Vec<EmotionProbabilities>, ModelError> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        let (data, shape) = input_tensor(faces, &self.description);
        let flat = match &self.direct {
            Some(net) => net.run(&data),
            None => self.run_tract(&data, shape)?,
        };
        let k = self.emotions.len();
        if flat.len() != faces.len() * k {
            return Err(ModelError::Mismatch(Box::from(format!(
                "output has {} values for {} faces, expected {} per face",
                flat.len(),
                faces.len(),
                k
            ))));
        }
        flat.chunks(k).map(|row| self.scores_of(row)).collect()
    }

    /// Runs tract on an input tensor of `shape` (batch first).
    #[cfg(feature = "tract")]
    fn run_tract(&self, data: &[f32], shape: [usize; 4]) -> Result<Vec<f32>, ModelError> {
        self.tract.run(data, shape)
    }

    /// Without tract, every classifier has the direct engine (loading
    /// fails otherwise), so this is never reached.
    #[cfg(not(feature = "tract"))]
    fn run_tract(&self, _: &[f32], _: [usize; 4]) -> Result<Vec<f32>, ModelError> {
        unreachable!("built without tract, a classifier always has the direct engine")
    }

    /// One face's output row as probabilities in [`Emotion::ALL`] order.
    /// A row that is not a probability distribution (NaN or infinite scores,
    /// e.g. from a normalisation that blows the input up, or negative
    /// "probabilities" that are really log-probabilities) is an error, not
    /// a face reported as whichever emotion comes first.
    fn scores_of(&self, row: &[f32]) -> Result<EmotionProbabilities, ModelError> {
        let mut probs = row.to_vec();
        if self.description.output == OutputKind::Logits {
            if let Some(bad) = row.iter().find(|v| !v.is_finite()) {
                return Err(ModelError::Inference(Box::from(format!(
                    "the model produced a score of {bad}; check the description's \
                     normalisation (mean, std)"
                ))));
            }
            softmax(&mut probs);
        }
        // Rounding may leave a softmax a hair outside [0, 1]; more is wrong.
        if let Some(bad) = probs.iter().find(|p| !(-1e-3..=1.0 + 1e-3).contains(*p)) {
            return Err(ModelError::Inference(Box::from(format!(
                "the model produced {bad} as a probability; if its outputs are not \
                 probabilities from 0 to 1, describe them as \"logits\" (output), and \
                 check the normalisation (mean, std)"
            ))));
        }
        let mut probabilities = [0f32; 7];
        for (e, p) in self.emotions.iter().zip(probs) {
            probabilities[*e as usize] = p.clamp(0.0, 1.0);
        }
        Ok(EmotionProbabilities::new(probabilities))
    }
}

fn read_sidecar(path: &Path) -> Result<Option<ModelDescription>, ModelError> {
    let mut candidates = vec![path.with_extension("json")];
    let mut appended = path.as_os_str().to_owned();
    appended.push(".json");
    candidates.insert(0, appended.into());
    for candidate in candidates {
        if candidate.is_file() {
            let sidecar = |source| ModelError::Sidecar {
                path: candidate.clone(),
                source,
            };
            let text =
                read_description_text(&candidate).map_err(|e| sidecar(SidecarError::Io(e)))?;
            let desc = ModelDescription::from_json(&text).map_err(|e| sidecar(e.into()))?;
            return Ok(Some(desc));
        }
    }
    Ok(None)
}

fn description_from_metadata(proto: &ModelProto) -> Result<Option<ModelDescription>, ModelError> {
    match proto.metadata_props.iter().find(|p| p.key == METADATA_KEY) {
        Some(entry) => Ok(Some(ModelDescription::from_json(&entry.value)?)),
        None => Ok(None),
    }
}
