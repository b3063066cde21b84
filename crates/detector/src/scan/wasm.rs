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
            let weighted = f32x4_add(
                f32x4_add(f32x4_mul(w0, rect(0)), f32x4_mul(w1, rect(1))),
                f32x4_mul(w2, rect(2)),
            );
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
