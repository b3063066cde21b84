//! The tagger's weights: the tensors `scripts/musicnn_convert.py` writes,
//! read and checked layer by layer, with every batch normalisation turned
//! into a per-channel scale and shift (and folded into the dense layers
//! that follow one).

use std::collections::HashMap;

use super::layers::{
    Affine, ConvBlock, Dense, DENSE_UNITS, FRONT_CHANNELS, MID_FILTERS, MID_KERNEL,
    POOLED_CHANNELS, TAG_COUNT, TEMPORAL_FILTERS, TEMPORAL_FRAMES, TIMBRAL_BANDS, TIMBRAL_FILTERS,
};
use super::timbral::TimbralSpectra;

/// TensorFlow's default batch-normalisation epsilon.
const BN_EPSILON: f32 = 1e-3;
/// The file's first eight bytes.
const MAGIC: &[u8; 8] = b"MLDTNSR2";
/// A tensor stored as little-endian f32 values.
const KIND_F32: u8 = 0;
/// A tensor stored as i8 values and an f32 scale per entry of its last dim.
const KIND_I8: u8 = 1;

/// Why a tagger model file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    /// Not a file `scripts/musicnn_convert.py` wrote.
    #[error("not a Melodora tensor file (no MLDTNSR2 header)")]
    NotATensorFile,
    /// A tensor stored in a way this reader does not know.
    #[error("layer {0}: stored in an unknown encoding")]
    UnknownEncoding(String),
    /// The file ends inside a record.
    #[error("the tensor file is truncated ({0})")]
    Truncated(String),
    /// A tensor the network needs is missing.
    #[error("layer {0}: missing from the model file")]
    Missing(String),
    /// A tensor has the wrong shape.
    #[error("layer {name}: expected shape {expected:?}, found {found:?}")]
    Shape {
        /// The tensor.
        name: String,
        /// What the network needs.
        expected: Vec<usize>,
        /// What the file holds.
        found: Vec<usize>,
    },
    /// A weight is NaN or infinite.
    #[error("layer {0}: holds a value that is not finite")]
    NotFinite(String),
}

/// musicnn's MSD network, ready to run.
#[derive(Debug, Clone)]
pub struct Network {
    /// The input's batch norm (one channel).
    pub input: Affine,
    /// Timbral blocks: 7 frames by `TIMBRAL_BANDS` mel bands, their
    /// filters kept only in the frequency domain, as they run.
    pub timbral: [TimbralSpectra; 2],
    /// Temporal blocks: `TEMPORAL_FRAMES` frames of one band.
    pub temporal: [ConvBlock; 3],
    /// The three mid-end convolutions (7 frames).
    pub mid: [ConvBlock; 3],
    /// The penultimate layer, with the pooled features' batch norm folded in.
    pub penultimate: Dense,
    /// The tag layer, with the penultimate batch norm folded in.
    pub tags: Dense,
}

/// The tensors of a file, by name: shape and values.
type Tensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

fn read_tensors(bytes: &[u8]) -> Result<Tensors, ModelError> {
    let mut reader = Reader { bytes, pos: 0 };
    if reader.take(8, "header")? != MAGIC {
        return Err(ModelError::NotATensorFile);
    }
    let count = reader.u32("tensor count")? as usize;
    let mut tensors = HashMap::new();
    for _ in 0..count {
        let name_len = u16::from_le_bytes(reader.array("name length")?) as usize;
        let name = String::from_utf8_lossy(reader.take(name_len, "name")?).into_owned();
        let rank = reader.take(1, &name)?[0] as usize;
        let mut shape = Vec::with_capacity(rank);
        for _ in 0..rank {
            shape.push(reader.u32(&name)? as usize);
        }
        let values = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| ModelError::Truncated(name.clone()))?;
        let kind = reader.take(1, &name)?[0];
        let data = match kind {
            KIND_F32 => f32s(reader.take(values.saturating_mul(4), &name)?),
            KIND_I8 => {
                let channels = shape.last().copied().unwrap_or(1).max(1);
                let codes = reader.take(values, &name)?;
                let scales = f32s(reader.take(channels.saturating_mul(4), &name)?);
                codes
                    .iter()
                    .enumerate()
                    .map(|(i, &code)| f32::from(code as i8) * scales[i % channels])
                    .collect()
            }
            _ => return Err(ModelError::UnknownEncoding(name)),
        };
        if data.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NotFinite(name));
        }
        tensors.insert(name, (shape, data));
    }
    Ok(tensors)
}

/// Little-endian f32 values.
fn f32s(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], ModelError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| ModelError::Truncated(what.to_string()))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ModelError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
}

