//! Depthwise convolution (ONNX `Conv` with one group per channel), the first
//! half of the separable convolutions of Xception-style networks.
//!
//! Each channel has its own small kernel, so on the blocked layout a tap is
//! one vector multiply-add of 16 input channels by 16 weights: no
//! broadcasts, and a few adds per value loaded. The kernel is plain loops on
//! `[f32; 16]` arrays that the compiler turns into vector code.

use std::sync::LazyLock;

use melodora_core::simd::Kernels;

use super::map::{MapShape, LANES};
use super::{relu, MapKernel};

/// [`Depthwise::run`]'s variants: the portable tiles (also compiled for
/// AVX2, where the compiler vectorises them) and the AVX-512 kernel.
#[cfg(target_arch = "x86_64")]
const RUN: Kernels<MapKernel<Depthwise>> = Kernels {
    portable: run_portable,
    simd128: None,
    avx2: Some(run_avx2),
    avx512: Some(avx512::run),
};
#[cfg(not(target_arch = "x86_64"))]
const RUN: Kernels<MapKernel<Depthwise>> = Kernels::portable(run_portable);

/// A depthwise convolution (its batch norm and ReLU folded in), ready to
/// run.
#[derive(Debug)]
pub(super) struct Depthwise {
    pub input: MapShape,
    pub output: MapShape,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// How far the input's border is wider than the padding (see
    /// [`Conv::skip`](super::conv::Conv::skip)).
    pub skip: (usize, usize),
    /// `[block][ky][kx][lane]` with 16 lanes whatever the maps store, zero
    /// past the real channels.
    pub weights: Vec<f32>,
    /// `[block][lane]`.
    pub bias: Vec<f32>,
    pub relu: bool,
}

/// Output pixels computed together, sharing each weight vector.
const TILE: usize = 8;

impl Depthwise {
    /// Packs ONNX weights `[channel][1][ky][kx]` and a bias for maps `input`
    /// (whose border must be at least the padding `pad`) and `output`, which
    /// have the same channels.
    pub fn new(
        input: MapShape,
        output: MapShape,
        kernel: (usize, usize),
        stride: (usize, usize),
        pad: (usize, usize),
        onnx_weights: &[f32],
        onnx_bias: &[f32],
    ) -> Self {
        let (kh, kw) = kernel;
        let channels = output.channels;
        assert_eq!(input.channels, channels);
        assert_eq!(input.lanes, output.lanes);
        assert!(input.lanes == LANES || channels <= input.lanes);
        assert!(input.border_y >= pad.0 && input.border_x >= pad.1);
        debug_assert_eq!(onnx_weights.len(), channels * kh * kw);
        let mut weights = vec![0f32; output.blocks() * kh * kw * LANES];
        for c in 0..channels {
            for ky in 0..kh {
                for kx in 0..kw {
                    let at = (((c / LANES) * kh + ky) * kw + kx) * LANES + c % LANES;
                    weights[at] = onnx_weights[(c * kh + ky) * kw + kx];
                }
            }
        }
        let mut bias = vec![0f32; output.blocks() * LANES];
        bias[..channels].copy_from_slice(onnx_bias);
        Self {
            input,
            output,
            kernel,
            stride,
            skip: (input.border_y - pad.0, input.border_x - pad.1),
            weights,
            bias,
            relu: false,
        }
    }

    /// Computes `output`'s interior from `input`; the output's border is
    /// left as it is (zero).
    pub fn run(&self, input: &[f32], output: &mut [f32]) {
        assert!(input.len() >= self.input.len() && output.len() >= self.output.len());
        static CHOSEN: LazyLock<MapKernel<Depthwise>> = LazyLock::new(|| RUN.best());
        // SAFETY: `Kernels::best` only picks a variant this CPU supports,
        // and the slices are at least as long as the maps (asserted above).
        unsafe { CHOSEN(self, input, output) }
    }
}

/// The portable kernel compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(conv: &Depthwise, input: &[f32], output: &mut [f32]) {
    run_portable(conv, input, output);
}

#[inline(always)]
fn run_portable(conv: &Depthwise, input: &[f32], output: &mut [f32]) {
    let out_w = conv.output.width;
    for b in 0..conv.output.blocks() {
        for oy in 0..conv.output.height {
            let mut ox = 0;
            while ox + TILE <= out_w {
                tile::<TILE>(conv, input, output, b, oy, ox);
                ox += TILE;
            }
            while ox < out_w {
                tile::<1>(conv, input, output, b, oy, ox);
                ox += 1;
            }
        }
    }
}

