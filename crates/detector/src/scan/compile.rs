//! Compiling a [`Cascade`] for one table stride: feature rectangles become
//! corner offsets, stump stages are checked for order-independent sums, and
//! (on x86-64) the gather layout of the AVX-512 kernel is built.

use super::{CompiledCascade, CompiledFeature, Node, StageRange, Stump, TreeRef, Weak};
#[cfg(target_arch = "x86_64")]
use crate::gather::{GatherBlocks, StumpLane};
use crate::integral::column_index;
use crate::model::{Cascade, HaarFeature};

/// Table offsets of a rectangle's four corners relative to a window's
/// top-left entry. In the split layout the window sits at an even column,
/// so a corner's column parity is that of its offset within the window.
fn corner_offsets(
    x: i32,
    y: i32,
    w: i32,
    h: i32,
    tilted: bool,
    stride: usize,
    split: bool,
) -> [u32; 4] {
    let s = stride as i64;
    let (x, y, w, h) = (x as i64, y as i64, w as i64, h as i64);
    let ofs = |cx: i64, cy: i64| (column_index(cx as usize, stride, split) as i64 + s * cy) as u32;
    if tilted {
        [
            ofs(x, y),
            ofs(x - h, y + h),
            ofs(x + w, y + w),
            ofs(x + w - h, y + w + h),
        ]
    } else {
        [ofs(x, y), ofs(x + w, y), ofs(x, y + h), ofs(x + w, y + h)]
    }
}

fn compile_feature(f: &HaarFeature, stride: usize, split: bool) -> CompiledFeature {
    let mut offsets = [0u32; 12];
    let mut weights = [0f32; 3];
    for (i, r) in f.rects.iter().enumerate() {
        offsets[i * 4..i * 4 + 4]
            .copy_from_slice(&corner_offsets(r.x, r.y, r.w, r.h, f.tilted, stride, split));
        weights[i] = r.weight;
    }
    CompiledFeature {
        offsets,
        weights,
        tilted: f.tilted,
    }
}

impl CompiledCascade {
    /// Compiles `cascade` for tables whose rows are `stride` entries long,
    /// in the plain or split layout (see [`Integrals::compute`]).
    pub fn new(cascade: &Cascade, stride: usize, split: bool) -> Self {
        let (ww, wh) = cascade.window_size();
        let features: Vec<CompiledFeature> = cascade
            .features()
            .iter()
            .map(|f| compile_feature(f, stride, split))
            .collect();
        let mut stages = Vec::with_capacity(cascade.stages().len());
        let weak = if cascade.is_stump_based() {
            let mut stumps = Vec::new();
            for stage in cascade.stages() {
                let start = stumps.len();
                let mut stage_stumps: Vec<Stump> = stage
                    .trees
                    .iter()
                    .map(|tree| {
                        let node = &tree.nodes[0];
                        let leaf = |child: i32| f64::from(tree.leaves[(-child) as usize]);
                        Stump {
                            feature: features[node.feature],
                            threshold: node.threshold,
                            left: leaf(node.left),
                            right: leaf(node.right),
                        }
                    })
                    .collect();
                let exact = sum_is_exact(stage_stumps.iter().map(|s| (s.left, s.right)));
                if exact {
                    stage_stumps.sort_by_key(|s| s.feature.weights[2] != 0.0);
                }
                let two_rect = stage_stumps
                    .iter()
                    .filter(|s| s.feature.weights[2] == 0.0)
                    .count();
                stumps.extend(stage_stumps);
                stages.push(StageRange {
                    start,
                    end: stumps.len(),
                    threshold: stage.threshold,
                    exact,
                    split: start + two_rect,
                });
            }
            Weak::Stumps(stumps)
        } else {
            let (mut trees, mut nodes, mut leaves) = (Vec::new(), Vec::new(), Vec::new());
            for stage in cascade.stages() {
                let start = trees.len();
                for tree in &stage.trees {
                    trees.push(TreeRef {
                        first_node: nodes.len(),
                        first_leaf: leaves.len(),
                    });
                    nodes.extend(tree.nodes.iter().map(|n| Node {
                        feature: features[n.feature],
                        threshold: n.threshold,
                        left: n.left,
                        right: n.right,
                    }));
                    leaves.extend_from_slice(&tree.leaves);
                }
                stages.push(StageRange {
                    start,
                    end: trees.len(),
                    threshold: stage.threshold,
                    exact: false,
                    split: start,
                });
            }
            Weak::Trees {
                trees,
                nodes,
                leaves,
            }
        };
        #[cfg(target_arch = "x86_64")]
        let gather = build_gather(&stages, &weak);
        let (ww, wh) = (ww as usize, wh as usize);
        Self {
            #[cfg(target_arch = "x86_64")]
            gather,
            window_width: ww,
            max_offset: wh * stride + ww,
            norm_offsets: corner_offsets(1, 1, ww as i32 - 2, wh as i32 - 2, false, stride, split),
            split,
            norm_area: ((ww - 2) * (wh - 2)) as f64,
            stages,
            weak,
        }
    }
}

#[cfg(target_arch = "x86_64")]
/// The gather layout, if the cascade qualifies: stumps only, no tilted
/// features, and every stage's sum order-independent.
fn build_gather(stages: &[StageRange], weak: &Weak) -> Option<GatherBlocks> {
    let Weak::Stumps(stumps) = weak else {
        return None;
    };
    if stumps.iter().any(|s| s.feature.tilted) || stages.iter().any(|s| !s.exact) {
        return None;
    }
    let lane = |s: &Stump| StumpLane {
        offsets: s.feature.offsets,
        weights: s.feature.weights,
        threshold: s.threshold,
        left: s.left,
        right: s.right,
    };
    let mut blocks = GatherBlocks::new();
    for st in stages {
        let two: Vec<StumpLane> = stumps[st.start..st.split].iter().map(lane).collect();
        let three: Vec<StumpLane> = stumps[st.split..st.end].iter().map(lane).collect();
        blocks.push_stage(&two, &three);
    }
    Some(blocks)
}

/// Whether adding the given leaf values in any order gives the same f64 sum.
///
/// Every f32 is an integer multiple of its ulp; if all partial sums are
/// multiples of the smallest ulp and bounded by 2^53 of them, each is exactly
/// representable and every addition is exact, so order cannot matter. This
/// holds for OpenCV's cascades and lets the scanner reorder and split sums
/// without changing a single result; stages that fail it keep strict order.
pub(super) fn sum_is_exact(leaves: impl Iterator<Item = (f64, f64)>) -> bool {
    let mut min_ulp_exp = i32::MAX;
    let mut bound = 0f64;
    for (l, r) in leaves {
        for v in [l, r] {
            let v = v as f32;
            if v != 0.0 {
                let biased = ((v.to_bits() >> 23) & 0xff) as i32;
                let exp = if biased == 0 { -149 } else { biased - 127 - 23 };
                min_ulp_exp = min_ulp_exp.min(exp);
            }
        }
        bound += l.abs().max(r.abs());
    }
    min_ulp_exp == i32::MAX || bound < 2f64.powi(53 + min_ulp_exp)
}
