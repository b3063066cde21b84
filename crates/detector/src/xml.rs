//! Reading OpenCV's cascade XML files, both dialects:
//!
//! * the current one (`<cascade>` with `stageType BOOST`, `featureType HAAR`,
//!   `internalNodes`/`leafValues` and a shared `<features>` list), in which
//!   OpenCV 3 and 4 ship all their Haar cascades;
//! * the old `opencv-haar-classifier` one (`<size>`, `<trees>` of nodes with
//!   inline `<feature>`s and `left_val`/`left_node`), which OpenCV 4 still
//!   loads by converting it to the current form.
//!
//! Old-format stages are run as a plain sequence, as OpenCV 4 does; the
//! `parent`/`next` links of tree cascades are ignored.

use roxmltree::{Document, Node, ParsingOptions};

use crate::model::{Cascade, CascadeError, HaarFeature, Stage, TreeNode, WeakTree, WeightedRect};

/// OpenCV subtracts this from every stage threshold when loading
/// (`THRESHOLD_EPS` in cascadedetect.cpp), so we must too.
const THRESHOLD_EPS: f32 = 1e-5;

/// Upper bound on XML nodes, far above OpenCV's largest cascade (~300k
/// nodes), so a hostile file cannot make us build an unbounded tree.
const MAX_XML_NODES: u32 = 20_000_000;

/// Deepest element nesting accepted; OpenCV's cascades nest 6 levels deep.
/// roxmltree's tokenizer recurses once per level, so without this bound a
/// file of 100k nested elements overflows the stack and aborts the process.
const MAX_XML_DEPTH: usize = 256;

impl Cascade {
    /// Parses an OpenCV cascade XML document (either dialect).
    pub fn from_xml(text: &str) -> Result<Cascade, CascadeError> {
        let options = ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_XML_NODES,
        };
        check_nesting(text)?;
        let doc = Document::parse_with_options(text, options).map_err(CascadeError::Xml)?;
        let storage = doc.root_element();
        if storage.tag_name().name() != "opencv_storage" {
            return Err(CascadeError::NotACascade(format!(
                "root element is <{}>, expected <opencv_storage>",
                storage.tag_name().name()
            )));
        }
        let root = storage
            .children()
            .find(Node::is_element)
            .ok_or_else(|| CascadeError::NotACascade("<opencv_storage> is empty".into()))?;
        if child(root, "stageType").is_some() || child(root, "featureType").is_some() {
            read_current(root)
        } else if child(root, "size").is_some() && child(root, "stages").is_some() {
            read_old(root)
        } else {
            Err(CascadeError::NotACascade(format!(
                "<{}> has neither <stageType> (current format) nor <size> (old format)",
                root.tag_name().name()
            )))
        }
    }
}

fn read_current(root: Node) -> Result<Cascade, CascadeError> {
    let stage_type = text_of(root, "stageType")?;
    if stage_type != "BOOST" {
        return Err(CascadeError::Unsupported(format!(
            "stageType {stage_type:?} (only BOOST is supported)"
        )));
    }
    let feature_type = text_of(root, "featureType")?;
    if feature_type != "HAAR" {
        return Err(CascadeError::Unsupported(format!(
            "featureType {feature_type:?} (only HAAR cascades are supported)"
        )));
    }
    let width = parse_int(&text_of(root, "width")?, "width")?;
    let height = parse_int(&text_of(root, "height")?, "height")?;

    let stages_node = required(root, "stages")?;
    let mut stages = Vec::new();
    for (si, stage_node) in items(stages_node).enumerate() {
        let ctx = |what: &str| format!("stage {si}: {what}");
        let threshold = parse_real(
            &text_of(stage_node, "stageThreshold")?,
            &ctx("stageThreshold"),
        )?;
        let weak_node = required(stage_node, "weakClassifiers")?;
        let mut trees = Vec::new();
        for (ti, weak) in items(weak_node).enumerate() {
            let ctx = |what: &str| format!("stage {si}, weak classifier {ti}: {what}");
            let internal_text = text_of(weak, "internalNodes")?;
            let leaves_text = text_of(weak, "leafValues")?;
            let internal = numbers(&internal_text);
            let leaves = numbers(&leaves_text);
            if internal.is_empty() || !internal.len().is_multiple_of(4) {
                return Err(CascadeError::Malformed(ctx(&format!(
                    "internalNodes has {} numbers, expected groups of 4 (left right feature threshold)",
                    internal.len()
                ))));
            }
            let mut nodes = Vec::with_capacity(internal.len() / 4);
            for chunk in internal.chunks(4) {
                nodes.push(TreeNode {
                    left: parse_int(chunk[0], &ctx("internalNodes"))?,
                    right: parse_int(chunk[1], &ctx("internalNodes"))?,
                    feature: parse_index(chunk[2], &ctx("internalNodes"))?,
                    threshold: parse_real(chunk[3], &ctx("internalNodes"))? as f32,
                });
            }
            let leaves = leaves
                .iter()
                .map(|v| parse_real(v, &ctx("leafValues")).map(|v| v as f32))
                .collect::<Result<Vec<_>, _>>()?;
            trees.push(WeakTree { nodes, leaves });
        }
        stages.push(Stage {
            threshold: threshold as f32 - THRESHOLD_EPS,
            trees,
        });
    }

    let features_node = required(root, "features")?;
    let mut features = Vec::new();
    for (fi, feature_node) in items(features_node).enumerate() {
        features.push(read_feature(feature_node, &format!("feature {fi}"))?);
    }
    Cascade::new(width, height, stages, features)
}

