//! Direct 2-D convolution on blocked maps: no im2col copy, the weights packed
//! once at load time.
//!
//! An output tile is `T` adjacent pixels of one row times `OB` blocks of 16
//! output channels, held in registers while every input channel and tap is
//! added in; each tap is one broadcast input value times one weight vector.
//! With AVX-512 the tile is 12 pixels x 32 channels (24 accumulators); the
//! portable kernel is the same loop on `[f32; 16]` arrays for the compiler to
//! vectorise.

use std::sync::LazyLock;

use melodora_core::simd::Kernels;

use super::map::{MapShape, LANES};
use super::{relu, MapKernel};

/// [`Conv::run`]'s variants: the portable loop (also compiled for AVX2,
/// where the compiler vectorises it) and the AVX-512 register-tiled kernel.
#[cfg(target_arch = "x86_64")]
const RUN: Kernels<MapKernel<Conv>> = Kernels {
    portable: run_portable,
    simd128: None,
    avx2: Some(run_portable_avx2),
    avx512: Some(avx512::run),
};
/// In a WebAssembly build with SIMD (the browser's, `+simd128`), the same
/// tiles on WebAssembly's 128-bit vectors.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
const RUN: Kernels<MapKernel<Conv>> = Kernels {
    simd128: Some(simd128::run),
    ..Kernels::portable(run_portable)
};
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
const RUN: Kernels<MapKernel<Conv>> = Kernels::portable(run_portable);

/// A convolution (its batch norm and ReLU folded in), ready to run.
#[derive(Debug)]
pub(super) struct Conv {
    pub input: MapShape,
    pub output: MapShape,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// How far the input's border is wider than the padding, as (rows,
    /// columns): a map read by several convolutions has the border of the
    /// widest padding, and the others start reading this far in.
    pub skip: (usize, usize),
    /// Output blocks computed together, as (first block, blocks): a tile
    /// of a group reads its weights as one sequential stream.
    pub groups: Vec<(usize, usize)>,
    /// Per group: `[in block][ky][kx][in lane][block in group][out lane]`,
    /// zero past the real channels.
    pub weights: Vec<f32>,
    /// One per output lane, zero past the real channels.
    pub bias: Vec<f32>,
    pub relu: bool,
}

impl Conv {
    /// Packs ONNX weights `[out][in][ky][kx]` and a bias for maps `input`
    /// (whose border must be at least the padding `pad`) and `output`.
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
        let (in_c, out_c) = (input.channels, output.channels);
        debug_assert_eq!(onnx_weights.len(), out_c * in_c * kh * kw);
        let (ib, il) = (input.blocks(), input.lanes);
        let groups = output_groups(output.blocks());
        let block_weights = ib * kh * kw * il * LANES;
        let mut weights = vec![0f32; output.blocks() * block_weights];
        for o in 0..out_c {
            let (first, size) = groups[o / LANES / MAX_GROUP];
            let in_group = o / LANES - first;
            for i in 0..in_c {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let step = ((i / il * kh + ky) * kw + kx) * il + i % il;
                        let at =
                            first * block_weights + (step * size + in_group) * LANES + o % LANES;
                        weights[at] = onnx_weights[((o * in_c + i) * kh + ky) * kw + kx];
                    }
                }
            }
        }
        let mut bias = vec![0f32; output.blocks() * LANES];
        bias[..out_c].copy_from_slice(onnx_bias);
        assert!(input.border_y >= pad.0 && input.border_x >= pad.1);
        // An output map stores fewer lanes only for one short block.
        assert!(output.lanes == LANES || output.channels <= output.lanes);
        Self {
            input,
            output,
            kernel,
            stride,
            skip: (input.border_y - pad.0, input.border_x - pad.1),
            groups,
            weights,
            bias,
            relu: false,
        }
    }

    /// The group holding output block `block`.
    fn group_of(&self, block: usize) -> (usize, usize) {
        self.groups[block / MAX_GROUP]
    }

    /// Weights of one output block.
    fn block_weights(&self) -> usize {
        self.input.blocks() * self.kernel.0 * self.kernel.1 * self.input.lanes * LANES
    }

    /// Computes `output`'s interior from `input`; the output's border is
    /// left as it is (zero).
    pub fn run(&self, input: &[f32], output: &mut [f32]) {
        assert!(input.len() >= self.input.len() && output.len() >= self.output.len());
        static CHOSEN: LazyLock<MapKernel<Conv>> = LazyLock::new(|| RUN.best());
        // SAFETY: `Kernels::best` only picks a variant this CPU supports,
        // and the slices are at least as long as the maps (asserted above).
        unsafe { CHOSEN(self, input, output) }
    }
}

