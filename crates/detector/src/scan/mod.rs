//! Evaluating a cascade on the windows of one pyramid level.
//!
//! The cascade is "compiled" for a table stride: every feature rectangle
//! becomes four precomputed offsets relative to the window's top-left corner,
//! stored inline in the node that uses it, so the hot loops touch one flat
//! array. Arithmetic mirrors OpenCV's HaarEvaluator operation for operation
//! (f32 feature sums, f32 variance factor, f64 stage sums), because a
//! different rounding would change which windows survive.
//!
//! Speed comes from evaluating stump stages on [`CHUNK`] horizontally
//! adjacent windows at once: their table reads are contiguous, so the loops
//! vectorise (compiled for AVX2 and AVX-512, chosen at run time through
//! one [`Kernels`] table, `SCAN_ROWS`; in WebAssembly a simd128 stage
//! kernel, chosen at build time). Each
//! lane does exactly the scalar arithmetic, so results are identical; chunks
//! where few windows are still alive fall back to per-window evaluation.

mod compile;
#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::ops::Range;
use std::sync::LazyLock;

use melodora_core::simd::Kernels;

#[cfg(target_arch = "x86_64")]
use crate::gather::GatherBlocks;
use crate::integral::{Integrals, TABLE_PADDING};

/// Windows evaluated together. The integral tables carry at least this
/// much padding, so that a chunk starting at the last window never reads
/// past the end.
pub const CHUNK: usize = 16;
const _: () = assert!(TABLE_PADDING >= CHUNK);

/// Bit mask with one bit per window of a chunk.
const ALL_LANES: u32 = (1 << CHUNK) - 1;

/// At most this many live windows in a chunk: evaluate them one by one.
const SCALAR_CUTOFF: u32 = 2;

/// A feature compiled for one stride: 3 rectangles x 4 corner offsets.
/// Missing rectangles have weight 0 and offsets 0, contributing exactly 0.
#[derive(Debug, Clone, Copy)]
struct CompiledFeature {
    offsets: [u32; 12],
    weights: [f32; 3],
    tilted: bool,
}

#[derive(Debug, Clone, Copy)]
struct Stump {
    feature: CompiledFeature,
    threshold: f32,
    /// Leaf values, widened once here as OpenCV widens them per addition.
    left: f64,
    right: f64,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    feature: CompiledFeature,
    threshold: f32,
    left: i32,
    right: i32,
}

#[derive(Debug, Clone, Copy)]
struct StageRange {
    start: usize,
    end: usize,
    threshold: f32,
    /// Whether any order of adding this stage's leaf values gives the same
    /// f64 sum (see `compile::sum_is_exact`). Then its stumps are reordered, the
    /// two-rectangle ones first (up to `split`), and summed with several
    /// accumulators; otherwise they keep OpenCV's order and sequential sum.
    exact: bool,
    split: usize,
}

#[derive(Debug, Clone, Copy)]
struct TreeRef {
    first_node: usize,
    first_leaf: usize,
}

/// How the stages' weak classifiers are laid out.
#[derive(Debug)]
enum Weak {
    /// All trees are single nodes: `StageRange` indexes `stumps`.
    Stumps(Vec<Stump>),
    /// General trees: `StageRange` indexes `trees`.
    Trees {
        trees: Vec<TreeRef>,
        nodes: Vec<Node>,
        leaves: Vec<f32>,
    },
}

/// A cascade compiled for integral tables of one stride.
#[derive(Debug)]
pub struct CompiledCascade {
    window_width: usize,
    /// Compiled for the split layout: positions along a row are every
    /// other column.
    split: bool,
    /// Largest table offset any feature reads, relative to a window.
    max_offset: usize,
    norm_offsets: [u32; 4],
    norm_area: f64,
    stages: Vec<StageRange>,
    weak: Weak,
    /// Gather layout for one-window evaluation, when every stage is an
    /// exact-sum stump stage on upright features. Read by the AVX-512
    /// kernel only.
    #[cfg(target_arch = "x86_64")]
    gather: Option<GatherBlocks>,
}

