//! The layers other than convolution: pooling, the step from a map to a
//! vector, and the fully connected head. They cost little next to the
//! convolutions, so they are plain loops.

use std::ops::Range;
use std::sync::LazyLock;

use melodora_core::simd::Kernels;

use super::map::{MapShape, LANES};
use super::{larger, relu, MapKernel};

/// [`MaxPool::run`]'s variants: the portable loop and the AVX-512 one
/// (AVX2 gains nothing measurable here, so it runs the portable loop).
#[cfg(target_arch = "x86_64")]
const MAX_POOL: Kernels<MapKernel<MaxPool>> = Kernels {
    portable: MaxPool::run_portable,
    simd128: None,
    avx2: None,
    avx512: Some(MaxPool::run_avx512),
};
#[cfg(not(target_arch = "x86_64"))]
const MAX_POOL: Kernels<MapKernel<MaxPool>> = Kernels::portable(MaxPool::run_portable);

/// Max pooling (ONNX `MaxPool`, floor mode).
#[derive(Debug)]
pub(super) struct MaxPool {
    pub input: MapShape,
    pub output: MapShape,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// Padding before the first row and column (ONNX pads beyond the last
    /// are implied by the output size). Padded positions take no part in
    /// the maximum, so windows are clipped to the image rather than read
    /// from the map's zero border.
    pub pad: (usize, usize),
}

impl MaxPool {
    pub fn run(&self, input: &[f32], output: &mut [f32]) {
        assert!(input.len() >= self.input.len() && output.len() >= self.output.len());
        assert_eq!(self.input.lanes, self.output.lanes);
        static CHOSEN: LazyLock<MapKernel<MaxPool>> = LazyLock::new(|| MAX_POOL.best());
        // SAFETY: `Kernels::best` only picks a variant this CPU supports,
        // and the slices are at least as long as the maps (asserted above).
        unsafe { CHOSEN(self, input, output) }
    }

    /// The input rows and columns of output pixel `(oy, ox)`'s window,
    /// clipped to the image.
    fn window(&self, oy: usize, ox: usize) -> (Range<usize>, Range<usize>) {
        let clip = |o: usize, stride: usize, pad: usize, kernel: usize, size: usize| {
            (o * stride).saturating_sub(pad)..(o * stride + kernel).saturating_sub(pad).min(size)
        };
        (
            clip(
                oy,
                self.stride.0,
                self.pad.0,
                self.kernel.0,
                self.input.height,
            ),
            clip(
                ox,
                self.stride.1,
                self.pad.1,
                self.kernel.1,
                self.input.width,
            ),
        )
    }

