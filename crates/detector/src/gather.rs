//! AVX-512 evaluation of one window's stump stage, 16 stumps at a time.
//!
//! Windows that survive the first stages are sparse, so evaluating them in
//! chunks of adjacent windows wastes most lanes. Instead the stumps of a
//! stage are laid out in blocks of 16 (offsets, weights, thresholds, leaves
//! in structure-of-arrays form) and the 16 features of a block are read with
//! gathers from the window's integral table. Each lane performs exactly the
//! scalar arithmetic; the leaves are summed in a different order, which is
//! only done for stages whose sums are proven order-independent
//! ([`super::scan`]'s `sum_is_exact`), so results stay bit-identical.

use std::ops::Range;

/// Lanes per block (one AVX-512 register of i32/f32).
pub const LANES: usize = 16;

/// 16 stumps in structure-of-arrays form. Unused lanes read offset 0 and
/// contribute a leaf of 0.0, which leaves an exact sum unchanged.
#[derive(Clone)]
#[repr(C, align(64))]
pub struct Block {
    offsets: [[i32; LANES]; 12],
    weights: [[f32; LANES]; 3],
    thresholds: [f32; LANES],
    left: [f64; LANES],
    right: [f64; LANES],
}

/// One upright stump, as the block builder needs it.
pub struct StumpLane {
    pub offsets: [u32; 12],
    pub weights: [f32; 3],
    pub threshold: f32,
    pub left: f64,
    pub right: f64,
}

/// Blocks of every stage: two-rectangle stumps first, then three-rectangle.
pub struct GatherBlocks {
    blocks: Vec<Block>,
    stages: Vec<(Range<usize>, Range<usize>)>,
}

impl std::fmt::Debug for GatherBlocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GatherBlocks({} blocks, {} stages)",
            self.blocks.len(),
            self.stages.len()
        )
    }
}

impl GatherBlocks {
    pub fn new() -> Self {
        Self {
            blocks: Vec::new(),
            stages: Vec::new(),
        }
    }

    /// Appends a stage given its two- and three-rectangle stumps.
    pub fn push_stage(&mut self, two: &[StumpLane], three: &[StumpLane]) {
        let a = self.push_blocks(two);
        let b = self.push_blocks(three);
        self.stages.push((a, b));
    }

    fn push_blocks(&mut self, stumps: &[StumpLane]) -> Range<usize> {
        let start = self.blocks.len();
        for group in stumps.chunks(LANES) {
            let mut block = Block {
                offsets: [[0; LANES]; 12],
                weights: [[0.0; LANES]; 3],
                thresholds: [0.0; LANES],
                left: [0.0; LANES],
                right: [0.0; LANES],
            };
            for (lane, s) in group.iter().enumerate() {
                for k in 0..12 {
                    block.offsets[k][lane] = s.offsets[k] as i32;
                }
                for k in 0..3 {
                    block.weights[k][lane] = s.weights[k];
                }
                block.thresholds[lane] = s.threshold;
                block.left[lane] = s.left;
                block.right[lane] = s.right;
            }
            self.blocks.push(block);
        }
        start..self.blocks.len()
    }

    /// Sum of the leaves chosen by stage `si`'s stumps for the window whose
    /// top-left table entry is `window`.
    ///
    /// # Safety
    /// The CPU must support AVX-512F, and `window.add(o)` must be readable
    /// for every offset `o` of every stump of the stage.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub unsafe fn stage_sum(&self, si: usize, window: *const i32, norm: f32) -> f64 {
        use std::arch::x86_64::*;
        let (two, three) = self.stages[si].clone();
        let norm = _mm512_set1_ps(norm);
        let mut acc_lo = _mm512_setzero_pd();
        let mut acc_hi = _mm512_setzero_pd();
        let mut run = |blocks: &[Block], rects: usize| {
            for b in blocks {
                let rect = |k: usize| -> __m512 {
                    let at = |i: usize| {
                        let idx = _mm512_load_si512(b.offsets[k * 4 + i].as_ptr().cast());
                        _mm512_i32gather_epi32::<4>(idx, window.cast())
                    };
                    let s = _mm512_add_epi32(
                        _mm512_sub_epi32(_mm512_sub_epi32(at(0), at(1)), at(2)),
                        at(3),
                    );
                    _mm512_cvtepi32_ps(s)
                };
                let w = |k: usize| _mm512_load_ps(b.weights[k].as_ptr());
                // (w0 r0 + w1 r1) [+ w2 r2], then times the norm: OpenCV's order.
                let mut v =
                    _mm512_add_ps(_mm512_mul_ps(w(0), rect(0)), _mm512_mul_ps(w(1), rect(1)));
                if rects == 3 {
                    v = _mm512_add_ps(v, _mm512_mul_ps(w(2), rect(2)));
                }
                v = _mm512_mul_ps(v, norm);
                let below =
                    _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_load_ps(b.thresholds.as_ptr()));
                let leaf = |half: usize, mask: u8| {
                    let l = _mm512_load_pd(b.left[half * 8..].as_ptr());
                    let r = _mm512_load_pd(b.right[half * 8..].as_ptr());
                    _mm512_mask_blend_pd(mask, r, l)
                };
                acc_lo = _mm512_add_pd(acc_lo, leaf(0, below as u8));
                acc_hi = _mm512_add_pd(acc_hi, leaf(1, (below >> 8) as u8));
            }
        };
        run(&self.blocks[two], 2);
        run(&self.blocks[three], 3);
        _mm512_reduce_add_pd(_mm512_add_pd(acc_lo, acc_hi))
    }
}
