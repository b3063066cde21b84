//! 3x3 convolutions by Winograd's minimal filtering, F(2x2, 3x3).
//!
//! The direct kernel runs close to the core's multiply-add peak, so the
//! only way left to go faster is to multiply less. F(2x2, 3x3) (Lavin and
//! Gray, "Fast Algorithms for Convolutional Neural Networks", 2015) turns
//! each 4x4 patch of the input into 16 transformed values, multiplies them
//! by 16 transformed weights per channel pair and turns the 16 sums back
//! into a 2x2 block of outputs: 16 multiplies for 4 outputs instead of 36,
//! 2.25x fewer. The transforms use only additions and are cheap next to
//! the channel-by-channel products, which are 16 independent small matrix
//! products, one per transformed point, each run by a register-tiled
//! kernel like the direct one.
//!
//! Tiles are processed a chunk at a time, so the transformed inputs and
//! products stay in cache; every weight is read once per chunk and reused
//! for all of the chunk's tiles (the direct kernel reuses a weight only
//! along one output row).
//!
//! Applies to stride-1, padding-1 3x3 convolutions of full channel blocks
//! with an even output size, on CPUs with AVX-512 or AVX2 and in
//! WebAssembly with simd128 (the classifier's other kernels handle the
//! rest): one driver, `run_with`, written over `core::simd::Lanes`.
//! F(2x2, 3x3) is well-conditioned: results agree with direct summation to
//! about 1e-6 relative.

use super::map::{MapShape, LANES};
use std::sync::LazyLock;

use melodora_core::simd::{Kernels, Lanes};

/// Runs a Winograd convolution on several images at once with scratch
/// space (see [`Winograd::run`]).
type RunImages = unsafe fn(&Winograd, &mut [(&[f32], &mut [f32])], &mut [f32]);

/// [`Winograd::run`]'s variants: the one driver ([`run_with`]) compiled for
/// AVX-512, AVX2 and WebAssembly's simd128. Elsewhere there is none, so
/// [`Winograd::applies`] is false and convolutions stay direct.
#[cfg(target_arch = "x86_64")]
const RUN: Kernels<Option<RunImages>> = Kernels {
    portable: None,
    simd128: None,
    avx2: Some(Some(run_avx2)),
    avx512: Some(Some(run_avx512)),
};
/// In the browser's build, where the direct kernel is far from the core's
/// peak, multiplying 2.25x less matters most.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
const RUN: Kernels<Option<RunImages>> = Kernels {
    simd128: Some(Some(run_simd128)),
    ..Kernels::portable(None)
};
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
const RUN: Kernels<Option<RunImages>> = Kernels::portable(None);

/// The variant for this CPU, if any.
static CHOSEN: LazyLock<Option<RunImages>> = LazyLock::new(|| RUN.best());

/// # Safety
/// The CPU must have AVX-512F; see [`run_with`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512(conv: &Winograd, images: &mut [(&[f32], &mut [f32])], scratch: &mut [f32]) {
    // 12 tiles x 2 blocks: 24 accumulators of AVX-512's 32 registers.
    // SAFETY: the caller's.
    unsafe { run_with::<melodora_core::simd::Avx512, 1, 12, 2>(conv, images, scratch) }
}

/// # Safety
/// The CPU must have AVX2 and FMA; see [`run_with`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(conv: &Winograd, images: &mut [(&[f32], &mut [f32])], scratch: &mut [f32]) {
    // 6 tiles x 1 block (2 vectors each): 12 accumulators, with the two
    // weight vectors and the broadcast input 15 of AVX2's 16 registers.
    // SAFETY: the caller's.
    unsafe { run_with::<melodora_core::simd::Avx2, 2, 6, 1>(conv, images, scratch) }
}

/// # Safety
/// See [`run_with`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn run_simd128(conv: &Winograd, images: &mut [(&[f32], &mut [f32])], scratch: &mut [f32]) {
    // 2 tiles x 1 block (4 vectors each): 8 accumulators, which with the
    // weights and the input fit the 16 vector registers of x86-64 (as the
    // direct kernel's simd128 tile).
    // SAFETY: the caller's.
    unsafe { run_with::<melodora_core::simd::Simd128, 4, 2, 1>(conv, images, scratch) }
}

/// Transformed points per tile (a 4x4 patch).
const POINTS: usize = 16;

/// Scratch values one array of a chunk may take (transformed inputs, and
/// again products): 128 KiB, so both stay in L2 with the weights.
const CHUNK_VALUES: usize = 32 * 1024;