fn tensor(tensors: &Tensors, name: &str, expected: &[usize]) -> Result<Vec<f32>, ModelError> {
    let (shape, data) = tensors
        .get(name)
        .ok_or_else(|| ModelError::Missing(name.to_string()))?;
    if shape != expected {
        return Err(ModelError::Shape {
            name: name.to_string(),
            expected: expected.to_vec(),
            found: shape.clone(),
        });
    }
    Ok(data.clone())
}

/// TensorFlow's name for the `index`-th layer of a kind: `conv2d`, `conv2d_1`, …
fn layer_name(kind: &str, index: usize) -> String {
    if index == 0 {
        kind.to_string()
    } else {
        format!("{kind}_{index}")
    }
}

fn batch_norm(tensors: &Tensors, index: usize, channels: usize) -> Result<Affine, ModelError> {
    let prefix = layer_name("batch_normalization", index);
    let read = |part: &str| tensor(tensors, &format!("{prefix}/{part}"), &[channels]);
    let (gamma, beta) = (read("gamma")?, read("beta")?);
    let (mean, variance) = (read("moving_mean")?, read("moving_variance")?);
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&variance)
        .map(|(g, v)| g / (v + BN_EPSILON).sqrt())
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    Ok(Affine { scale, shift })
}

fn conv(
    tensors: &Tensors,
    index: usize,
    shape: [usize; 4],
    norm: usize,
) -> Result<ConvBlock, ModelError> {
    let name = layer_name("conv2d", index);
    let filters = shape[3];
    Ok(ConvBlock {
        kernel: tensor(tensors, &format!("{name}/kernel"), &shape)?,
        rows: shape[0] * shape[1] * shape[2],
        bias: tensor(tensors, &format!("{name}/bias"), &[filters])?,
        norm: batch_norm(tensors, norm, filters)?,
    })
}

/// Folds `norm` (applied to a dense layer's input) into the layer:
/// W' = diag(scale) W, b' = b + shift W.
fn fold_input_norm(norm: &Affine, weights: &[f32], bias: &[f32]) -> Dense {
    let outputs = bias.len();
    let mut folded = weights.to_vec();
    let mut new_bias = bias.to_vec();
    for (i, row) in folded.chunks_exact_mut(outputs).enumerate() {
        for (j, w) in row.iter_mut().enumerate() {
            new_bias[j] += norm.shift[i] * *w;
            *w *= norm.scale[i];
        }
    }
    Dense {
        weights: folded,
        bias: new_bias,
    }
}

impl Network {
    /// Reads a tensor file written by `scripts/musicnn_convert.py` from
    /// musicnn's MSD checkpoint; an error names the layer that does not fit.
    pub fn parse(bytes: &[u8]) -> Result<Network, ModelError> {
        let tensors = read_tensors(bytes)?;
        let timbral = [
            TimbralSpectra::new(
                &conv(&tensors, 0, [7, TIMBRAL_BANDS[0], 1, TIMBRAL_FILTERS], 1)?,
                TIMBRAL_BANDS[0],
            ),
            TimbralSpectra::new(
                &conv(&tensors, 1, [7, TIMBRAL_BANDS[1], 1, TIMBRAL_FILTERS], 2)?,
                TIMBRAL_BANDS[1],
            ),
        ];
        let temporal = [
            conv(&tensors, 2, [TEMPORAL_FRAMES[0], 1, 1, TEMPORAL_FILTERS], 3)?,
            conv(&tensors, 3, [TEMPORAL_FRAMES[1], 1, 1, TEMPORAL_FILTERS], 4)?,
            conv(&tensors, 4, [TEMPORAL_FRAMES[2], 1, 1, TEMPORAL_FILTERS], 5)?,
        ];
        let mid = [
            conv(&tensors, 5, [MID_KERNEL, FRONT_CHANNELS, 1, MID_FILTERS], 6)?,
            conv(&tensors, 6, [MID_KERNEL, MID_FILTERS, 1, MID_FILTERS], 7)?,
            conv(&tensors, 7, [MID_KERNEL, MID_FILTERS, 1, MID_FILTERS], 8)?,
        ];
        let pooled = 2 * POOLED_CHANNELS;
        let penultimate = fold_input_norm(
            &batch_norm(&tensors, 9, pooled)?,
            &tensor(&tensors, "dense/kernel", &[pooled, DENSE_UNITS])?,
            &tensor(&tensors, "dense/bias", &[DENSE_UNITS])?,
        );
        let tags = fold_input_norm(
            &batch_norm(&tensors, 10, DENSE_UNITS)?,
            &tensor(&tensors, "dense_1/kernel", &[DENSE_UNITS, TAG_COUNT])?,
            &tensor(&tensors, "dense_1/bias", &[TAG_COUNT])?,
        );
        Ok(Network {
            input: batch_norm(&tensors, 0, 1)?,
            timbral,
            temporal,
            mid,
            penultimate,
            tags,
        })
    }
}
