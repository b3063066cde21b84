//! musicnn's forward pass on one 3-second patch: a front end of
//! frequency-spanning (timbral) and time-only (temporal) convolutions,
//! each max-pooled over frequency; three 1-D convolutions over time with
//! residual connections; max and mean over time; two dense layers. The
//! timbral convolutions run through the frequency domain (timbral.rs);
//! every other convolution is one matrix product (ndarray's, which picks
//! AVX/FMA at run time on x86 and vectorises portably elsewhere) on an
//! overlapping strided view of the padded input.

use ndarray::{linalg::general_mat_mul, ArrayView2, ArrayViewMut2, ShapeBuilder};

use super::layers::{
    ConvBlock, Dense, FRONT_CHANNELS, MELS, MID_FILTERS, MID_KERNEL, PATCH_FRAMES, POOLED_CHANNELS,
    TAG_COUNT, TEMPORAL_FILTERS, TEMPORAL_FRAMES, TIMBRAL_FILTERS,
};
use super::model::Network;
use super::timbral::{InputSpectra, PADDED_FILTERS};

/// Frames of zeros either side for the 7-frame convolutions.
const HALF_KERNEL: usize = MID_KERNEL / 2;
/// Frames of the front end computed at once (see [`chunks`]).
const CHUNK_FRAMES: usize = 32;

/// Buffers reused from patch to patch.
#[derive(Default)]
pub struct Scratch {
    input_spectra: InputSpectra,
    fft: Vec<f32>,
    padded: Vec<f32>,
    product: Vec<f32>,
    front: Vec<f32>,
    mid: Vec<f32>,
}

/// `c = a · b`: `a` is `rows × inner` read through `(row stride, column
/// stride)` from `a_data` (strides may overlap: an im2col without the
/// copy), `b` is `inner × cols` row-major, `c` is `rows × cols` row-major.
fn matmul(
    a_data: &[f32],
    (rows, inner): (usize, usize),
    a_strides: (usize, usize),
    b: &[f32],
    cols: usize,
    c: &mut Vec<f32>,
) {
    c.clear();
    c.resize(rows * cols, 0.0);
    let a = ArrayView2::from_shape((rows, inner).strides(a_strides), a_data)
        .expect("the network's shapes fit its buffers");
    let b = ArrayView2::from_shape((inner, cols), b).expect("kernel shape checked on load");
    let mut c = ArrayViewMut2::from_shape((rows, cols), c.as_mut_slice()).expect("sized above");
    general_mat_mul(1.0, &a, &b, 0.0, &mut c);
}

/// ReLU of `value + bias`, then the block's batch norm.
#[inline]
fn activate(block: &ConvBlock, channel: usize, value: f32) -> f32 {
    (value + block.bias[channel]).max(0.0) * block.norm.scale[channel] + block.norm.shift[channel]
}

/// For each of `frames` frames from `first`, the maximum over `positions`
/// frequency positions of each filter's activation (`product` holds those
/// frames' rows), written at `offset` in the front end's rows.
fn pool_over_frequency(
    block: &ConvBlock,
    product: &[f32],
    positions: usize,
    (first, frames): (usize, usize),
    offset: usize,
    front: &mut [f32],
) {
    let filters = block.bias.len();
    for t in 0..frames {
        let row = &mut front[(first + t) * FRONT_CHANNELS + offset..][..filters];
        row.fill(f32::NEG_INFINITY);
        for position in 0..positions {
            let values = &product[(t * positions + position) * filters..][..filters];
            for (c, (best, &v)) in row.iter_mut().zip(values).enumerate() {
                *best = best.max(activate(block, c, v));
            }
        }
    }
}

/// The frame ranges a front-end block is computed in: a chunk's im2col and
/// product take 2-4 MB rather than the whole patch's 20 MB, which kept a
/// library scan on two cores over its 200 MB.
fn chunks() -> impl Iterator<Item = (usize, usize)> {
    (0..PATCH_FRAMES)
        .step_by(CHUNK_FRAMES)
        .map(|first| (first, CHUNK_FRAMES.min(PATCH_FRAMES - first)))
}