/// Fewest tiles in a chunk.
const MIN_CHUNK: usize = 2 * TILE;

/// The most tiles a variant's kernel call computes at once (AVX-512's, as
/// the direct kernel's pixels); a chunk holds whole multiples of it.
const TILE: usize = 12;

/// Output blocks whose weights are packed together (a kernel call
/// computes one or all of them).
const MAX_GROUP: usize = 2;

/// A 3x3, stride-1, padding-1 convolution (batch norm and ReLU folded in)
/// computed by Winograd F(2x2, 3x3). Only AVX-512 and simd128 run it
/// ([`Winograd::applies`] is false elsewhere), so elsewhere its kernel data
/// is never read: the one place such builds allow dead code, rather than a
/// `cfg` on every match arm of the engine's `Op`.
#[derive(Debug)]
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )),
    allow(dead_code)
)]
pub(super) struct Winograd {
    pub input: MapShape,
    pub output: MapShape,
    /// Per point, per group of output blocks:
    /// `[in block][in lane][block in group][out lane]`, zero past the real
    /// channels.
    weights: Vec<f32>,
    /// One per output lane, zero past the real channels.
    bias: Vec<f32>,
    pub relu: bool,
    /// Output blocks computed together, as (first block, blocks).
    groups: Vec<(usize, usize)>,
    /// Tiles transformed and multiplied together.
    chunk: usize,
}

impl Winograd {
    /// Whether a convolution from `input` to `output` can run this way on
    /// this CPU. `input`'s border is the convolution's padding.
    pub fn applies(
        input: &MapShape,
        output: &MapShape,
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> bool {
        CHOSEN.is_some()
            && kernel == (3, 3)
            && stride == (1, 1)
            && (input.border_y, input.border_x) == (1, 1)
            && input.lanes == LANES
            && output.lanes == LANES
            && (output.height, output.width) == (input.height, input.width)
            && output.height.is_multiple_of(2)
            && output.width.is_multiple_of(2)
    }

    /// Transforms ONNX weights `[out][in][3][3]` and packs them with the
    /// bias; the shapes must pass [`applies`](Self::applies).
    pub fn new(input: MapShape, output: MapShape, onnx_weights: &[f32], onnx_bias: &[f32]) -> Self {
        let (in_c, out_c) = (input.channels, output.channels);
        debug_assert_eq!(onnx_weights.len(), out_c * in_c * 9);
        let (ib, obk) = (input.blocks(), output.blocks());
        let groups: Vec<(usize, usize)> = (0..obk)
            .step_by(MAX_GROUP)
            .map(|first| (first, MAX_GROUP.min(obk - first)))
            .collect();
        let per_point = obk * ib * LANES * LANES;
        let mut weights = vec![0f32; POINTS * per_point];
        for o in 0..out_c {
            let (first, size) = groups[o / LANES / MAX_GROUP];
            let in_group = o / LANES - first;
            for i in 0..in_c {
                let g = &onnx_weights[(o * in_c + i) * 9..][..9];
                for (point, u) in transform_weights(g).into_iter().enumerate() {
                    let at = point * per_point
                        + first * ib * LANES * LANES
                        + (i * size + in_group) * LANES
                        + o % LANES;
                    weights[at] = u;
                }
            }
        }
        let mut bias = vec![0f32; obk * LANES];
        bias[..out_c].copy_from_slice(onnx_bias);
        let fit = CHUNK_VALUES / (POINTS * LANES * ib.max(obk));
        // At least MIN_CHUNK tiles, so that a small map's tiles from a few
        // images share one pass over the weights.
        let chunk = (fit / TILE * TILE).max(MIN_CHUNK);
        Self {
            input,
            output,
            weights,
            bias,
            relu: false,
            groups,
            chunk,
        }
    }

    /// Scratch values [`run`](Self::run) needs.
    pub fn scratch_len(&self) -> usize {
        POINTS * self.chunk * LANES * (self.input.blocks() + self.output.blocks())
    }

    /// Values of the transformed weights (what one pass reads).
    pub fn weights_len(&self) -> usize {
        self.weights.len()
    }

    /// Computes each image's output interior from its input (pairs of
    /// maps shaped as declared), using `scratch` (at least
    /// [`scratch_len`](Self::scratch_len) long, any contents). The images'
    /// tiles are processed together, so every weight read serves them all.
    pub fn run(&self, images: &mut [(&[f32], &mut [f32])], scratch: &mut [f32]) {
        for (input, output) in images.iter() {
            assert!(input.len() >= self.input.len() && output.len() >= self.output.len());
        }
        assert!(scratch.len() >= self.scratch_len());
        let kernel = CHOSEN.expect("checked by applies()");
        // SAFETY: `Kernels::best` only picks a variant this CPU supports, and
        // every slice is at least as long as what the kernels index
        // (asserted above).
        unsafe { kernel(self, images, scratch) };
    }
}

/// `G g Gᵀ` for one 3x3 filter `g` (row-major), in f64 then rounded:
/// the 16 transformed weights, point `4 * row + column`.
fn transform_weights(g: &[f32]) -> [f32; POINTS] {
    const G: [[f64; 3]; 4] = [
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [0.0, 0.0, 1.0],
    ];
    let mut gg = [[0f64; 3]; 4];
    for (r, row) in gg.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| G[r][k] * f64::from(g[k * 3 + c])).sum();
        }
    }
    let mut u = [0f32; POINTS];
    for r in 0..4 {
        for c in 0..4 {
            u[r * 4 + c] = (0..3).map(|k| gg[r][k] * G[c][k]).sum::<f64>() as f32;
        }
    }
    u
}

