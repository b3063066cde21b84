//! The kernels a [`super::CompiledGraph`] runs, over NHWC maps (batch 1):
//! convolutions (plain, 1x1 and depthwise) and max pooling, every inner
//! loop running along the channels, contiguous. Each convolution family is
//! a [`Kernels`] table: the portable loop, and the same loop compiled for
//! AVX2 with FMA and for AVX-512, chosen once.

use melodora_core::simd::Kernels;

use super::interpret::out_and_pad;
use super::{TfliteError, Window};

/// The geometry of a windowed operator over an NHWC map (batch 1).
#[derive(Debug, Clone, Copy)]
pub(super) struct Geometry {
    pub(super) height: usize,
    pub(super) width: usize,
    pub(super) channels: usize,
    pub(super) out_height: usize,
    pub(super) out_width: usize,
    pub(super) out_channels: usize,
    pub(super) kernel_h: usize,
    pub(super) kernel_w: usize,
    pub(super) stride_h: usize,
    pub(super) stride_w: usize,
    pub(super) pad_top: usize,
    pub(super) pad_left: usize,
}

impl Geometry {
    pub(super) fn new(
        input: &[usize],
        out_channels: usize,
        (kernel_h, kernel_w): (usize, usize),
        window: &Window,
    ) -> Result<Geometry, TfliteError> {
        let [1, height, width, channels] = input[..] else {
            return Err(TfliteError::Unsupported(format!(
                "a map of shape {input:?} (batch 1 is run)"
            )));
        };
        let (out_height, pad_top) =
            out_and_pad(height, kernel_h, window.stride_h, 1, window.padding);
        let (out_width, pad_left) =
            out_and_pad(width, kernel_w, window.stride_w, 1, window.padding);
        Ok(Geometry {
            height,
            width,
            channels,
            out_height,
            out_width,
            out_channels,
            kernel_h,
            kernel_w,
            stride_h: window.stride_h,
            stride_w: window.stride_w,
            pad_top,
            pad_left,
        })
    }

    /// The input rows (or columns) tap `k` of output row `o` reads: `None` in the padding.
    #[inline(always)]
    fn source(o: usize, k: usize, stride: usize, pad: usize, len: usize) -> Option<usize> {
        (o * stride + k).checked_sub(pad).filter(|&i| i < len)
    }
}

/// A convolution's packed weights, bias and fused ReLU, over its geometry.
#[derive(Debug)]
pub(super) struct ConvOp {
    pub(super) g: Geometry,
    /// `[ky][kx][ci][co]` (depthwise: `[ky][kx][c]`).
    pub(super) weights: Vec<f32>,
    pub(super) bias: Vec<f32>,
    pub(super) relu: bool,
}

/// The signature of every convolution kernel: the op, its input map, its
/// output map. `unsafe` because the SIMD variants need their instructions;
/// each family picks one variant, once, through a [`Kernels`] table.
pub(super) type ConvKernel = unsafe fn(&ConvOp, &[f32], &mut [f32]);

#[inline(always)]
pub(super) fn finish(row: &mut [f32], relu: bool) {
    if relu {
        row.iter_mut().for_each(|v| *v = v.max(0.0));
    }
}

/// The kernel families: the portable loops, also compiled for AVX2 with
/// FMA and for AVX-512 (where the compiler vectorises them along the
/// channels); a WebAssembly build with `+simd128` vectorises the portable
/// ones for 128-bit lanes. Every variant is tested against the portable
/// one (`tests` below) and the whole graph against the reference run.
macro_rules! families {
    ($($table:ident: $body:ident, $avx2:ident, $avx512:ident;)*) => {$(
        #[cfg(target_arch = "x86_64")]
        pub(super) const $table: Kernels<ConvKernel> = Kernels {
            portable: $body,
            simd128: None,
            avx2: Some($avx2),
            avx512: Some($avx512),
        };
        #[cfg(not(target_arch = "x86_64"))]
        pub(super) const $table: Kernels<ConvKernel> = Kernels::portable($body);

        /// The portable kernel compiled for AVX2 and FMA.
        ///
        /// # Safety
        /// The CPU must have AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2(op: &ConvOp, x: &[f32], out: &mut [f32]) {
            $body(op, x, out)
        }

        /// The portable kernel compiled for AVX-512.
        ///
        /// # Safety
        /// The CPU must have AVX-512 F, BW, DQ and VL.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
        unsafe fn $avx512(op: &ConvOp, x: &[f32], out: &mut [f32]) {
            $body(op, x, out)
        }
    )*};
}

