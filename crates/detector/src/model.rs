//! The in-memory form of a boosted Haar cascade, independent of the XML
//! dialect it was read from, and the checks that make it safe to run.

use std::fmt;

/// One weighted rectangle of a Haar feature, in window coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedRect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
    /// Factor the rectangle's pixel sum is multiplied by.
    pub weight: f32,
}

/// A Haar-like feature: up to three weighted rectangles, upright or rotated
/// by 45 degrees ("tilted", read from the tilted integral image).
#[derive(Debug, Clone, PartialEq)]
pub struct HaarFeature {
    /// One to three rectangles; their weighted sums add up to the feature's value.
    pub rects: Vec<WeightedRect>,
    /// Whether the rectangles are rotated by 45 degrees.
    pub tilted: bool,
}

/// An internal node of a weak classifier tree.
///
/// `left`/`right` follow OpenCV's convention: a value > 0 is the index of
/// another node of the same tree, a value <= 0 is `-leaf_index`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeNode {
    /// Index of the feature in [`Cascade::features`].
    pub feature: usize,
    /// The node goes left when the feature's normalised value is below this.
    pub threshold: f32,
    /// Where a value below the threshold goes (see above).
    pub left: i32,
    /// Where any other value goes (see above).
    pub right: i32,
}

/// A weak classifier: a small decision tree (a single node for "stumps").
#[derive(Debug, Clone, PartialEq)]
pub struct WeakTree {
    /// The tree's nodes; the root is the first.
    pub nodes: Vec<TreeNode>,
    /// Leaf values, added to the stage sum where a path ends.
    pub leaves: Vec<f32>,
}

/// A boosting stage: the sum of its trees' leaf values must reach
/// `threshold` for a window to go on to the next stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Threshold as OpenCV uses it (the file's value minus 1e-5, in f32).
    pub threshold: f32,
    /// The weak classifiers whose leaves are summed.
    pub trees: Vec<WeakTree>,
}

/// A validated Haar cascade. Construct it with [`Cascade::from_xml`] or
/// [`Cascade::new`]; either way every index and rectangle has been checked,
/// so the detector never reads outside a window or loops in a tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Cascade {
    pub(crate) window_width: i32,
    pub(crate) window_height: i32,
    pub(crate) stages: Vec<Stage>,
    pub(crate) features: Vec<HaarFeature>,
}

/// Largest window side we accept; OpenCV's own cascades use 20 to 64 pixels.
pub const MAX_WINDOW_SIDE: i32 = 1024;

/// Why a cascade was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CascadeError {
    /// The text is not well-formed XML (the parser's error is the source).
    #[error("not a valid XML document")]
    Xml(#[source] roxmltree::Error),
    /// The elements are nested too deeply; refused before parsing, so deep
    /// nesting cannot exhaust the stack.
    #[error("not a valid XML document: elements nested more than {max} levels deep")]
    TooDeep {
        /// The deepest nesting accepted.
        max: usize,
    },
    /// Well-formed XML, but not OpenCV's `opencv_storage` cascade format.
    #[error("not an OpenCV Haar cascade: {0}")]
    NotACascade(String),
    /// A cascade of a kind the detector does not run (LBP, HOG, ...).
    #[error("unsupported cascade: {0}")]
    Unsupported(String),
    /// A Haar cascade whose numbers or indices do not hold together.
    #[error("malformed cascade: {0}")]
    Malformed(String),
}

impl Cascade {
    /// Builds a cascade from parts, validating it.
    pub fn new(
        window_width: i32,
        window_height: i32,
        stages: Vec<Stage>,
        features: Vec<HaarFeature>,
    ) -> Result<Self, CascadeError> {
        let cascade = Cascade {
            window_width,
            window_height,
            stages,
            features,
        };
        cascade.validate()?;
        Ok(cascade)
    }

    /// Detection window size (width, height) at scale 1.
    pub fn window_size(&self) -> (i32, i32) {
        (self.window_width, self.window_height)
    }

    /// The boosting stages, in the order a window meets them.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Every feature the stages' trees refer to (by index).
    pub fn features(&self) -> &[HaarFeature] {
        &self.features
    }

    /// Whether any feature needs the 45-degree (tilted) integral image.
    pub fn has_tilted_features(&self) -> bool {
        self.features.iter().any(|f| f.tilted)
    }

