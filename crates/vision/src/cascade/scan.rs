//! Evaluating a cascade on the windows of one pyramid level.
//!
//! The cascade is "compiled" for a table stride: every feature rectangle
//! becomes four precomputed offsets relative to the window's top-left corner,
//! stored inline in the node that uses it, so the hot loop touches one flat
//! array. Arithmetic mirrors OpenCV's HaarEvaluator operation for operation
//! (f32 feature sums, f32 variance factor, f64 stage sums), because a
//! different rounding would change which windows survive.

use super::integral::Integrals;
use super::model::{Cascade, HaarFeature};

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
    left: f32,
    right: f32,
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
}

#[derive(Debug, Clone, Copy)]
struct TreeRef {
    first_node: usize,
    first_leaf: usize,
}

/// How each stage's weak classifiers are laid out.
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
    stride: usize,
    window_width: usize,
    norm_offsets: [u32; 4],
    norm_area: f64,
    stages: Vec<StageRange>,
    weak: Weak,
}

/// Result of running the cascade on one window, as OpenCV's `runAt` reports
/// it: accepted, rejected by stage `n` (0 for the first stage), or skipped
/// (the window is too flat to normalise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowResult {
    Accepted,
    RejectedAt(usize),
    Flat,
}

fn corner_offsets(x: i32, y: i32, w: i32, h: i32, tilted: bool, stride: usize) -> [u32; 4] {
    let s = stride as i64;
    let (x, y, w, h) = (x as i64, y as i64, w as i64, h as i64);
    let ofs = |cx: i64, cy: i64| (cx + s * cy) as u32;
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

fn compile_feature(f: &HaarFeature, stride: usize) -> CompiledFeature {
    let mut offsets = [0u32; 12];
    let mut weights = [0f32; 3];
    for (i, r) in f.rects.iter().enumerate() {
        offsets[i * 4..i * 4 + 4]
            .copy_from_slice(&corner_offsets(r.x, r.y, r.w, r.h, f.tilted, stride));
        weights[i] = r.weight;
    }
    CompiledFeature {
        offsets,
        weights,
        tilted: f.tilted,
    }
}

impl CompiledCascade {
    /// Compiles `cascade` for tables whose rows are `stride` entries long.
    pub fn new(cascade: &Cascade, stride: usize) -> Self {
        let (ww, wh) = cascade.window_size();
        let features: Vec<CompiledFeature> = cascade
            .features()
            .iter()
            .map(|f| compile_feature(f, stride))
            .collect();
        let mut stages = Vec::with_capacity(cascade.stages().len());
        let weak = if cascade.is_stump_based() {
            let mut stumps = Vec::new();
            for stage in cascade.stages() {
                let start = stumps.len();
                for tree in &stage.trees {
                    let node = &tree.nodes[0];
                    // A stump's children are both leaves: -0 and -1.
                    let leaf = |child: i32| tree.leaves[(-child) as usize];
                    stumps.push(Stump {
                        feature: features[node.feature],
                        threshold: node.threshold,
                        left: leaf(node.left),
                        right: leaf(node.right),
                    });
                }
                stages.push(StageRange {
                    start,
                    end: stumps.len(),
                    threshold: stage.threshold,
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
                });
            }
            Weak::Trees {
                trees,
                nodes,
                leaves,
            }
        };
        let (ww, wh) = (ww as usize, wh as usize);
        Self {
            stride,
            window_width: ww,
            norm_offsets: corner_offsets(1, 1, ww as i32 - 2, wh as i32 - 2, false, stride),
            norm_area: ((ww - 2) * (wh - 2)) as f64,
            stages,
            weak,
        }
    }

    /// OpenCV's `setWindow`: the variance normalisation factor of the window
    /// at table offset `p`, or `None` when the window is too flat (OpenCV
    /// skips windows whose standard deviation is not above 10 grey levels).
    #[inline]
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
        let area = self.norm_area;
        let nf = area * f64::from(sqsum) - f64::from(sum) * f64::from(sum);
        if nf > 0.0 {
            let factor = (1.0 / nf.sqrt()) as f32;
            (area * f64::from(factor) < 1e-1).then_some(factor)
        } else {
            None
        }
    }

    /// Runs the whole cascade on the window whose top-left corner is table
    /// offset `p` (which must leave the window inside the tables).
    #[inline]
    pub fn run_at(&self, t: &Integrals, p: usize) -> WindowResult {
        let Some(norm) = self.variance_factor(t, p) else {
            return WindowResult::Flat;
        };
        match &self.weak {
            Weak::Stumps(stumps) => {
                for (si, stage) in self.stages.iter().enumerate() {
                    let mut acc = 0f64;
                    for stump in &stumps[stage.start..stage.end] {
                        let v = feature_value(&stump.feature, t, p) * norm;
                        acc += f64::from(if v < stump.threshold {
                            stump.left
                        } else {
                            stump.right
                        });
                    }
                    if acc < f64::from(stage.threshold) {
                        return WindowResult::RejectedAt(si);
                    }
                }
            }
            Weak::Trees {
                trees,
                nodes,
                leaves,
            } => {
                for (si, stage) in self.stages.iter().enumerate() {
                    let mut acc = 0f64;
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
                    if acc < f64::from(stage.threshold) {
                        return WindowResult::RejectedAt(si);
                    }
                }
            }
        }
        WindowResult::Accepted
    }

    /// Scans rows `rows` (stepping by `step`) of the level in `t`, pushing the
    /// top-left corners of accepted windows to `hits`. Mirrors OpenCV's
    /// stepping: after a window fails the first stage, the next one is
    /// skipped too.
    pub fn scan_rows(
        &self,
        t: &Integrals,
        rows: std::ops::Range<usize>,
        step: usize,
        hits: &mut Vec<(usize, usize)>,
    ) {
        let Some(x_end) = (t.width + 1).checked_sub(self.window_width) else {
            return;
        };
        let mut y = rows.start;
        while y < rows.end {
            let row_base = y * self.stride;
            let mut x = 0;
            while x < x_end {
                match self.run_at(t, row_base + x) {
                    WindowResult::Accepted => hits.push((x, y)),
                    WindowResult::RejectedAt(0) => x += step,
                    _ => {}
                }
                x += step;
            }
            y += step;
        }
    }
}

/// `sum_k weight_k * rect_sum_k`, in OpenCV's order and precision.
#[inline]
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
