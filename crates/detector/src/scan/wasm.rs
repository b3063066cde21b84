//! The scanner's WebAssembly variant: the generic scanner with a simd128
//! dense stage kernel (`core::arch::wasm32`). The browser's build enables
//! simd128 for the whole module, so the variant is chosen at build time;
//! its boxes are checked against OpenCV's and the native build's by the
//! Node parity test (`crates/wasm/tests/node/parity.mjs`).

use std::arch::wasm32::*;
use std::ops::Range;

use super::{CompiledCascade, Stump, CHUNK};
use crate::integral::Integrals;

/// The whole scanner with the simd128 dense stage kernel.
///
/// # Safety
/// The module must be built with simd128 (`-C target-feature=+simd128`).
#[target_feature(enable = "simd128")]
pub(super) unsafe fn scan_rows_simd128(
    cc: &CompiledCascade,
    t: &Integrals,
    rows: Range<usize>,
    step: usize,
    hits: &mut Vec<(usize, usize)>,
) {
    cc.scan_rows_generic::<true>(t, rows, step, hits)
}

/// simd128 version of `dense_stump_stage`: the stumps in the stage's own
/// order, each lane doing exactly the portable arithmetic (wrapping i32
/// rectangle sums, f32 `((w0 r0 + w1 r1) + w2 r2) * norm`, f64 leaf sums),
/// four windows a vector.
///
/// # Safety
/// `sum.add(o + i)` must be readable for every stump offset `o` of an
/// upright feature and `i < CHUNK`, and `tilted.add(o + i)` for a tilted one.
#[target_feature(enable = "simd128")]
#[inline]
pub(super) unsafe fn dense_stage_simd128(
    stumps: &[Stump],
    sum: *const i32,
    tilted: *const i32,
    norm: &[f32; CHUNK],
    threshold: f32,
) -> u32 {
    const GROUPS: usize = CHUNK / 4;
    let norms: [v128; GROUPS] = std::array::from_fn(|g| v128_load(norm.as_ptr().add(g * 4).cast()));
    let mut acc = [f64x2_splat(0.0); CHUNK / 2];
    for s in stumps {
        let f = &s.feature;
        let table = if f.tilted { tilted } else { sum };
        let o = &f.offsets;
        let third = f.weights[2] != 0.0;
        let [w0, w1, w2] = f.weights.map(|w| f32x4_splat(w));
        let below_threshold = f32x4_splat(s.threshold);
        let (left, right) = (f64x2_splat(s.left), f64x2_splat(s.right));
        for (g, norm) in norms.iter().enumerate() {
            let window = table.wrapping_add(g * 4);
            let at = |k: usize| v128_load(window.add(o[k] as usize).cast());
            let rect = |r: usize| {
                let corners = i32x4_add(
                    i32x4_sub(i32x4_sub(at(r * 4), at(r * 4 + 1)), at(r * 4 + 2)),
                    at(r * 4 + 3),
                );
                f32x4_convert_i32x4(corners)
            };
            let two = f32x4_add(f32x4_mul(w0, rect(0)), f32x4_mul(w1, rect(1)));
            // Without a third rectangle (weight 0), w2 r2 is a zero, and
            // adding a zero changes no sum's comparison: skip it.
            let weighted = if third {
                f32x4_add(two, f32x4_mul(w2, rect(2)))
            } else {
                two
            };
            let below = f32x4_lt(f32x4_mul(weighted, *norm), below_threshold);
            // Lanes 0-1 and 2-3 of the mask, widened to select f64 leaves.
            let (low, high) = (
                i64x2_extend_low_i32x4(below),
                i64x2_extend_high_i32x4(below),
            );
            acc[2 * g] = f64x2_add(acc[2 * g], v128_bitselect(left, right, low));
            acc[2 * g + 1] = f64x2_add(acc[2 * g + 1], v128_bitselect(left, right, high));
        }
    }
    let threshold = f64x2_splat(f64::from(threshold));
    let mut pass = 0u32;
    for (j, a) in acc.iter().enumerate() {
        pass |= u32::from(i64x2_bitmask(f64x2_ge(*a, threshold))) << (2 * j);
    }
    pass
}

/// simd128 version of `dense_variance`: the variance factors of the `CHUNK`
/// windows whose normalisation corners are at `sum.add(o)` and
/// `sqsum.add(o)` for the four offsets `o`, with the portable arithmetic
/// (wrapping integer sums, f64 variance, f32 factor); returns the bit mask
/// of flat windows.
///
/// # Safety
/// `sum.add(o + i)` and `sqsum.add(o + i)` must be readable for every
/// offset `o` of `offsets` and `i < CHUNK`.
#[target_feature(enable = "simd128")]
#[inline]
pub(super) unsafe fn dense_variance_simd128(
    sum: *const i32,
    sqsum: *const u32,
    offsets: &[u32; 4],
    area: f64,
    norm: &mut [f32; CHUNK],
) -> u32 {
    let area2 = f64x2_splat(area);
    let (zero, one, limit) = (f64x2_splat(0.0), f64x2_splat(1.0), f64x2_splat(1e-1));
    let mut flat = 0u32;
    for g in 0..CHUNK / 4 {
        let corners = |table: *const i32| {
            let at = |k: usize| v128_load(table.add(offsets[k] as usize + g * 4).cast());
            i32x4_add(i32x4_sub(i32x4_sub(at(0), at(1)), at(2)), at(3))
        };
        let s = corners(sum);
        let q = corners(sqsum.cast());
        let mut factors = [0f32; 4];
        for half in 0..2 {
            let (s, q) = if half == 0 {
                (f64x2_convert_low_i32x4(s), f64x2_convert_low_u32x4(q))
            } else {
                (
                    f64x2_convert_low_i32x4(i32x4_shuffle::<2, 3, 2, 3>(s, s)),
                    f64x2_convert_low_u32x4(i32x4_shuffle::<2, 3, 2, 3>(q, q)),
                )
            };
            let nf = f64x2_sub(f64x2_mul(area2, q), f64x2_mul(s, s));
            // (1 / sqrt(nf)) as f32, then back to f64 for the check.
            let factor = f32x4_demote_f64x2_zero(f64x2_div(one, f64x2_sqrt(nf)));
            v128_store64_lane::<0>(factor, factors.as_mut_ptr().add(2 * half).cast());
            let good = v128_and(
                f64x2_gt(nf, zero),
                f64x2_lt(f64x2_mul(area2, f64x2_promote_low_f32x4(factor)), limit),
            );
            flat |= u32::from(!i64x2_bitmask(good) & 0b11) << (4 * g + 2 * half);
        }
        norm[4 * g..4 * g + 4].copy_from_slice(&factors);
    }
    flat
}
