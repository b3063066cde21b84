//! The layers other than convolution: pooling, the step from a map to a
//! vector, and the fully connected head. They cost little next to the
//! convolutions, so they are plain loops.

use super::map::{MapShape, LANES};

/// Max pooling without padding (ONNX `MaxPool`, floor mode).
#[derive(Debug)]
pub(super) struct MaxPool {
    pub input: MapShape,
    pub output: MapShape,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
}

impl MaxPool {
    pub fn run(&self, input: &[f32], output: &mut [f32]) {
        let (kh, kw) = self.kernel;
        let (sy, sx) = self.stride;
        for b in 0..self.output.blocks() {
            for oy in 0..self.output.height {
                for ox in 0..self.output.width {
                    let mut best = [f32::NEG_INFINITY; LANES];
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let at = self.input.interior(b, oy * sy + ky, ox * sx + kx);
                            for (m, &v) in best.iter_mut().zip(&input[at..at + LANES]) {
                                *m = m.max(v);
                            }
                        }
                    }
                    let at = self.output.interior(b, oy, ox);
                    output[at..at + LANES].copy_from_slice(&best);
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
            out.push(if self.relu { y.max(0.0) } else { y });
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
        };
        let mut out = vec![0f32; output.len()];
        pool.run(&map, &mut out);
        let mut flat = Vec::new();
        output.copy_to_planar(&out, &mut flat);
        assert_eq!(flat, [5.0, -1.0]);
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