/// The Winograd convolution over [`Lanes`] `L`, a block of [`LANES`]
/// channels being `Q` of its vectors; `T` tiles times `OB` output blocks
/// are held in registers while a point's products are summed.
///
/// # Safety
/// The CPU must have `L`'s instruction set, and `Q * L::WIDTH == LANES`;
/// every slice must be at least as long as the maps and the scratch the
/// convolution declares (as [`Winograd::run`] asserts).
#[inline(always)]
unsafe fn run_with<L: Lanes, const Q: usize, const T: usize, const OB: usize>(
    conv: &Winograd,
    images: &mut [(&[f32], &mut [f32])],
    scratch: &mut [f32],
) {
    debug_assert_eq!(Q * L::WIDTH, LANES);
    let tiles_x = conv.output.width / 2;
    let per_image = tiles_x * (conv.output.height / 2);
    let tiles = per_image * images.len();
    let (ib, obk) = (conv.input.blocks(), conv.output.blocks());
    let chunk = conv.chunk;
    let (transformed, products) = scratch.split_at_mut(POINTS * ib * chunk * LANES);
    let mut first_tile = 0;
    while first_tile < tiles {
        let n = chunk.min(tiles - first_tile);
        // (image, output row, output column) of the chunk's tile t.
        let tile_at = |t: usize| {
            let (image, k) = ((first_tile + t) / per_image, (first_tile + t) % per_image);
            (image, 2 * (k / tiles_x), 2 * (k % tiles_x))
        };
        for b in 0..ib {
            for t in 0..n {
                let (image, y, x) = tile_at(t);
                // SAFETY: the input map's border is the padding, so the
                // patch of output (y, x) starts at padded (y, x), inside
                // the map; the transformed values fit the scratch.
                unsafe {
                    let patch = images[image].0.as_ptr().add(conv.input.offset(b, y, x));
                    let out = transformed.as_mut_ptr().add((b * chunk + t) * LANES);
                    transform_input::<L, Q>(
                        patch,
                        conv.input.padded_width() * LANES,
                        out,
                        ib * chunk * LANES,
                    );
                }
            }
        }
        for point in 0..POINTS {
            // SAFETY: each point's weights, inputs and products lie inside
            // the weights and the scratch (their sizes are per point).
            unsafe {
                let weights = conv.weights.as_ptr().add(point * obk * ib * LANES * LANES);
                let x = transformed.as_ptr().add(point * ib * chunk * LANES);
                let m = products.as_mut_ptr().add(point * obk * chunk * LANES);
                for &(first, size) in &conv.groups {
                    let w = weights.add(first * ib * LANES * LANES);
                    let mut t = 0;
                    while t + T <= n {
                        multiply_group::<L, Q, T, OB>(conv, (w, size), x, m, first, t);
                        t += T;
                    }
                    // The chunk's last tiles, in halving runs.
                    for run in [8, 4, 2, 1] {
                        if run < T && t + run <= n {
                            match run {
                                8 => multiply_group::<L, Q, 8, OB>(conv, (w, size), x, m, first, t),
                                4 => multiply_group::<L, Q, 4, OB>(conv, (w, size), x, m, first, t),
                                2 => multiply_group::<L, Q, 2, OB>(conv, (w, size), x, m, first, t),
                                _ => multiply_group::<L, Q, 1, OB>(conv, (w, size), x, m, first, t),
                            }
                            t += run;
                        }
                    }
                    debug_assert_eq!(t, n);
                }
            }
        }
        for b in 0..obk {
            // SAFETY: the bias holds whole blocks; the products of block b
            // lie in the scratch; the output interior of (y, x) and its
            // 2x2 block lie in the output map.
            unsafe {
                // Loops, not closures, wherever vectors are made: a closure
                // is not compiled for the instruction set of the function
                // around it, so the intrinsics in it would not inline.
                let mut bias = [L::splat(0.0); Q];
                for (q, v) in bias.iter_mut().enumerate() {
                    *v = L::load(conv.bias.as_ptr().add(b * LANES + q * L::WIDTH));
                }
                for t in 0..n {
                    let (image, y, x) = tile_at(t);
                    let m = products.as_ptr().add((b * chunk + t) * LANES);
                    let out = images[image]
                        .1
                        .as_mut_ptr()
                        .add(conv.output.interior(b, y, x));
                    transform_output::<L, Q>(
                        m,
                        obk * chunk * LANES,
                        &bias,
                        conv.relu,
                        out,
                        conv.output.padded_width() * LANES,
                    );
                }
            }
        }
        first_tile += n;
    }
}