families! {
    POINTWISE: pointwise, pointwise_avx2, pointwise_avx512;
    CONV: conv, conv_avx2, conv_avx512;
    DEPTHWISE: depthwise, depthwise_avx2, depthwise_avx512;
}

/// Pixels a 1x1 convolution works on at once: each weight loaded serves
/// this many multiply-adds.
const POINTWISE_TILE: usize = 4;

/// 1x1 convolution of stride 1: each output pixel is its input pixel
/// times the weights, [`POINTWISE_TILE`] pixels at a time.
#[inline(always)]
fn pointwise(op: &ConvOp, x: &[f32], out: &mut [f32]) {
    let (cin, cout) = (op.g.channels, op.g.out_channels);
    let tiles = x.len() / cin / POINTWISE_TILE;
    let (x_tiles, x_rest) = x.split_at(tiles * POINTWISE_TILE * cin);
    let (out_tiles, out_rest) = out.split_at_mut(tiles * POINTWISE_TILE * cout);
    for (pixels, rows) in x_tiles
        .chunks_exact(POINTWISE_TILE * cin)
        .zip(out_tiles.chunks_exact_mut(POINTWISE_TILE * cout))
    {
        let (r0, rest) = rows.split_at_mut(cout);
        let (r1, rest) = rest.split_at_mut(cout);
        let (r2, r3) = rest.split_at_mut(cout);
        for row in [&mut *r0, &mut *r1, &mut *r2, &mut *r3] {
            row.copy_from_slice(&op.bias);
        }
        for (i, w) in op.weights.chunks_exact(cout).enumerate() {
            let (a0, a1, a2, a3) = (
                pixels[i],
                pixels[cin + i],
                pixels[2 * cin + i],
                pixels[3 * cin + i],
            );
            for o in 0..cout {
                let w = w[o];
                r0[o] += a0 * w;
                r1[o] += a1 * w;
                r2[o] += a2 * w;
                r3[o] += a3 * w;
            }
        }
        for row in [r0, r1, r2, r3] {
            finish(row, op.relu);
        }
    }
    for (pixel, row) in x_rest
        .chunks_exact(cin)
        .zip(out_rest.chunks_exact_mut(cout))
    {
        row.copy_from_slice(&op.bias);
        for (&a, w) in pixel.iter().zip(op.weights.chunks_exact(cout)) {
            for (v, &w) in row.iter_mut().zip(w) {
                *v += a * w;
            }
        }
        finish(row, op.relu);
    }
}

#[inline(always)]
fn conv(op: &ConvOp, x: &[f32], out: &mut [f32]) {
    let g = &op.g;
    let (cin, cout) = (g.channels, g.out_channels);
    for oy in 0..g.out_height {
        for ox in 0..g.out_width {
            let row = &mut out[(oy * g.out_width + ox) * cout..][..cout];
            row.copy_from_slice(&op.bias);
            for ky in 0..g.kernel_h {
                let Some(y) = Geometry::source(oy, ky, g.stride_h, g.pad_top, g.height) else {
                    continue;
                };
                for kx in 0..g.kernel_w {
                    let Some(xx) = Geometry::source(ox, kx, g.stride_w, g.pad_left, g.width) else {
                        continue;
                    };
                    let pixel = &x[(y * g.width + xx) * cin..][..cin];
                    let taps = &op.weights[(ky * g.kernel_w + kx) * cin * cout..][..cin * cout];
                    for (&a, w) in pixel.iter().zip(taps.chunks_exact(cout)) {
                        for (v, &w) in row.iter_mut().zip(w) {
                            *v += a * w;
                        }
                    }
                }
            }
            finish(row, op.relu);
        }
    }
}