/// The scanner's one kernel family: a whole level's rows at a time, so the
/// instruction set is chosen once per call, not per window.
type ScanRows =
    unsafe fn(&CompiledCascade, &Integrals, Range<usize>, usize, &mut Vec<(usize, usize)>);

/// [`CompiledCascade::scan_rows`]'s variants: the same generic scanner
/// compiled for each instruction set, the AVX-512 one also using the gather
/// and dense-stage kernels of `x86`, the simd128 one the dense-stage kernel
/// of `wasm`.
#[cfg(target_arch = "x86_64")]
const SCAN_ROWS: Kernels<ScanRows> = Kernels {
    portable: CompiledCascade::scan_rows_portable,
    simd128: None,
    avx2: Some(x86::scan_rows_avx2),
    avx512: Some(x86::scan_rows_avx512),
};
#[cfg(target_arch = "wasm32")]
const SCAN_ROWS: Kernels<ScanRows> = Kernels {
    portable: CompiledCascade::scan_rows_portable,
    simd128: Some(wasm::scan_rows_simd128),
    avx2: None,
    avx512: None,
};
#[cfg(not(any(target_arch = "x86_64", target_arch = "wasm32")))]
const SCAN_ROWS: Kernels<ScanRows> = Kernels::portable(CompiledCascade::scan_rows_portable);

impl CompiledCascade {
    /// OpenCV's `setWindow` for the window at table offset `p`: the variance
    /// normalisation factor, or `None` when the window is too flat (OpenCV
    /// skips windows whose standard deviation is not above 10 grey levels).
    #[cfg(test)]
    fn variance_factor(&self, t: &Integrals, p: usize) -> Option<f32> {
        let o = &self.norm_offsets;
        let s = &t.sum;
        let q = &t.sqsum;
        let sum = s[p + o[0] as usize]
            .wrapping_sub(s[p + o[1] as usize])
            .wrapping_sub(s[p + o[2] as usize])
            .wrapping_add(s[p + o[3] as usize]);
        let sqsum = q[p + o[0] as usize]
            .wrapping_sub(q[p + o[1] as usize])
            .wrapping_sub(q[p + o[2] as usize])
            .wrapping_add(q[p + o[3] as usize]);
        variance_factor_from(self.norm_area, sum, sqsum)
    }

    /// Runs stage `si` on the single window at table offset `p`.
    #[inline(always)]
    fn stage_passes<const TUNED: bool>(
        &self,
        si: usize,
        t: &Integrals,
        p: usize,
        norm: f32,
    ) -> bool {
        let stage = &self.stages[si];
        let mut acc = 0f64;
        #[cfg(target_arch = "x86_64")]
        if TUNED {
            if let Some(g) = &self.gather {
                debug_assert!(p + self.max_offset < t.sum.len());
                // SAFETY: TUNED is only set by the AVX-512 entry point on
                // x86-64, and
                // every offset read stays inside the tables (see below).
                let acc = unsafe { g.stage_sum(si, t.sum.as_ptr().add(p), norm) };
                return acc >= f64::from(stage.threshold);
            }
        }
        match &self.weak {
            Weak::Stumps(stumps) if stage.exact => {
                debug_assert!(p + self.max_offset < t.sum.len());
                // SAFETY: `p` is a window inside the level (callers scan only
                // x < columns, y < rows) and every offset is at most
                // `max_offset`, whose sum with any such `p` is inside the
                // tables (rectangles were validated to lie in the window).
                let (a, b) = unsafe {
                    (
                        sum_stumps_unchecked::<2>(&stumps[stage.start..stage.split], t, p, norm),
                        sum_stumps_unchecked::<3>(&stumps[stage.split..stage.end], t, p, norm),
                    )
                };
                acc = a + b;
            }
            Weak::Stumps(stumps) => {
                for stump in &stumps[stage.start..stage.end] {
                    let v = feature_value(&stump.feature, t, p) * norm;
                    acc += if v < stump.threshold {
                        stump.left
                    } else {
                        stump.right
                    };
                }
            }
            Weak::Trees {
                trees,
                nodes,
                leaves,
            } => {
                for tree in &trees[stage.start..stage.end] {
                    let mut idx: i32 = 0;
                    loop {
                        let node = &nodes[tree.first_node + idx as usize];
                        let v = feature_value(&node.feature, t, p) * norm;
                        idx = if v < node.threshold {
                            node.left
                        } else {
                            node.right
                        };
                        if idx <= 0 {
                            break;
                        }
                    }
                    acc += f64::from(leaves[tree.first_leaf + (-idx) as usize]);
                }
            }
        }
        acc >= f64::from(stage.threshold)
    }

