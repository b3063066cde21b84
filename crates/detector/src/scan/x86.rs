//! The scanner's x86-64 variants: the generic scanner compiled for AVX2 and
//! for AVX-512, and the AVX-512 dense stage kernel.

use std::ops::Range;

use super::{CompiledCascade, Stump, CHUNK};
use crate::integral::Integrals;

/// The whole scanner compiled for AVX-512, using the gather and dense
/// stage kernels.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, DQ and VL, AVX2 and FMA.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
pub(super) unsafe fn scan_rows_avx512(
    cc: &CompiledCascade,
    t: &Integrals,
    rows: Range<usize>,
    step: usize,
    hits: &mut Vec<(usize, usize)>,
) {
    cc.scan_rows_generic::<true>(t, rows, step, hits)
}

/// The whole scanner compiled for AVX2 (the compiler vectorises the
/// chunk loops).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn scan_rows_avx2(
    cc: &CompiledCascade,
    t: &Integrals,
    rows: Range<usize>,
    step: usize,
    hits: &mut Vec<(usize, usize)>,
) {
    cc.scan_rows_generic::<false>(t, rows, step, hits)
}

/// AVX-512 version of `dense_stump_stage` for an exact-sum stage of upright
/// stumps (two-rectangle ones in `two`, three-rectangle ones in `three`):
/// one register holds the 16 windows of a chunk.
///
/// # Safety
/// The CPU must support AVX-512F; `window.add(o + i)` must be readable for
/// every stump offset `o` and `i < 16`.
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) unsafe fn dense_stage_avx512(
    two: &[Stump],
    three: &[Stump],
    window: *const i32,
    norm: &[f32; CHUNK],
    threshold: f32,
) -> u32 {
    use std::arch::x86_64::*;
    const _: () = assert!(CHUNK == 16);
    let norm = _mm512_loadu_ps(norm.as_ptr());
    let mut acc_lo = _mm512_setzero_pd();
    let mut acc_hi = _mm512_setzero_pd();
    let mut run = |stumps: &[Stump], rects: usize| {
        for s in stumps {
            let o = &s.feature.offsets;
            let rect = |k: usize| -> __m512 {
                let at = |i: usize| _mm512_loadu_si512(window.add(o[k * 4 + i] as usize).cast());
                let sum = _mm512_add_epi32(
                    _mm512_sub_epi32(_mm512_sub_epi32(at(0), at(1)), at(2)),
                    at(3),
                );
                _mm512_cvtepi32_ps(sum)
            };
            let w = &s.feature.weights;
            let mut v = _mm512_add_ps(
                _mm512_mul_ps(_mm512_set1_ps(w[0]), rect(0)),
                _mm512_mul_ps(_mm512_set1_ps(w[1]), rect(1)),
            );
            if rects == 3 {
                v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(w[2]), rect(2)));
            }
            v = _mm512_mul_ps(v, norm);
            let below = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_set1_ps(s.threshold));
            let (l, r) = (_mm512_set1_pd(s.left), _mm512_set1_pd(s.right));
            acc_lo = _mm512_add_pd(acc_lo, _mm512_mask_blend_pd(below as u8, r, l));
            acc_hi = _mm512_add_pd(acc_hi, _mm512_mask_blend_pd((below >> 8) as u8, r, l));
        }
    };
    run(two, 2);
    run(three, 3);
    let thr = _mm512_set1_pd(f64::from(threshold));
    let lo = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(acc_lo, thr);
    let hi = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(acc_hi, thr);
    u32::from(lo) | (u32::from(hi) << 8)
}