#[inline(always)]
fn depthwise(op: &ConvOp, x: &[f32], out: &mut [f32]) {
    let g = &op.g;
    let c = g.channels;
    for oy in 0..g.out_height {
        for ox in 0..g.out_width {
            let row = &mut out[(oy * g.out_width + ox) * c..][..c];
            row.copy_from_slice(&op.bias);
            for ky in 0..g.kernel_h {
                let Some(y) = Geometry::source(oy, ky, g.stride_h, g.pad_top, g.height) else {
                    continue;
                };
                for kx in 0..g.kernel_w {
                    let Some(xx) = Geometry::source(ox, kx, g.stride_w, g.pad_left, g.width) else {
                        continue;
                    };
                    let pixel = &x[(y * g.width + xx) * c..][..c];
                    let tap = &op.weights[(ky * g.kernel_w + kx) * c..][..c];
                    for ((v, &a), &w) in row.iter_mut().zip(pixel).zip(tap) {
                        *v += a * w;
                    }
                }
            }
            finish(row, op.relu);
        }
    }
}

pub(super) fn max_pool(x: &[f32], out: &mut [f32], g: &Geometry) {
    let c = g.channels;
    for oy in 0..g.out_height {
        for ox in 0..g.out_width {
            let row = &mut out[(oy * g.out_width + ox) * c..][..c];
            row.fill(f32::NEG_INFINITY);
            for ky in 0..g.kernel_h {
                let Some(y) = Geometry::source(oy, ky, g.stride_h, g.pad_top, g.height) else {
                    continue;
                };
                for kx in 0..g.kernel_w {
                    let Some(xx) = Geometry::source(ox, kx, g.stride_w, g.pad_left, g.width) else {
                        continue;
                    };
                    for (v, &a) in row.iter_mut().zip(&x[(y * g.width + xx) * c..][..c]) {
                        *v = v.max(a);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tflite::Padding;

    /// A small op with every channel count odd (no variant may assume
    /// whole vectors) and weights from a simple generator.
    fn op(
        kernel: usize,
        stride: usize,
        cin: usize,
        cout: usize,
        depthwise: bool,
    ) -> (ConvOp, Vec<f32>) {
        let window = Window {
            stride_h: stride,
            stride_w: stride,
            padding: Padding::Same,
            filter_h: 0,
            filter_w: 0,
        };
        let g = Geometry::new(&[1, 9, 11, cin], cout, (kernel, kernel), &window).unwrap();
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let weights = (0..kernel * kernel * cin * if depthwise { 1 } else { cout })
            .map(|_| next())
            .collect();
        let bias = (0..cout).map(|_| next()).collect();
        let input = (0..9 * 11 * cin).map(|_| next()).collect();
        (
            ConvOp {
                g,
                weights,
                bias,
                relu: true,
            },
            input,
        )
    }

    /// Every variant this CPU runs gives the portable kernel's result
    /// (within FMA's rounding).
    #[test]
    fn every_variant_matches_the_portable_kernel() {
        for (table, (kernel, stride, cin, cout, dw)) in [
            (POINTWISE, (1, 1, 13, 19, false)),
            (CONV, (5, 2, 3, 11, false)),
            (CONV, (3, 1, 7, 5, false)),
            (DEPTHWISE, (3, 2, 17, 17, true)),
            (DEPTHWISE, (5, 1, 9, 9, true)),
        ] {
            let (op, input) = op(kernel, stride, cin, cout, dw);
            let len = op.g.out_height * op.g.out_width * op.g.out_channels;
            let mut expected = vec![0f32; len];
            // SAFETY: the portable variant runs everywhere.
            unsafe { (table.portable)(&op, &input, &mut expected) };
            for (level, variant) in table.runnable() {
                let mut got = vec![0f32; len];
                // SAFETY: `runnable` lists only what this CPU can run.
                unsafe { variant(&op, &input, &mut got) };
                for (a, b) in got.iter().zip(&expected) {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{level:?} {kernel}x{kernel}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