impl Network {
    /// The 50 tags' probabilities for one patch of `PATCH_FRAMES × MELS`
    /// log-mel values.
    pub fn run(&self, mel: &[f32], scratch: &mut Scratch) -> [f32; TAG_COUNT] {
        debug_assert_eq!(mel.len(), PATCH_FRAMES * MELS);
        let (scale, shift) = (self.input.scale[0], self.input.shift[0]);
        let Scratch {
            input_spectra,
            fft,
            padded,
            product,
            front,
            mid,
        } = scratch;
        front.clear();
        front.resize(PATCH_FRAMES * FRONT_CHANNELS, 0.0);

        // Timbral blocks: 7 frames by `bands` mel bands, every frequency
        // position, through the frequency domain (timbral.rs).
        input_spectra.compute(mel, scale, shift);
        for (i, spectra) in self.timbral.iter().enumerate() {
            spectra.run(input_spectra, product, fft);
            let offset = i * TIMBRAL_FILTERS;
            for (t, row) in front.chunks_exact_mut(FRONT_CHANNELS).enumerate() {
                row[offset..offset + TIMBRAL_FILTERS]
                    .copy_from_slice(&product[t * PADDED_FILTERS..][..TIMBRAL_FILTERS]);
            }
        }

        // Temporal blocks: `frames` frames of one band ('same' padding, as TensorFlow pads).
        for (i, (block, &frames)) in self.temporal.iter().zip(&TEMPORAL_FRAMES).enumerate() {
            let before = (frames - 1) / 2;
            pad_frames(mel, MELS, before, frames - 1 - before, padded, |v| {
                v * scale + shift
            });
            // Row (t, band) reads padded[(t + dt) * MELS + band]: row stride 1, column stride MELS.
            let offset = 2 * TIMBRAL_FILTERS + i * TEMPORAL_FILTERS;
            for (first, chunk) in chunks() {
                matmul(
                    &padded[first * MELS..],
                    (chunk * MELS, frames),
                    (1, MELS),
                    &block.kernel,
                    TEMPORAL_FILTERS,
                    product,
                );
                pool_over_frequency(block, product, MELS, (first, chunk), offset, front);
            }
        }

        // Mid end: three 7-frame convolutions over the front end's channels, the last two residual.
        mid.clear();
        mid.resize(PATCH_FRAMES * 3 * MID_FILTERS, 0.0);
        for (layer, block) in self.mid.iter().enumerate() {
            let (input, width): (&[f32], usize) = if layer == 0 {
                (front, FRONT_CHANNELS)
            } else {
                (mid, 3 * MID_FILTERS)
            };
            let input_offset = if layer == 0 {
                0
            } else {
                (layer - 1) * MID_FILTERS
            };
            let channels = if layer == 0 {
                FRONT_CHANNELS
            } else {
                MID_FILTERS
            };
            let rows: Vec<f32> = input
                .chunks_exact(width)
                .flat_map(|row| &row[input_offset..input_offset + channels])
                .copied()
                .collect();
            pad_frames(&rows, channels, HALF_KERNEL, HALF_KERNEL, padded, |v| v);
            // Row t reads MID_KERNEL consecutive padded frames: row stride `channels`, column stride 1.
            matmul(
                padded,
                (PATCH_FRAMES, block.rows),
                (channels, 1),
                &block.kernel,
                MID_FILTERS,
                product,
            );
            for t in 0..PATCH_FRAMES {
                for c in 0..MID_FILTERS {
                    let mut value = activate(block, c, product[t * MID_FILTERS + c]);
                    if layer > 0 {
                        value += mid[t * 3 * MID_FILTERS + (layer - 1) * MID_FILTERS + c];
                    }
                    mid[t * 3 * MID_FILTERS + layer * MID_FILTERS + c] = value;
                }
            }
        }

        // Back end: each channel's maximum and mean over time, interleaved as TensorFlow flattens them.
        let mut pooled = vec![0.0f32; 2 * POOLED_CHANNELS];
        for channel in 0..POOLED_CHANNELS {
            let value = |t: usize| {
                if channel < FRONT_CHANNELS {
                    front[t * FRONT_CHANNELS + channel]
                } else {
                    mid[t * 3 * MID_FILTERS + channel - FRONT_CHANNELS]
                }
            };
            let (mut max, mut sum) = (f32::NEG_INFINITY, 0.0f32);
            for t in 0..PATCH_FRAMES {
                let v = value(t);
                max = max.max(v);
                sum += v;
            }
            pooled[2 * channel] = max;
            pooled[2 * channel + 1] = sum / PATCH_FRAMES as f32;
        }
        let hidden: Vec<f32> = dense(&self.penultimate, &pooled)
            .into_iter()
            .map(|v| v.max(0.0))
            .collect();
        let logits = dense(&self.tags, &hidden);
        let mut tags = [0.0f32; TAG_COUNT];
        for (tag, logit) in tags.iter_mut().zip(logits) {
            *tag = 1.0 / (1.0 + (-logit).exp());
        }
        tags
    }
}

/// `rows` of `width` values, with `before` and `after` rows of zeros
/// around them, each value mapped by `map` first.
fn pad_frames(
    rows: &[f32],
    width: usize,
    before: usize,
    after: usize,
    out: &mut Vec<f32>,
    map: impl Fn(f32) -> f32,
) {
    out.clear();
    out.resize(before * width, 0.0);
    out.extend(rows.iter().map(|&v| map(v)));
    out.resize(out.len() + after * width, 0.0);
}

/// `input · weights + bias`.
fn dense(layer: &Dense, input: &[f32]) -> Vec<f32> {
    let outputs = layer.bias.len();
    let mut out = layer.bias.clone();
    for (x, row) in input.iter().zip(layer.weights.chunks_exact(outputs)) {
        for (o, w) in out.iter_mut().zip(row) {
            *o += x * w;
        }
    }
    out
}