/// Most output blocks in a group (a tile's accumulators are 24 vectors:
/// 6 pixels x 4 blocks, 12 x 2 or 12 x 1).
const MAX_GROUP: usize = 2;

/// Groups of `MAX_GROUP` output blocks, the last one possibly smaller.
fn output_groups(blocks: usize) -> Vec<(usize, usize)> {
    (0..blocks)
        .step_by(MAX_GROUP)
        .map(|first| (first, MAX_GROUP.min(blocks - first)))
        .collect()
}

/// The portable kernel compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_portable_avx2(conv: &Conv, input: &[f32], output: &mut [f32]) {
    run_portable(conv, input, output);
}

/// Pixels per tile of the portable kernel.
const PORTABLE_TILE: usize = 4;

#[inline(always)]
fn run_portable(conv: &Conv, input: &[f32], output: &mut [f32]) {
    // A loop over tiles, not a callback: a closure is compiled for the
    // baseline instruction set even inside `run_portable_avx2`, and the
    // whole tile (too big to inline) ran without AVX2 (14 ms a face where
    // the AVX2 build of this loop takes a fraction).
    for (ob, oy, ox, full) in tiles::<PORTABLE_TILE>(conv) {
        if full {
            portable_tile::<PORTABLE_TILE>(conv, input, output, ob, oy, ox);
        } else {
            portable_tile::<1>(conv, input, output, ob, oy, ox);
        }
    }
}

/// The output's tiles, as (block, y, x, full): `W` pixels along a row
/// (`full`), then single pixels at the row's end.
#[inline(always)]
fn tiles<const W: usize>(conv: &Conv) -> impl Iterator<Item = (usize, usize, usize, bool)> {
    let (blocks, height, width) = (conv.output.blocks(), conv.output.height, conv.output.width);
    let full = width / W;
    (0..blocks).flat_map(move |ob| {
        (0..height).flat_map(move |oy| {
            (0..full)
                .map(move |i| (ob, oy, i * W, true))
                .chain((full * W..width).map(move |ox| (ob, oy, ox, false)))
        })
    })
}

#[inline(always)]
fn portable_tile<const T: usize>(
    conv: &Conv,
    input: &[f32],
    output: &mut [f32],
    ob: usize,
    oy: usize,
    ox0: usize,
) {
    let (kh, kw) = conv.kernel;
    let (sy, sx) = conv.stride;
    let lanes_in = conv.input.lanes;
    let mut acc = [[0f32; LANES]; T];
    for a in acc.iter_mut() {
        a.copy_from_slice(&conv.bias[ob * LANES..(ob + 1) * LANES]);
    }
    let (first, size) = conv.group_of(ob);
    let mut w_at = first * conv.block_weights() + (ob - first) * LANES;
    for ib in 0..conv.input.blocks() {
        for ky in 0..kh {
            let row = conv
                .input
                .offset(ib, oy * sy + ky + conv.skip.0, conv.skip.1);
            for kx in 0..kw {
                for lane in 0..lanes_in {
                    let w: &[f32; LANES] = conv.weights[w_at..w_at + LANES]
                        .try_into()
                        .expect("weight vectors are LANES long");
                    w_at += size * LANES;
                    for (t, a) in acc.iter_mut().enumerate() {
                        let x = input[row + ((ox0 + t) * sx + kx) * lanes_in + lane];
                        for l in 0..LANES {
                            a[l] += x * w[l];
                        }
                    }
                }
            }
        }
    }
    for (t, a) in acc.iter().enumerate() {
        let at = conv.output.interior(ob, oy, ox0 + t);
        for (out, &a) in output[at..at + conv.output.lanes].iter_mut().zip(a) {
            *out = if conv.relu { relu(a) } else { a };
        }
    }
}