    /// Scans window rows `rows` (stepping by `step`) of the level in `t`,
    /// pushing the top-left corners of accepted windows to `hits`, in
    /// OpenCV's order. Mirrors OpenCV's stepping: after a window fails the
    /// first stage, the next one is skipped.
    pub fn scan_rows(
        &self,
        t: &Integrals,
        rows: Range<usize>,
        step: usize,
        hits: &mut Vec<(usize, usize)>,
    ) {
        static CHOSEN: LazyLock<ScanRows> = LazyLock::new(|| SCAN_ROWS.best());
        // SAFETY: `Kernels::best` only picks a variant the CPU supports; the
        // variants have no other requirement.
        unsafe { CHOSEN(self, t, rows, step, hits) }
    }

    /// The portable variant of [`scan_rows`](Self::scan_rows), the reference
    /// the others are tested against.
    fn scan_rows_portable(
        &self,
        t: &Integrals,
        rows: Range<usize>,
        step: usize,
        hits: &mut Vec<(usize, usize)>,
    ) {
        self.scan_rows_generic::<false>(t, rows, step, hits)
    }

    #[inline(always)]
    fn scan_rows_generic<const TUNED: bool>(
        &self,
        t: &Integrals,
        rows: Range<usize>,
        step: usize,
        hits: &mut Vec<(usize, usize)>,
    ) {
        let Some(columns) = (t.width + 1).checked_sub(self.window_width) else {
            return;
        };
        debug_assert!(
            t.sum.len() >= (t.height + 1) * t.stride + CHUNK,
            "tables lack chunk padding"
        );
        debug_assert_eq!(t.split, self.split, "tables and cascade disagree on layout");
        // In the split layout, consecutive positions are every other column,
        // exactly the columns OpenCV visits at step 2.
        let (positions, position_step, x_scale) = if self.split {
            assert_eq!(step, 2, "the split layout serves step-2 levels");
            (columns.div_ceil(2), 1, 2)
        } else {
            (columns, step, 1)
        };
        let chunks = positions.div_ceil(CHUNK);
        let mut row = RowState::new(chunks);
        let first = hits.len();
        let mut y = rows.start;
        while y < rows.end {
            self.scan_row::<TUNED>(t, y, positions, position_step, &mut row, hits);
            y += step;
        }
        for hit in &mut hits[first..] {
            hit.0 *= x_scale;
        }
    }