/// One point's products for `T` tiles from `t` and the group of `size`
/// output blocks from `first` (weights at `w`): all blocks at once when
/// the kernel computes `OB == size` of them, else one by one.
///
/// # Safety
/// As [`run_with`]; the tiles and blocks must be the chunk's.
#[inline(always)]
unsafe fn multiply_group<L: Lanes, const Q: usize, const T: usize, const OB: usize>(
    conv: &Winograd,
    (w, size): (*const f32, usize),
    x: *const f32,
    m: *mut f32,
    first: usize,
    t: usize,
) {
    // SAFETY: the caller's; block k of the group starts k * LANES into
    // the group's weights.
    unsafe {
        if size == OB {
            multiply::<L, Q, T, OB>(conv, (w, size), x, m, first, t);
        } else {
            for k in 0..size {
                multiply::<L, Q, T, 1>(conv, (w.add(k * LANES), size), x, m, first + k, t);
            }
        }
    }
}

/// One point's products for `T` tiles from `t` and `OB` output blocks
/// from `first`: `m[block][tile] = Σ over input channels of
/// x[channel][tile] · w[channel][block]`, the weights of a group of `size`
/// blocks packed `[in block][in lane][block in group][out lane]`.
///
/// # Safety
/// As [`multiply_group`].
#[inline(always)]
unsafe fn multiply<L: Lanes, const Q: usize, const T: usize, const OB: usize>(
    conv: &Winograd,
    (mut w, size): (*const f32, usize),
    x: *const f32,
    m: *mut f32,
    first: usize,
    t: usize,
) {
    let chunk = conv.chunk;
    // SAFETY: the caller's; every offset stays in the group's weights, the
    // chunk's transformed inputs and its products.
    unsafe {
        let zero = L::splat(0.0);
        let mut acc = [[[zero; Q]; T]; OB];
        for b in 0..conv.input.blocks() {
            let tiles = x.add((b * chunk + t) * LANES);
            for lane in 0..LANES {
                let mut wv = [[zero; Q]; OB];
                for (k, block) in wv.iter_mut().enumerate() {
                    for (q, v) in block.iter_mut().enumerate() {
                        *v = L::load(w.add(k * LANES + q * L::WIDTH));
                    }
                }
                w = w.add(size * LANES);
                // Indexed loops: each broadcast feeds every block's
                // accumulator while it is in a register.
                #[allow(clippy::needless_range_loop)]
                for i in 0..T {
                    let xv = L::splat(*tiles.add(i * LANES + lane));
                    for k in 0..OB {
                        for q in 0..Q {
                            acc[k][i][q] = L::madd(xv, wv[k][q], acc[k][i][q]);
                        }
                    }
                }
            }
        }
        for (k, block_acc) in acc.iter().enumerate() {
            let out = m.add(((first + k) * chunk + t) * LANES);
            for (i, tile) in block_acc.iter().enumerate() {
                for (q, &v) in tile.iter().enumerate() {
                    L::store(out.add(i * LANES + q * L::WIDTH), v);
                }
            }
        }
    }
}