    fn run_portable(&self, input: &[f32], output: &mut [f32]) {
        let lanes = self.input.lanes;
        for b in 0..self.output.blocks() {
            for oy in 0..self.output.height {
                for ox in 0..self.output.width {
                    let (rows, columns) = self.window(oy, ox);
                    let mut best = [f32::NEG_INFINITY; LANES];
                    for y in rows {
                        for x in columns.clone() {
                            let at = self.input.interior(b, y, x);
                            for (m, &v) in best.iter_mut().zip(&input[at..at + lanes]) {
                                *m = larger(*m, v);
                            }
                        }
                    }
                    let at = self.output.interior(b, oy, ox);
                    output[at..at + lanes].copy_from_slice(&best[..lanes]);
                }
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX-512F; `input` and `output` must be at least as
    /// long as the pool's input and output maps.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, input: &[f32], output: &mut [f32]) {
        use std::arch::x86_64::*;
        let lanes = self.input.lanes;
        let mask = self.input.lane_mask();
        for b in 0..self.output.blocks() {
            for oy in 0..self.output.height {
                for ox in 0..self.output.width {
                    // Windows are clipped to the image, so every read is
                    // inside the input map.
                    let (rows, columns) = self.window(oy, ox);
                    let mut best = _mm512_set1_ps(f32::NEG_INFINITY);
                    for y in rows {
                        let row = input.as_ptr().add(self.input.interior(b, y, 0));
                        for x in columns.clone() {
                            let v = _mm512_maskz_loadu_ps(mask, row.add(x * lanes));
                            best = _mm512_max_ps(best, v);
                        }
                    }
                    let at = self.output.interior(b, oy, ox);
                    _mm512_mask_storeu_ps(output.as_mut_ptr().add(at), mask, best);
                }
            }
        }
    }
}

/// The sum of two maps of the same channels and size (ONNX `Add` of a
/// residual connection).
#[derive(Debug)]
pub(super) struct AddMaps {
    pub first: MapShape,
    pub second: MapShape,
    pub output: MapShape,
}

impl AddMaps {
    pub fn run(&self, first: &[f32], second: &[f32], output: &mut [f32]) {
        assert!(self.first.lanes == self.output.lanes && self.second.lanes == self.output.lanes);
        let row = self.output.width * self.output.lanes;
        for b in 0..self.output.blocks() {
            for y in 0..self.output.height {
                let (a, c, o) = (
                    self.first.interior(b, y, 0),
                    self.second.interior(b, y, 0),
                    self.output.interior(b, y, 0),
                );
                let out = &mut output[o..o + row];
                for ((v, x), z) in out
                    .iter_mut()
                    .zip(&first[a..a + row])
                    .zip(&second[c..c + row])
                {
                    *v = x + z;
                }
            }
        }
    }
}

/// Mean of each channel over the map (ONNX `GlobalAveragePool`, or
/// `ReduceMean` over the spatial axes), giving a vector.
pub(super) fn global_mean(shape: &MapShape, map: &[f32], out: &mut Vec<f32>) {
    out.clear();
    let n = (shape.height * shape.width) as f32;
    for c in 0..shape.channels {
        let (block, lane) = (c / shape.lanes, c % shape.lanes);
        let mut sum = 0f32;
        for y in 0..shape.height {
            for x in 0..shape.width {
                sum += map[shape.interior(block, y, x) + lane];
            }
        }
        out.push(sum / n);
    }
}

/// A fully connected layer `y = W x + b` (ONNX `Gemm`, or `MatMul` then
/// `Add`), with `alpha` and `beta` folded in.
#[derive(Debug)]
pub(super) struct Dense {
    pub inputs: usize,
    /// `[output][input]`.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    pub relu: bool,
}

impl Dense {
    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    pub fn run(&self, x: &[f32], out: &mut Vec<f32>) {
        out.clear();
        for (row, b) in self.weights.chunks_exact(self.inputs).zip(&self.bias) {
            let y = b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
            out.push(if self.relu { relu(y) } else { y });
        }
    }
}

/// Softmax over a vector, in place (also applied by the classifier to
/// models that output logits).
pub(crate) fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_pool_takes_the_largest_value_of_each_window() {
        let input = MapShape::new(1, 2, 4);
        let output = MapShape::new(1, 1, 2);
        let planar = [1.0, 5.0, -1.0, -2.0, 3.0, 2.0, -3.0, -4.0];
        let mut map = vec![0f32; input.len()];
        input.fill_from_planar(&planar, &mut map);
        let pool = MaxPool {
            input,
            output,
            kernel: (2, 2),
            stride: (2, 2),
            pad: (0, 0),
        };
        let mut out = vec![0f32; output.len()];
        pool.run(&map, &mut out);
        let mut flat = Vec::new();
        output.copy_to_planar(&out, &mut flat);
        assert_eq!(flat, [5.0, -1.0]);
    }

    /// Padding is left out of the maximum: an all-negative map stays
    /// negative where a window hangs over its edge, even though the map's
    /// border holds zeros.
    #[test]
    fn padded_max_pool_ignores_the_padding() {
        // 3x3 windows, stride 2, padding 1 on every side: 3x3 → 2x2.
        let mut input = MapShape::new(1, 3, 3);
        (input.border_y, input.border_x) = (1, 1);
        let output = MapShape::new(1, 2, 2);
        let planar = [-9.0, -8.0, -7.0, -6.0, -5.0, -4.0, -3.0, -2.0, -1.0];
        let mut map = vec![0f32; input.len()];
        input.fill_from_planar(&planar, &mut map);
        let pool = MaxPool {
            input,
            output,
            kernel: (3, 3),
            stride: (2, 2),
            pad: (1, 1),
        };
        for (name, kernel) in MAX_POOL.runnable() {
            let mut out = vec![0f32; output.len()];
            // SAFETY: `runnable` lists only variants this CPU supports; the
            // maps are full size.
            unsafe { kernel(&pool, &map, &mut out) };
            let mut flat = Vec::new();
            output.copy_to_planar(&out, &mut flat);
            // Windows: rows -1..2 / 1..4, columns likewise, clipped to 0..3.
            assert_eq!(flat, [-5.0, -4.0, -2.0, -1.0], "{name:?}");
        }
    }

    #[test]
    fn add_maps_sums_the_interiors_whatever_their_borders() {
        let mut first = MapShape::new(2, 2, 3);
        first.border_x = 1;
        let mut second = MapShape::new(2, 2, 3);
        second.border_y = 2;
        let output = MapShape::new(2, 2, 3);
        let a: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let b: Vec<f32> = (0..12).map(|v| 100.0 * v as f32).collect();
        let (mut ma, mut mb) = (vec![0f32; first.len()], vec![0f32; second.len()]);
        first.fill_from_planar(&a, &mut ma);
        second.fill_from_planar(&b, &mut mb);
        let add = AddMaps {
            first,
            second,
            output,
        };
        let mut out = vec![0f32; output.len()];
        add.run(&ma, &mb, &mut out);
        let mut flat = Vec::new();
        output.copy_to_planar(&out, &mut flat);
        let expected: Vec<f32> = (0..12).map(|v| 101.0 * v as f32).collect();
        assert_eq!(flat, expected);
    }

    #[test]
    fn dense_applies_weights_bias_and_relu() {
        let dense = Dense {
            inputs: 2,
            weights: vec![1.0, 2.0, -1.0, 0.0],
            bias: vec![0.5, 0.0],
            relu: true,
        };
        let mut out = Vec::new();
        dense.run(&[3.0, 4.0], &mut out);
        assert_eq!(out, [11.5, 0.0]);
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_the_order() {
        let mut v = [1.0, 3.0, 2.0];
        softmax(&mut v);
        assert!((v.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(v[1] > v[2] && v[2] > v[0]);
    }
}