    /// Evaluates one row of windows stage by stage.
    #[inline(always)]
    fn scan_row<const TUNED: bool>(
        &self,
        t: &Integrals,
        y: usize,
        columns: usize,
        step: usize,
        row: &mut RowState,
        hits: &mut Vec<(usize, usize)>,
    ) {
        let base = y * t.stride;
        // Variance and stage 0 for every window of the row.
        for (c, chunk) in row.chunks.iter_mut().enumerate() {
            let p = base + c * CHUNK;
            let flat = self.dense_variance::<TUNED>(t, p, &mut chunk.norm);
            let pass0 = match &self.weak {
                // Flat windows are never evaluated: skip chunks of only those.
                _ if flat == ALL_LANES => 0,
                Weak::Stumps(stumps) => self.dense_stage::<TUNED>(0, stumps, t, p, &chunk.norm),
                Weak::Trees { .. } => {
                    let mut m = 0;
                    for i in 0..CHUNK {
                        if flat & (1 << i) == 0
                            && c * CHUNK + i < columns
                            && self.stage_passes::<TUNED>(0, t, p + i, chunk.norm[i])
                        {
                            m |= 1 << i;
                        }
                    }
                    m
                }
            };
            chunk.flat = flat;
            chunk.pass0 = pass0;
        }
        // OpenCV's stepping: visit x = 0, step, ...; a window rejected by
        // stage 0 (not a flat one) makes it skip the next.
        let mut x = 0;
        let mut any_alive = false;
        for chunk in row.chunks.iter_mut() {
            chunk.alive = 0;
        }
        while x < columns {
            let (c, i) = (x / CHUNK, x % CHUNK);
            let chunk = &mut row.chunks[c];
            let bit = 1u32 << i;
            if chunk.flat & bit == 0 {
                if chunk.pass0 & bit != 0 {
                    chunk.alive |= bit;
                    any_alive = true;
                } else {
                    x += step;
                }
            }
            x += step;
        }
        if !any_alive {
            return;
        }
        // Remaining stages on the windows still alive.
        for si in 1..self.stages.len() {
            let mut any = false;
            for (c, chunk) in row.chunks.iter_mut().enumerate() {
                if chunk.alive == 0 {
                    continue;
                }
                let p = base + c * CHUNK;
                chunk.alive = match &self.weak {
                    Weak::Stumps(stumps) if chunk.alive.count_ones() > SCALAR_CUTOFF => {
                        chunk.alive & self.dense_stage::<TUNED>(si, stumps, t, p, &chunk.norm)
                    }
                    _ => {
                        let mut m = chunk.alive;
                        let mut bits = chunk.alive;
                        while bits != 0 {
                            let i = bits.trailing_zeros() as usize;
                            bits &= bits - 1;
                            if !self.stage_passes::<TUNED>(si, t, p + i, chunk.norm[i]) {
                                m &= !(1 << i);
                            }
                        }
                        m
                    }
                };
                any |= chunk.alive != 0;
            }
            if !any {
                return;
            }
        }
        for (c, chunk) in row.chunks.iter().enumerate() {
            let mut bits = chunk.alive;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                hits.push((c * CHUNK + i, y));
            }
        }
    }

    /// Variance factors of the `CHUNK` windows starting at table offset `p`;
    /// returns the bit mask of flat (skipped) windows.
    #[inline(always)]
    fn dense_variance<const TUNED: bool>(
        &self,
        t: &Integrals,
        p: usize,
        norm: &mut [f32; CHUNK],
    ) -> u32 {
        let o = &self.norm_offsets;
        #[cfg(target_arch = "wasm32")]
        if TUNED {
            let last = p + *o.iter().max().expect("four corners") as usize + CHUNK;
            assert!(last <= t.sum.len() && last <= t.sqsum.len());
            // SAFETY: TUNED is only set by the simd128 entry point; every
            // read is below `last`, checked above.
            return unsafe {
                wasm::dense_variance_simd128(
                    t.sum.as_ptr().add(p),
                    t.sqsum.as_ptr().add(p),
                    o,
                    self.norm_area,
                    norm,
                )
            };
        }
        let s = |k: usize| -> &[i32; CHUNK] { chunk_of(&t.sum, p + o[k] as usize) };
        let q = |k: usize| -> &[u32; CHUNK] { chunk_of(&t.sqsum, p + o[k] as usize) };
        let (s0, s1, s2, s3) = (s(0), s(1), s(2), s(3));
        let (q0, q1, q2, q3) = (q(0), q(1), q(2), q(3));
        let mut ok = [false; CHUNK];
        for i in 0..CHUNK {
            let sum = s0[i]
                .wrapping_sub(s1[i])
                .wrapping_sub(s2[i])
                .wrapping_add(s3[i]);
            let sqsum = q0[i]
                .wrapping_sub(q1[i])
                .wrapping_sub(q2[i])
                .wrapping_add(q3[i]);
            let nf = self.norm_area * f64::from(sqsum) - f64::from(sum) * f64::from(sum);
            let factor = (1.0 / nf.sqrt()) as f32;
            norm[i] = factor;
            ok[i] = nf > 0.0 && self.norm_area * f64::from(factor) < 1e-1;
        }
        let mut flat = 0u32;
        for (i, &good) in ok.iter().enumerate() {
            flat |= u32::from(!good) << i;
        }
        flat
    }

    /// Stage `si` on the `CHUNK` windows starting at table offset `p`, with
    /// the target's hand-written kernel when `TUNED` (set only by the
    /// AVX-512 entry point on x86-64, where the stage's sum must also be
    /// order-independent, and by the simd128 one on wasm32).
    #[inline(always)]
    fn dense_stage<const TUNED: bool>(
        &self,
        si: usize,
        stumps: &[Stump],
        t: &Integrals,
        p: usize,
        norm: &[f32; CHUNK],
    ) -> u32 {
        #[cfg(target_arch = "x86_64")]
        if TUNED && self.stages[si].exact && !t.tilted_in_use() {
            let stage = &self.stages[si];
            // SAFETY: TUNED is only set by the AVX-512 entry point; chunk
            // reads stay inside the padded tables (see `CHUNK`).
            return unsafe {
                debug_assert!(p + self.max_offset + CHUNK <= t.sum.len());
                x86::dense_stage_avx512(
                    &stumps[stage.start..stage.split],
                    &stumps[stage.split..stage.end],
                    t.sum.as_ptr().add(p),
                    norm,
                    stage.threshold,
                )
            };
        }
        #[cfg(target_arch = "wasm32")]
        if TUNED {
            let stage = &self.stages[si];
            debug_assert!(p + self.max_offset + CHUNK <= t.sum.len());
            debug_assert!(!t.tilted_in_use() || p + self.max_offset + CHUNK <= t.tilted.len());
            // SAFETY: TUNED is only set by the simd128 entry point; chunk
            // reads stay inside the padded tables (see `CHUNK`), and the
            // tilted table is read only by tilted features, which exist
            // only when it is in use.
            return unsafe {
                wasm::dense_stage_simd128(
                    &stumps[stage.start..stage.end],
                    t.sum.as_ptr().add(p),
                    t.tilted.as_ptr().wrapping_add(p),
                    norm,
                    stage.threshold,
                )
            };
        }
        self.dense_stump_stage(si, stumps, t, p, norm)
    }

    /// Stage `si` (all stumps) on the `CHUNK` windows starting at table
    /// offset `p`; returns the bit mask of windows that pass.
    #[inline(always)]
    fn dense_stump_stage(
        &self,
        si: usize,
        stumps: &[Stump],
        t: &Integrals,
        p: usize,
        norm: &[f32; CHUNK],
    ) -> u32 {
        let stage = &self.stages[si];
        let mut acc = [0f64; CHUNK];
        for stump in &stumps[stage.start..stage.end] {
            let f = &stump.feature;
            let table = if f.tilted { &t.tilted } else { &t.sum };
            let c = |k: usize| -> &[i32; CHUNK] { chunk_of(table, p + f.offsets[k] as usize) };
            let (a0, a1, a2, a3) = (c(0), c(1), c(2), c(3));
            let (b0, b1, b2, b3) = (c(4), c(5), c(6), c(7));
            let (d0, d1, d2, d3) = (c(8), c(9), c(10), c(11));
            let [w0, w1, w2] = f.weights;
            let (thr, left, right) = (stump.threshold, stump.left, stump.right);
            for i in 0..CHUNK {
                let r0 = a0[i]
                    .wrapping_sub(a1[i])
                    .wrapping_sub(a2[i])
                    .wrapping_add(a3[i]) as f32;
                let r1 = b0[i]
                    .wrapping_sub(b1[i])
                    .wrapping_sub(b2[i])
                    .wrapping_add(b3[i]) as f32;
                let r2 = d0[i]
                    .wrapping_sub(d1[i])
                    .wrapping_sub(d2[i])
                    .wrapping_add(d3[i]) as f32;
                // Same operations as feature_value: (w0 r0 + w1 r1) + w2 r2;
                // with no third rectangle, w2 r2 is +0 and changes nothing.
                let v = (w0 * r0 + w1 * r1 + w2 * r2) * norm[i];
                acc[i] += if v < thr { left } else { right };
            }
        }
        let threshold = f64::from(stage.threshold);
        let mut pass = 0u32;
        for (i, &a) in acc.iter().enumerate() {
            pass |= u32::from(a >= threshold) << i;
        }
        pass
    }

    /// Reference evaluation of the whole cascade on one window, used by tests
    /// to check the chunked scanner.
    #[cfg(test)]
    fn run_at(&self, t: &Integrals, p: usize) -> Option<bool> {
        let norm = self.variance_factor(t, p)?;
        Some((0..self.stages.len()).all(|si| self.stage_passes::<false>(si, t, p, norm)))
    }
}