/// `Bᵀ d B` for the 4x4 patch at `patch` (rows `row` values apart);
/// point `p` goes to `out + p * point_stride`.
///
/// # Safety
/// As [`run_with`]; the patch and the points must be inside their maps.
#[inline(always)]
unsafe fn transform_input<L: Lanes, const Q: usize>(
    patch: *const f32,
    row: usize,
    out: *mut f32,
    point_stride: usize,
) {
    // Each vector of the block's lanes on its own: the lanes never mix.
    for q in 0..Q {
        // SAFETY: the caller's.
        unsafe {
            let at = patch.add(q * L::WIDTH);
            // Bᵀ on the columns: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3.
            let zero = L::splat(0.0);
            let mut t = [[zero; 4]; 4];
            // Indexed like the matrix formula: column c of t from column c of d.
            #[allow(clippy::needless_range_loop)]
            for c in 0..4 {
                let column = at.add(c * LANES);
                let (d0, d1, d2, d3) = (
                    L::load(column),
                    L::load(column.add(row)),
                    L::load(column.add(2 * row)),
                    L::load(column.add(3 * row)),
                );
                t[0][c] = L::sub(d0, d2);
                t[1][c] = L::add(d1, d2);
                t[2][c] = L::sub(d2, d1);
                t[3][c] = L::sub(d1, d3);
            }
            // Then B on the rows.
            for (r, t) in t.iter().enumerate() {
                let v = [
                    L::sub(t[0], t[2]),
                    L::add(t[1], t[2]),
                    L::sub(t[2], t[1]),
                    L::sub(t[1], t[3]),
                ];
                for (c, v) in v.into_iter().enumerate() {
                    L::store(out.add((r * 4 + c) * point_stride + q * L::WIDTH), v);
                }
            }
        }
    }
}