/// The portable tiles written with WebAssembly's 128-bit vectors: a tile's
/// 16 output lanes are four `f32x4` accumulators per pixel, each tap one
/// splat, four multiplies and four adds, with the weight vectors loaded once
/// per tap for the whole tile. The same operations in the same order as the
/// portable kernel, so results are identical (no fused multiply-add).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use std::arch::wasm32::*;

    use super::{relu, tiles, Conv, LANES};

    /// Vectors per output block.
    const QUADS: usize = LANES / 4;

    /// Pixels per tile: four vectors a pixel, so 8 accumulators, which with
    /// the weights and inputs fit the 16 vector registers of x86-64 (V8
    /// keeps one for itself); 3, 4 and 6 pixels measured no faster.
    const TILE: usize = 2;

    pub(super) fn run(conv: &Conv, input: &[f32], output: &mut [f32]) {
        for (ob, oy, ox, full) in tiles::<TILE>(conv) {
            if full {
                tile::<TILE>(conv, input, output, ob, oy, ox);
            } else {
                tile::<1>(conv, input, output, ob, oy, ox);
            }
        }
    }

    /// `LANES` values from `values[at..]` as vectors (one bounds check).
    #[inline(always)]
    fn load(values: &[f32], at: usize) -> [v128; QUADS] {
        let block = &values[at..at + LANES];
        // SAFETY: `block` holds LANES = 4 * QUADS values, so every 16-byte
        // read is inside it; `v128_load` takes any alignment.
        std::array::from_fn(|q| unsafe { v128_load(block.as_ptr().add(4 * q).cast()) })
    }

    #[inline(always)]
    fn tile<const T: usize>(
        conv: &Conv,
        input: &[f32],
        output: &mut [f32],
        ob: usize,
        oy: usize,
        ox0: usize,
    ) {
        let (kh, kw) = conv.kernel;
        let (sy, sx) = conv.stride;
        let (in_blocks, lanes_in) = (conv.input.blocks(), conv.input.lanes);
        let mut acc = [load(&conv.bias, ob * LANES); T];
        let (first, size) = conv.group_of(ob);
        let w_start = first * conv.block_weights() + (ob - first) * LANES;
        let taps = in_blocks * kh * kw * lanes_in;
        // Every read below is checked here, once a tile: the largest input
        // index (last block, row, tap and lane of the last pixel; the
        // layout grows with each) and the last weight vector.
        let last_input =
            conv.input
                .offset(in_blocks - 1, oy * sy + kh - 1 + conv.skip.0, conv.skip.1)
                + ((ox0 + T - 1) * sx + kw - 1) * lanes_in
                + lanes_in
                - 1;
        assert!(last_input < input.len());
        assert!(w_start + (taps - 1) * size * LANES + LANES <= conv.weights.len());
        let (input, weights) = (input.as_ptr(), conv.weights.as_ptr());
        let mut w_at = w_start;
        for ib in 0..in_blocks {
            for ky in 0..kh {
                let row = conv
                    .input
                    .offset(ib, oy * sy + ky + conv.skip.0, conv.skip.1);
                for kx in 0..kw {
                    for lane in 0..lanes_in {
                        // SAFETY: w_at + LANES and every input index are at
                        // most the bounds asserted above.
                        unsafe {
                            let w: [v128; QUADS] = std::array::from_fn(|q| {
                                v128_load(weights.add(w_at + 4 * q).cast())
                            });
                            for (t, a) in acc.iter_mut().enumerate() {
                                let x = v128_load32_splat(
                                    input
                                        .add(row + ((ox0 + t) * sx + kx) * lanes_in + lane)
                                        .cast(),
                                );
                                for (a, w) in a.iter_mut().zip(&w) {
                                    *a = f32x4_add(*a, f32x4_mul(x, *w));
                                }
                            }
                        }
                        w_at += size * LANES;
                    }
                }
            }
        }
        for (t, a) in acc.iter().enumerate() {
            let mut values = [0f32; LANES];
            for (q, v) in a.iter().enumerate() {
                // SAFETY: `values` holds LANES = 4 * QUADS floats and q < QUADS.
                unsafe { v128_store(values.as_mut_ptr().add(4 * q).cast(), *v) };
            }
            let at = conv.output.interior(ob, oy, ox0 + t);
            for (out, &v) in output[at..at + conv.output.lanes].iter_mut().zip(&values) {
                *out = if conv.relu { relu(v) } else { v };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Conv, LANES};

    /// # Safety
    /// The CPU must have AVX-512F; `input` and `output` must be at least as
    /// long as the convolution's input and output maps.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn run(conv: &Conv, input: &[f32], output: &mut [f32]) {
        // The common cases (stride 1 along rows, 16, 8 or 1 input lanes) get
        // compile-time offsets, so each tap is one multiply-add with an
        // embedded broadcast.
        match (conv.input.lanes, conv.stride.1) {
            (16, 1) => blocks::<16>(conv, input, output),
            (8, 1) => blocks::<8>(conv, input, output),
            (1, 1) => blocks::<1>(conv, input, output),
            _ => blocks::<0>(conv, input, output),
        }
    }

    /// Tiles of 24 accumulators: 6 pixels x 4 output blocks (each
    /// broadcast feeds four multiply-adds), else 12 pixels x 2 or 1 blocks.
    /// `IN` is the input's lanes with a row stride of 1, or 0 for any.
    #[target_feature(enable = "avx512f")]
    unsafe fn blocks<const IN: usize>(conv: &Conv, input: &[f32], output: &mut [f32]) {
        for &(first, size) in &conv.groups {
            match size {
                4 => row_tiles::<6, 4, IN>(conv, input, output, first),
                3 => row_tiles::<8, 3, IN>(conv, input, output, first),
                2 => row_tiles::<12, 2, IN>(conv, input, output, first),
                _ => row_tiles::<12, 1, IN>(conv, input, output, first),
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn row_tiles<const TILE: usize, const OB: usize, const IN: usize>(
        conv: &Conv,
        input: &[f32],
        output: &mut [f32],
        ob: usize,
    ) {
        let out_w = conv.output.width;
        for oy in 0..conv.output.height {
            let mut ox = 0;
            while ox + TILE <= out_w {
                tile::<TILE, OB, IN>(conv, input, output, ob, oy, ox);
                ox += TILE;
            }
            // The rest of the row in one narrower tile.
            macro_rules! rest {
                ($($n:literal)*) => {
                    match out_w - ox {
                        $($n => tile::<$n, OB, IN>(conv, input, output, ob, oy, ox),)*
                        _ => {}
                    }
                };
            }
            rest!(1 2 3 4 5 6 7 8 9 10 11);
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn tile<const T: usize, const OB: usize, const IN: usize>(
        conv: &Conv,
        input: &[f32],
        output: &mut [f32],
        ob: usize,
        oy: usize,
        ox0: usize,
    ) {
        let (kh, kw) = conv.kernel;
        // With IN set, lanes and the row stride are the constants IN and 1.
        let (sy, sx) = if IN > 0 {
            (conv.stride.0, 1)
        } else {
            conv.stride
        };
        let lanes_in = if IN > 0 { IN } else { conv.input.lanes };
        let block_weights = conv.block_weights();
        // Every index below stays inside the maps: the tile's last pixel is
        // an output pixel, and the input map's border covers the padding.
        debug_assert!(ox0 + T <= conv.output.width && oy < conv.output.height);
        debug_assert!(
            conv.input.offset(
                conv.input.blocks() - 1,
                oy * sy + kh - 1 + conv.skip.0,
                (ox0 + T - 1) * sx + kw - 1 + conv.skip.1
            ) + lanes_in
                <= input.len()
        );
        let inp = input.as_ptr();
        let weights = conv.weights.as_ptr().add(ob * block_weights);
        let mut acc = [[_mm512_setzero_ps(); T]; OB];
        for (b, block_acc) in acc.iter_mut().enumerate() {
            let bias = _mm512_loadu_ps(conv.bias.as_ptr().add((ob + b) * LANES));
            *block_acc = [bias; T];
        }
        let mut w = weights;
        for ib in 0..conv.input.blocks() {
            for ky in 0..kh {
                let row = inp.add(
                    conv.input
                        .offset(ib, oy * sy + ky + conv.skip.0, conv.skip.1),
                );
                for kx in 0..kw {
                    let first = row.add((ox0 * sx + kx) * lanes_in);
                    for lane in 0..lanes_in {
                        let mut wv = [_mm512_setzero_ps(); OB];
                        for (b, v) in wv.iter_mut().enumerate() {
                            *v = _mm512_loadu_ps(w.add(b * LANES));
                        }
                        w = w.add(OB * LANES);
                        let x = first.add(lane);
                        // Indexed loops: each broadcast feeds every block's
                        // accumulator while it is in a register.
                        #[allow(clippy::needless_range_loop)]
                        for t in 0..T {
                            let xv = _mm512_set1_ps(*x.add(t * sx * lanes_in));
                            for b in 0..OB {
                                acc[b][t] = _mm512_fmadd_ps(xv, wv[b], acc[b][t]);
                            }
                        }
                    }
                }
            }
        }
        let zero = _mm512_setzero_ps();
        let out = output.as_mut_ptr();
        // A map of few channels stores fewer lanes (see MapShape::lanes).
        let out_lanes = conv.output.lanes;
        let mask = conv.output.lane_mask();
        for (b, block_acc) in acc.iter().enumerate() {
            for (t, &v) in block_acc.iter().enumerate() {
                let v = if conv.relu { _mm512_max_ps(v, zero) } else { v };
                let at = conv.output.interior(ob + b, oy, ox0 + t);
                debug_assert!(at + out_lanes <= output.len());
                _mm512_mask_storeu_ps(out.add(at), mask, v);
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Reference: the ONNX definition of a convolution, on planar data.
    fn reference(
        input: &[f32],
        (c, h, w): (usize, usize, usize),
        weights: &[f32],
        bias: &[f32],
        (kh, kw): (usize, usize),
        (sy, sx): (usize, usize),
        (py, px): (usize, usize),
    ) -> Vec<f32> {
        let oc = bias.len();
        let oh = (h + 2 * py - kh) / sy + 1;
        let ow = (w + 2 * px - kw) / sx + 1;
        let mut out = vec![0f32; oc * oh * ow];
        for o in 0..oc {
            for y in 0..oh {
                for x in 0..ow {
                    let mut sum = bias[o];
                    for i in 0..c {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let (iy, ix) = (y * sy + ky, x * sx + kx);
                                if iy < py || ix < px || iy - py >= h || ix - px >= w {
                                    continue;
                                }
                                sum += input[(i * h + iy - py) * w + ix - px]
                                    * weights[((o * c + i) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    out[(o * oh + y) * ow + x] = sum;
                }
            }
        }
        out
    }

    /// `n` deterministic test values in [-1, 1), different for each seed.
    pub(in crate::direct) fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// Every kernel this CPU can run gives the reference's result, for
    /// shapes that hit full and partial tiles, one or two output blocks,
    /// a one-lane input, strides and rectangular kernels.
    #[test]
    fn every_kernel_matches_the_definition() {
        let cases = [
            // (in c, h, w, out c, kernel, stride, pad, input lanes)
            (1, 9, 30, 20, (3, 3), (1, 1), (1, 1), 1),
            (16, 7, 13, 32, (3, 3), (1, 1), (1, 1), 16),
            (20, 8, 25, 40, (3, 1), (2, 1), (1, 0), 16),
            (3, 11, 11, 5, (5, 5), (2, 2), (2, 2), 3),
            (33, 4, 4, 48, (1, 1), (1, 1), (0, 0), 16),
            // A 1x1, stride-2 shortcut reading a map bordered for a 3x3.
            (16, 7, 9, 32, (1, 1), (2, 2), (0, 0), 16),
            // Eight channels in, eight out, on 8-lane maps.
            (8, 6, 15, 8, (3, 3), (1, 1), (0, 0), 8),
        ];
        for (n, &(c, h, w, oc, kernel, stride, pad, lanes)) in cases.iter().enumerate() {
            let planar = values(c * h * w, n as u32);
            let weights = values(oc * c * kernel.0 * kernel.1, 7 + n as u32);
            let bias = values(oc, 99);
            let expected = reference(&planar, (c, h, w), &weights, &bias, kernel, stride, pad);

            let mut input = MapShape::new(c, h, w);
            // Case 5's map is bordered for a wider padding than its own.
            let border = if n == 5 { (1, 2) } else { pad };
            (input.border_y, input.border_x, input.lanes) = (border.0, border.1, lanes);
            let oh = (h + 2 * pad.0 - kernel.0) / stride.0 + 1;
            let ow = (w + 2 * pad.1 - kernel.1) / stride.1 + 1;
            let mut output = MapShape::new(oc, oh, ow);
            output.border_x = 1;
            output.lanes = if oc <= 8 && lanes == 8 { 8 } else { LANES };
            let conv = Conv::new(input, output, kernel, stride, pad, &weights, &bias);
            let mut map = vec![0f32; input.len()];
            input.fill_from_planar(&planar, &mut map);

            for (name, kernel) in RUN.runnable() {
                let mut out = vec![0f32; output.len()];
                // SAFETY: `runnable` lists only variants this CPU supports;
                // the maps are full size.
                unsafe { kernel(&conv, &map, &mut out) };
                let mut got = Vec::new();
                output.copy_to_planar(&out, &mut got);
                for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                    assert!(
                        (a - b).abs() < 1e-4,
                        "case {n} {name:?} value {i}: {a} vs {b}"
                    );
                }
                // The border stays zero.
                assert_eq!(out[output.offset(0, 0, 0)], 0.0, "case {n} {name:?}");
            }
        }
    }
}