#[inline(always)]
fn tile<const T: usize>(
    conv: &Depthwise,
    input: &[f32],
    output: &mut [f32],
    b: usize,
    oy: usize,
    ox0: usize,
) {
    let (kh, kw) = conv.kernel;
    let (sy, sx) = conv.stride;
    let lanes = conv.input.lanes;
    let bias: &[f32; LANES] = conv.bias[b * LANES..(b + 1) * LANES]
        .try_into()
        .expect("a bias block is LANES long");
    let mut acc = [*bias; T];
    for ky in 0..kh {
        let row = conv
            .input
            .offset(b, oy * sy + ky + conv.skip.0, conv.skip.1);
        for kx in 0..kw {
            let at = ((b * kh + ky) * kw + kx) * LANES;
            let w: &[f32; LANES] = conv.weights[at..at + LANES]
                .try_into()
                .expect("a weight block is LANES long");
            for (t, a) in acc.iter_mut().enumerate() {
                let x = row + ((ox0 + t) * sx + kx) * lanes;
                for ((a, x), w) in a.iter_mut().zip(&input[x..x + lanes]).zip(w) {
                    *a += x * w;
                }
            }
        }
    }
    for (t, a) in acc.iter().enumerate() {
        let at = conv.output.interior(b, oy, ox0 + t);
        for (out, &a) in output[at..at + lanes].iter_mut().zip(a) {
            *out = if conv.relu { relu(a) } else { a };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Depthwise, LANES, TILE};

    /// # Safety
    /// The CPU must have AVX-512F; `input` and `output` must be at least as
    /// long as the convolution's input and output maps.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn run(conv: &Depthwise, input: &[f32], output: &mut [f32]) {
        let out_w = conv.output.width;
        let three_by_three = conv.kernel == (3, 3) && conv.stride == (1, 1);
        for b in 0..conv.output.blocks() {
            for oy in 0..conv.output.height {
                let mut ox = 0;
                if three_by_three {
                    while ox + TILE <= out_w {
                        tile_3x3::<TILE>(conv, input, output, b, oy, ox);
                        ox += TILE;
                    }
                }
                while ox + TILE <= out_w {
                    tile::<TILE>(conv, input, output, b, oy, ox);
                    ox += TILE;
                }
                while ox < out_w {
                    tile::<1>(conv, input, output, b, oy, ox);
                    ox += 1;
                }
            }
        }
    }

    /// A tile of a 3x3, stride-1 convolution: each input pixel of a row is
    /// loaded once and feeds the (up to) three outputs whose windows hold
    /// it.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn tile_3x3<const T: usize>(
        conv: &Depthwise,
        input: &[f32],
        output: &mut [f32],
        b: usize,
        oy: usize,
        ox0: usize,
    ) {
        let lanes = conv.input.lanes;
        let mask = conv.input.lane_mask();
        debug_assert!(
            conv.input
                .offset(b, oy + 2 + conv.skip.0, ox0 + T + 1 + conv.skip.1)
                + lanes
                <= input.len()
        );
        let bias = _mm512_loadu_ps(conv.bias.as_ptr().add(b * LANES));
        let mut acc = [bias; T];
        let weights = conv.weights.as_ptr().add(b * 9 * LANES);
        for ky in 0..3 {
            let row = input.as_ptr().add(conv.input.offset(
                b,
                oy + ky + conv.skip.0,
                ox0 + conv.skip.1,
            ));
            let w = weights.add(ky * 3 * LANES);
            let (w0, w1, w2) = (
                _mm512_loadu_ps(w),
                _mm512_loadu_ps(w.add(LANES)),
                _mm512_loadu_ps(w.add(2 * LANES)),
            );
            for j in 0..T + 2 {
                let x = _mm512_maskz_loadu_ps(mask, row.add(j * lanes));
                if j < T {
                    acc[j] = _mm512_fmadd_ps(x, w0, acc[j]);
                }
                if (1..T + 1).contains(&j) {
                    acc[j - 1] = _mm512_fmadd_ps(x, w1, acc[j - 1]);
                }
                if j >= 2 {
                    acc[j - 2] = _mm512_fmadd_ps(x, w2, acc[j - 2]);
                }
            }
        }
        store(conv, output, b, oy, ox0, &acc);
    }

    /// Writes a tile's accumulators (with the ReLU, if any).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store<const T: usize>(
        conv: &Depthwise,
        output: &mut [f32],
        b: usize,
        oy: usize,
        ox0: usize,
        acc: &[__m512; T],
    ) {
        let lanes = conv.output.lanes;
        let mask = conv.input.lane_mask();
        let zero = _mm512_setzero_ps();
        let out = output.as_mut_ptr();
        for (t, &a) in acc.iter().enumerate() {
            let v = if conv.relu { _mm512_max_ps(a, zero) } else { a };
            let at = conv.output.interior(b, oy, ox0 + t);
            debug_assert!(at + lanes <= output.len());
            _mm512_mask_storeu_ps(out.add(at), mask, v);
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn tile<const T: usize>(
        conv: &Depthwise,
        input: &[f32],
        output: &mut [f32],
        b: usize,
        oy: usize,
        ox0: usize,
    ) {
        let (kh, kw) = conv.kernel;
        let (sy, sx) = conv.stride;
        let lanes = conv.input.lanes;
        // Maps of fewer channels store fewer lanes (see MapShape::lanes).
        let mask = conv.input.lane_mask();
        // Every index stays inside the maps: the tile's last pixel is an
        // output pixel, and the input's border covers the padding.
        debug_assert!(
            conv.input.offset(
                b,
                oy * sy + kh - 1 + conv.skip.0,
                (ox0 + T - 1) * sx + kw - 1 + conv.skip.1
            ) + lanes
                <= input.len()
        );
        let bias = _mm512_loadu_ps(conv.bias.as_ptr().add(b * LANES));
        let mut acc = [bias; T];
        let mut w = conv.weights.as_ptr().add(b * kh * kw * LANES);
        for ky in 0..kh {
            let row = input.as_ptr().add(conv.input.offset(
                b,
                oy * sy + ky + conv.skip.0,
                conv.skip.1,
            ));
            for kx in 0..kw {
                let wv = _mm512_loadu_ps(w);
                w = w.add(LANES);
                for (t, a) in acc.iter_mut().enumerate() {
                    let x = _mm512_maskz_loadu_ps(mask, row.add(((ox0 + t) * sx + kx) * lanes));
                    *a = _mm512_fmadd_ps(x, wv, *a);
                }
            }
        }
        store(conv, output, b, oy, ox0, &acc);
    }
}

#[cfg(test)]
mod tests {
    use super::super::conv::tests::values;
    use super::*;

    /// Reference: ONNX `Conv` with `group` = channels, on planar data.
    fn reference(
        input: &[f32],
        (c, h, w): (usize, usize, usize),
        weights: &[f32],
        bias: &[f32],
        (kh, kw): (usize, usize),
        (sy, sx): (usize, usize),
        (py, px): (usize, usize),
    ) -> Vec<f32> {
        let oh = (h + 2 * py - kh) / sy + 1;
        let ow = (w + 2 * px - kw) / sx + 1;
        let mut out = vec![0f32; c * oh * ow];
        for ch in 0..c {
            for y in 0..oh {
                for x in 0..ow {
                    let mut sum = bias[ch];
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let (iy, ix) = (y * sy + ky, x * sx + kx);
                            if iy < py || ix < px || iy - py >= h || ix - px >= w {
                                continue;
                            }
                            sum += input[(ch * h + iy - py) * w + ix - px]
                                * weights[(ch * kh + ky) * kw + kx];
                        }
                    }
                    out[(ch * oh + y) * ow + x] = sum;
                }
            }
        }
        out
    }

    /// Full and partial tiles, two blocks with a partial one, a stride, a
    /// border wider than the padding, and ReLU.
    #[test]
    fn matches_the_definition() {
        let cases = [
            // (channels, h, w, kernel, stride, pad, border, relu, lanes)
            (16, 6, 19, (3, 3), (1, 1), (1, 1), (1, 1), false, 16),
            (20, 9, 10, (3, 3), (2, 2), (1, 1), (2, 1), true, 16),
            (8, 5, 5, (1, 3), (1, 1), (0, 1), (1, 1), false, 16),
            (7, 6, 11, (3, 3), (1, 1), (1, 1), (1, 1), true, 8),
        ];
        for (n, &(c, h, w, kernel, stride, pad, border, relu, lanes)) in cases.iter().enumerate() {
            let planar = values(c * h * w, n as u32);
            let weights = values(c * kernel.0 * kernel.1, 11 + n as u32);
            let bias = values(c, 5);
            let mut expected = reference(&planar, (c, h, w), &weights, &bias, kernel, stride, pad);
            if relu {
                expected.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            let mut input = MapShape::new(c, h, w);
            (input.border_y, input.border_x, input.lanes) = (border.0, border.1, lanes);
            let oh = (h + 2 * pad.0 - kernel.0) / stride.0 + 1;
            let ow = (w + 2 * pad.1 - kernel.1) / stride.1 + 1;
            let mut output = MapShape::new(c, oh, ow);
            (output.border_y, output.lanes) = (1, lanes);
            let mut conv = Depthwise::new(input, output, kernel, stride, pad, &weights, &bias);
            conv.relu = relu;
            let mut map = vec![0f32; input.len()];
            input.fill_from_planar(&planar, &mut map);
            for (level, kernel) in RUN.runnable() {
                let mut out = vec![0f32; output.len()];
                // SAFETY: `runnable` lists only variants this CPU supports;
                // the maps are full size.
                unsafe { kernel(&conv, &map, &mut out) };
                let mut got = Vec::new();
                output.copy_to_planar(&out, &mut got);
                assert_eq!(got.len(), expected.len());
                for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                    assert!(
                        (a - b).abs() < 1e-5,
                        "case {n} {level:?} value {i}: {a} vs {b}"
                    );
                }
                assert_eq!(
                    out[output.offset(0, 0, 0)],
                    0.0,
                    "case {n} {level:?}: border"
                );
            }
        }
    }
}