/// `Aᵀ m A` plus the bias (and ReLU) for the 16 products of one tile
/// (point `p` at `m + p * point_stride`), written as the 2x2 outputs at
/// `out` (rows `row` values apart).
///
/// # Safety
/// As [`run_with`]; the products and the outputs must be inside their maps.
#[inline(always)]
unsafe fn transform_output<L: Lanes, const Q: usize>(
    m: *const f32,
    point_stride: usize,
    bias: &[L::V; Q],
    relu: bool,
    out: *mut f32,
    row: usize,
) {
    for (q, &bias) in bias.iter().enumerate() {
        // SAFETY: the caller's.
        unsafe {
            let at = m.add(q * L::WIDTH);
            // Aᵀ on the columns: rows m0 + m1 + m2 and m1 - m2 - m3.
            let zero = L::splat(0.0);
            let mut s = [[zero; 4]; 2];
            // Indexed like the matrix formula: column c of s from column c of m.
            #[allow(clippy::needless_range_loop)]
            for c in 0..4 {
                let (m0, m1, m2, m3) = (
                    L::load(at.add(c * point_stride)),
                    L::load(at.add((4 + c) * point_stride)),
                    L::load(at.add((8 + c) * point_stride)),
                    L::load(at.add((12 + c) * point_stride)),
                );
                s[0][c] = L::add(L::add(m0, m1), m2);
                s[1][c] = L::sub(L::sub(m1, m2), m3);
            }
            for (r, s) in s.iter().enumerate() {
                let y0 = L::add(L::add(L::add(s[0], s[1]), s[2]), bias);
                let y1 = L::add(L::sub(L::sub(s[1], s[2]), s[3]), bias);
                let (y0, y1) = if relu {
                    (L::relu(y0), L::relu(y1))
                } else {
                    (y0, y1)
                };
                L::store(out.add(r * row + q * L::WIDTH), y0);
                L::store(out.add(r * row + LANES + q * L::WIDTH), y1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::conv::tests::values;
    use super::super::conv::Conv;
    use super::*;

    #[test]
    fn weight_transform_of_a_delta_is_the_expected_pattern() {
        // A filter that only keeps the centre tap: G e₁ e₁ᵀ Gᵀ is the outer
        // product of G's middle column (0, .5, -.5, 0) with itself.
        let mut g = [0f32; 9];
        g[4] = 1.0;
        let u = transform_weights(&g);
        let col = [0.0, 0.5, -0.5, 0.0];
        for r in 0..4 {
            for c in 0..4 {
                assert_eq!(u[r * 4 + c], col[r] * col[c]);
            }
        }
    }

    /// A variant of the driver, as [`RunImages`] (the variant this CPU
    /// chose, or the portable instantiations the tests add).
    type Variant = (&'static str, RunImages);

    /// The portable driver: 4 tiles x 2 blocks (both blocks of a group at
    /// once), and 3 x 1 (a group's blocks one by one).
    fn portable_variants() -> Vec<Variant> {
        unsafe fn four_by_two(c: &Winograd, i: &mut [(&[f32], &mut [f32])], s: &mut [f32]) {
            // SAFETY: the caller's; the portable lanes need no instruction set.
            unsafe { run_with::<melodora_core::simd::Portable, 16, 4, 2>(c, i, s) }
        }
        unsafe fn three_by_one(c: &Winograd, i: &mut [(&[f32], &mut [f32])], s: &mut [f32]) {
            // SAFETY: as above.
            unsafe { run_with::<melodora_core::simd::Portable, 16, 3, 1>(c, i, s) }
        }
        vec![
            ("portable 4x2", four_by_two),
            ("portable 3x1", three_by_one),
        ]
    }

    /// Winograd gives the direct convolution's result (which is tested
    /// against the ONNX definition) for one and several chunks, one and
    /// two output blocks, partial blocks and full and partial tile runs:
    /// the variant this CPU runs (if any) and the portable driver.
    #[test]
    fn matches_the_direct_convolution() {
        let mut variants = portable_variants();
        match *CHOSEN {
            Some(chosen) => variants.push(("chosen", chosen)),
            // Winograd is only built for AVX-512 and simd128, so elsewhere
            // convolutions stay direct.
            None => assert!(!Winograd::applies(
                &MapShape::new(16, 4, 4),
                &MapShape::new(16, 4, 4),
                (3, 3),
                (1, 1)
            )),
        }
        let cases = [
            // (in c, out c, h, w)
            (16, 16, 4, 4),
            (20, 40, 6, 10),
            (32, 32, 48, 48),
            (64, 24, 12, 12),
            (256, 256, 6, 6),
            (48, 33, 26, 2),
        ];
        for (n, &(c, oc, h, w)) in cases.iter().enumerate() {
            let mut input = MapShape::new(c, h, w);
            (input.border_y, input.border_x) = (1, 1);
            let mut output = MapShape::new(oc, h, w);
            output.border_x = 2;
            assert_eq!(
                Winograd::applies(&input, &output, (3, 3), (1, 1)),
                CHOSEN.is_some()
            );
            let planar = values(c * h * w, n as u32);
            let weights = values(oc * c * 9, 11 + n as u32);
            let bias = values(oc, 5);
            let mut map = vec![0f32; input.len()];
            input.fill_from_planar(&planar, &mut map);

            let mut direct = Conv::new(input, output, (3, 3), (1, 1), (1, 1), &weights, &bias);
            direct.relu = n % 2 == 0;
            let mut expected = vec![0f32; output.len()];
            direct.run(&map, &mut expected);

            let mut winograd = Winograd::new(input, output, &weights, &bias);
            winograd.relu = direct.relu;
            for &(variant, run) in &variants {
                // One image alone, then three at once (the same image
                // between two others), which must give the same values.
                let mut scratch = vec![f32::NAN; winograd.scratch_len()];
                let mut alone = vec![0f32; output.len()];
                // SAFETY: the variants are the portable ones and the one
                // this CPU chose; the maps and scratch are the sizes the
                // convolution declares.
                unsafe { run(&winograd, &mut [(&map[..], &mut alone[..])], &mut scratch) };
                let other: Vec<f32> = map.iter().map(|v| -v).collect();
                let mut outs = vec![vec![0f32; output.len()]; 3];
                let [before, middle, after] = &mut outs[..] else {
                    unreachable!()
                };
                // SAFETY: as above.
                unsafe {
                    run(
                        &winograd,
                        &mut [
                            (&other[..], &mut before[..]),
                            (&map[..], &mut middle[..]),
                            (&other[..], &mut after[..]),
                        ],
                        &mut scratch,
                    )
                };
                assert_eq!(before, after, "case {n}, {variant}");
                for got in [&alone, &outs[1]] {
                    for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                        let scale = 1.0 + b.abs();
                        assert!(
                            (a - b).abs() <= 1e-4 * scale,
                            "case {n}, {variant}, value {i}: {a} vs {b}"
                        );
                    }
                    // The border stays as it was (zero).
                    assert_eq!(got[output.offset(0, 0, 0)], 0.0, "case {n}, {variant}");
                }
            }
        }
    }
}