/// Per-row scratch: one entry per chunk of windows.
struct RowState {
    chunks: Vec<ChunkState>,
}

#[derive(Clone, Copy, Default)]
struct ChunkState {
    norm: [f32; CHUNK],
    flat: u32,
    pass0: u32,
    alive: u32,
}

impl RowState {
    fn new(chunks: usize) -> Self {
        Self {
            chunks: vec![ChunkState::default(); chunks],
        }
    }
}

/// Sum of the leaves chosen by `stumps` (all with `RECTS` rectangles) for the
/// window at `p`, with two accumulators to shorten the dependency chain.
///
/// # Safety
/// `p + offset` must be in bounds of the tables for every offset of every
/// stump (see `max_offset`).
#[inline(always)]
unsafe fn sum_stumps_unchecked<const RECTS: usize>(
    stumps: &[Stump],
    t: &Integrals,
    p: usize,
    norm: f32,
) -> f64 {
    #[inline(always)]
    unsafe fn value<const RECTS: usize>(s: &Stump, t: &Integrals, p: usize, norm: f32) -> f64 {
        let f = &s.feature;
        let table = if f.tilted {
            t.tilted.as_ptr()
        } else {
            t.sum.as_ptr()
        };
        let o = &f.offsets;
        let rect = |k: usize| -> f32 {
            let at = |i: usize| *table.add(p + o[k * 4 + i] as usize);
            at(0)
                .wrapping_sub(at(1))
                .wrapping_sub(at(2))
                .wrapping_add(at(3)) as f32
        };
        let w = &f.weights;
        let mut v = w[0] * rect(0) + w[1] * rect(1);
        if RECTS == 3 {
            v += w[2] * rect(2);
        }
        if v * norm < s.threshold {
            s.left
        } else {
            s.right
        }
    }
    let (mut a, mut b) = (0f64, 0f64);
    let mut pairs = stumps.chunks_exact(2);
    for pair in &mut pairs {
        a += value::<RECTS>(&pair[0], t, p, norm);
        b += value::<RECTS>(&pair[1], t, p, norm);
    }
    if let [last] = pairs.remainder() {
        a += value::<RECTS>(last, t, p, norm);
    }
    a + b
}