fn read_old(root: Node) -> Result<Cascade, CascadeError> {
    let size_text = text_of(root, "size")?;
    let size = numbers(&size_text);
    if size.len() != 2 {
        return Err(CascadeError::Malformed(format!(
            "<size> holds {} numbers, expected 2 (width height)",
            size.len()
        )));
    }
    let width = parse_int(size[0], "size")?;
    let height = parse_int(size[1], "size")?;

    let mut stages = Vec::new();
    let mut features = Vec::new();
    for (si, stage_node) in items(required(root, "stages")?).enumerate() {
        let threshold = parse_real(
            &text_of(stage_node, "stage_threshold")?,
            &format!("stage {si}: stage_threshold"),
        )?;
        let mut trees = Vec::new();
        for (ti, tree_node) in items(required(stage_node, "trees")?).enumerate() {
            let ctx = format!("stage {si}, tree {ti}");
            trees.push(read_old_tree(tree_node, &ctx, &mut features)?);
        }
        stages.push(Stage {
            threshold: threshold as f32 - THRESHOLD_EPS,
            trees,
        });
    }
    Cascade::new(width, height, stages, features)
}

/// Converts one old-format tree: each node carries its own feature, and each
/// branch is either a leaf value (`left_val`) or a node index (`left_node`).
/// Leaves are numbered in order of appearance, as OpenCV's converter does.
fn read_old_tree(
    tree_node: Node,
    ctx: &str,
    features: &mut Vec<HaarFeature>,
) -> Result<WeakTree, CascadeError> {
    let mut nodes = Vec::new();
    let mut leaves = Vec::new();
    for (ni, node) in items(tree_node).enumerate() {
        let ctx = format!("{ctx}, node {ni}");
        let feature = read_feature(required(node, "feature")?, &ctx)?;
        features.push(feature);
        let threshold =
            parse_real(&text_of(node, "threshold")?, &format!("{ctx}: threshold"))? as f32;
        let mut branch = |val: &str, link: &str| -> Result<i32, CascadeError> {
            if let Some(v) = child(node, val) {
                let value = parse_real(&node_text(v), &format!("{ctx}: {val}"))? as f32;
                leaves.push(value);
                Ok(-((leaves.len() - 1) as i32))
            } else if let Some(n) = child(node, link) {
                parse_int(&node_text(n), &format!("{ctx}: {link}"))
            } else {
                Err(CascadeError::Malformed(format!(
                    "{ctx}: has neither <{val}> nor <{link}>"
                )))
            }
        };
        let left = branch("left_val", "left_node")?;
        let right = branch("right_val", "right_node")?;
        nodes.push(TreeNode {
            feature: features.len() - 1,
            threshold,
            left,
            right,
        });
    }
    Ok(WeakTree { nodes, leaves })
}