    /// Whether every weak classifier is a single node, which lets the
    /// detector use its faster stump path (as OpenCV does).
    pub fn is_stump_based(&self) -> bool {
        self.stages
            .iter()
            .flat_map(|s| &s.trees)
            .all(|t| t.nodes.len() == 1)
    }

    fn validate(&self) -> Result<(), CascadeError> {
        let (ww, wh) = (self.window_width, self.window_height);
        if !(1..=MAX_WINDOW_SIDE).contains(&ww) || !(1..=MAX_WINDOW_SIDE).contains(&wh) {
            return Err(malformed(format!(
                "window size {ww}x{wh} outside 1..={MAX_WINDOW_SIDE}"
            )));
        }
        if ww < 3 || wh < 3 {
            return Err(malformed(format!(
                "window size {ww}x{wh} too small for variance normalisation"
            )));
        }
        if self.stages.is_empty() {
            return Err(malformed("no stages".into()));
        }
        for (fi, feature) in self.features.iter().enumerate() {
            validate_feature(feature, ww, wh)
                .map_err(|e| malformed(format!("feature {fi}: {e}")))?;
        }
        for (si, stage) in self.stages.iter().enumerate() {
            if !stage.threshold.is_finite() {
                return Err(malformed(format!("stage {si}: threshold is not finite")));
            }
            if stage.trees.is_empty() {
                return Err(malformed(format!("stage {si}: no weak classifiers")));
            }
            for (ti, tree) in stage.trees.iter().enumerate() {
                validate_tree(tree, self.features.len())
                    .map_err(|e| malformed(format!("stage {si}, tree {ti}: {e}")))?;
            }
        }
        Ok(())
    }
}

fn malformed(msg: String) -> CascadeError {
    CascadeError::Malformed(msg)
}

fn validate_feature(f: &HaarFeature, ww: i32, wh: i32) -> Result<(), String> {
    if f.rects.is_empty() || f.rects.len() > 3 {
        return Err(format!("has {} rectangles, expected 1 to 3", f.rects.len()));
    }
    for r in &f.rects {
        if !r.weight.is_finite() {
            return Err("rectangle weight is not finite".into());
        }
        if r.x < 0 || r.y < 0 || r.w < 0 || r.h < 0 {
            return Err(format!(
                "rectangle {} has a negative coordinate",
                DisplayRect(r)
            ));
        }
        // Widen to i64 so that hostile values cannot overflow the checks.
        let (x, y, w, h) = (r.x as i64, r.y as i64, r.w as i64, r.h as i64);
        let (ww, wh) = (ww as i64, wh as i64);
        let inside = if f.tilted {
            // A tilted rect spans columns x-h ..= x+w and rows y ..= y+w+h.
            x - h >= 0 && x + w <= ww && y + w + h <= wh
        } else {
            x + w <= ww && y + h <= wh
        };
        if !inside {
            return Err(format!(
                "{}rectangle {} lies outside the {ww}x{wh} window",
                if f.tilted { "tilted " } else { "" },
                DisplayRect(r)
            ));
        }
    }
    Ok(())
}

fn validate_tree(tree: &WeakTree, feature_count: usize) -> Result<(), String> {
    if tree.nodes.is_empty() {
        return Err("no nodes".into());
    }
    let n_nodes = tree.nodes.len() as i64;
    let n_leaves = tree.leaves.len() as i64;
    for (ni, node) in tree.nodes.iter().enumerate() {
        if node.feature >= feature_count {
            return Err(format!(
                "node {ni} uses feature {} but the cascade has {feature_count}",
                node.feature
            ));
        }
        if !node.threshold.is_finite() {
            return Err(format!("node {ni}: threshold is not finite"));
        }
        for child in [node.left, node.right] {
            let child = child as i64;
            // Children must point forward so that evaluation always ends.
            let ok = if child > 0 {
                child > ni as i64 && child < n_nodes
            } else {
                -child < n_leaves
            };
            if !ok {
                return Err(format!(
                    "node {ni} points to {} ({} nodes, {} leaves)",
                    child, n_nodes, n_leaves
                ));
            }
        }
    }
    if tree.leaves.iter().any(|v| !v.is_finite()) {
        return Err("leaf value is not finite".into());
    }
    Ok(())
}

struct DisplayRect<'a>(&'a WeightedRect);

impl fmt::Display for DisplayRect<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(f, "({} {} {} {})", r.x, r.y, r.w, r.h)
    }
}