/// `CHUNK` consecutive table entries from `start` (one bounds check).
#[inline(always)]
fn chunk_of<T>(table: &[T], start: usize) -> &[T; CHUNK] {
    table[start..start + CHUNK]
        .try_into()
        .expect("slice has CHUNK entries")
}

/// OpenCV's variance normalisation from a window's sum and squared sum.
#[cfg(test)]
fn variance_factor_from(area: f64, sum: i32, sqsum: u32) -> Option<f32> {
    let nf = area * f64::from(sqsum) - f64::from(sum) * f64::from(sum);
    if nf > 0.0 {
        let factor = (1.0 / nf.sqrt()) as f32;
        (area * f64::from(factor) < 1e-1).then_some(factor)
    } else {
        None
    }
}

/// `sum_k weight_k * rect_sum_k`, in OpenCV's order and precision.
#[inline(always)]
fn feature_value(f: &CompiledFeature, t: &Integrals, p: usize) -> f32 {
    let table = if f.tilted { &t.tilted } else { &t.sum };
    let o = &f.offsets;
    let rect = |k: usize| -> f32 {
        let at = |i: usize| table[p + o[k * 4 + i] as usize];
        at(0)
            .wrapping_sub(at(1))
            .wrapping_sub(at(2))
            .wrapping_add(at(3)) as f32
    };
    let w = &f.weights;
    let mut v = w[0] * rect(0) + w[1] * rect(1);
    if w[2] != 0.0 {
        v += w[2] * rect(2);
    }
    v
}

#[cfg(test)]
mod tests;