fn read_feature(node: Node, ctx: &str) -> Result<HaarFeature, CascadeError> {
    let mut rects = Vec::new();
    for rect_node in items(required(node, "rects")?) {
        let rect_text = node_text(rect_node);
        let nums = numbers(&rect_text);
        if nums.len() != 5 {
            return Err(CascadeError::Malformed(format!(
                "{ctx}: rectangle has {} numbers, expected 5 (x y w h weight)",
                nums.len()
            )));
        }
        rects.push(WeightedRect {
            x: parse_int(nums[0], ctx)?,
            y: parse_int(nums[1], ctx)?,
            w: parse_int(nums[2], ctx)?,
            h: parse_int(nums[3], ctx)?,
            weight: parse_real(nums[4], ctx)? as f32,
        });
    }
    let tilted = match child(node, "tilted") {
        Some(t) => parse_int(&node_text(t), ctx)? != 0,
        None => false,
    };
    Ok(HaarFeature { rects, tilted })
}

/// The `<_>` items of an OpenCV sequence node.
fn items<'a, 'input>(node: Node<'a, 'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(|c| c.is_element())
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn required<'a, 'input>(
    node: Node<'a, 'input>,
    name: &str,
) -> Result<Node<'a, 'input>, CascadeError> {
    child(node, name).ok_or_else(|| {
        CascadeError::Malformed(format!("<{}> lacks <{name}>", node.tag_name().name()))
    })
}

/// Text content of an element, joining text children (comments may split it).
fn node_text(node: Node) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<Vec<_>>()
        .join(" ")
}

fn text_of(node: Node, name: &str) -> Result<String, CascadeError> {
    Ok(node_text(required(node, name)?).trim().to_string())
}

fn numbers(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

fn parse_int(s: &str, ctx: &str) -> Result<i32, CascadeError> {
    s.trim()
        .parse::<i32>()
        .map_err(|_| CascadeError::Malformed(format!("{ctx}: {s:?} is not an integer")))
}

fn parse_index(s: &str, ctx: &str) -> Result<usize, CascadeError> {
    s.trim()
        .parse::<usize>()
        .map_err(|_| CascadeError::Malformed(format!("{ctx}: {s:?} is not a feature index")))
}

/// Parses a real number as OpenCV does: to a double first (callers narrow
/// to f32 afterwards, exactly like OpenCV's `(float)node` casts).
fn parse_real(s: &str, ctx: &str) -> Result<f64, CascadeError> {
    let v = s
        .trim()
        .parse::<f64>()
        .map_err(|_| CascadeError::Malformed(format!("{ctx}: {s:?} is not a number")))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(CascadeError::Malformed(format!(
            "{ctx}: {s:?} is not finite"
        )))
    }
}

/// Fails if elements nest deeper than [`MAX_XML_DEPTH`], by a linear scan
/// that needs no recursion: start tags minus end tags, skipping comments,
/// CDATA, processing instructions, declarations and quoted attribute values.
/// Malformed input is left for the real parser to report.
fn check_nesting(text: &str) -> Result<(), CascadeError> {
    let b = text.as_bytes();
    let find = |from: usize, pat: &str| text[from..].find(pat).map(|k| from + k);
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(lt) = find(i, "<") {
        i = lt + 1;
        let rest = &b[i..];
        if rest.starts_with(b"/") {
            depth = depth.saturating_sub(1);
        } else if rest.starts_with(b"!--")
            || rest.starts_with(b"![CDATA[")
            || rest.starts_with(b"?")
        {
            let end = if rest.starts_with(b"!--") {
                "-->"
            } else if rest.starts_with(b"?") {
                "?>"
            } else {
                "]]>"
            };
            match find(i, end) {
                Some(e) => i = e + end.len(),
                None => return Ok(()),
            }
        } else if rest.starts_with(b"!") {
            match find(i, ">") {
                Some(e) => i = e + 1,
                None => return Ok(()),
            }
        } else {
            let mut quote = None;
            let mut j = i;
            while j < b.len() {
                match (quote, b[j]) {
                    (Some(q), c) if c == q => quote = None,
                    (None, c @ (b'"' | b'\'')) => quote = Some(c),
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            if j == b.len() {
                return Ok(());
            }
            if b[j - 1] != b'/' {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    return Err(CascadeError::TooDeep { max: MAX_XML_DEPTH });
                }
            }
            i = j + 1;
        }
    }
    Ok(())
}
