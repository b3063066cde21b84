//! From an ONNX graph to the direct engine's steps, or the reason it cannot
//! run the graph (then tract does).
//!
//! Accepted: a single chain of `Conv` (no groups or dilation, symmetric
//! padding), `BatchNormalization` and `Relu` (folded into the convolution
//! or dense layer before them), `MaxPool` (no padding, floor mode),
//! `GlobalAveragePool` / `ReduceMean` over the spatial axes, `Flatten`,
//! `Reshape`, `Squeeze`, `Gemm`, `MatMul` + `Add`, `Softmax`, `Dropout` and
//! `Identity`, on f32 weights. That covers the plain VGG-style classifiers
//! FER models usually are, including Melodora's own.

use std::collections::HashMap;

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb::{ModelProto, NodeProto};
use tract_onnx::prelude::*;
use tract_onnx::tensor::load_tensor;

use super::conv::Conv;
use super::layers::{Dense, MaxPool};
use super::map::{MapShape, LANES};
use super::winograd::Winograd;
use super::{DirectNet, Step};
use crate::emotion::description::{InputSpec, Layout};

/// Why the direct engine does not take a model.
pub(super) type Unsupported = String;

/// What flows between two steps while the chain is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    /// Channels, height, width.
    Map(usize, usize, usize),
    Vector(usize),
}

/// A step before the borders of its maps are known.
enum Planned {
    Conv {
        output: (usize, usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
        pad: (usize, usize),
        weights: Vec<f32>,
        bias: Vec<f32>,
        relu: bool,
    },
    MaxPool {
        output: (usize, usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
    },
    GlobalMean,
    Flatten,
    Dense(Dense),
    Softmax,
}

pub(super) fn compile(proto: &ModelProto, spec: &InputSpec) -> Result<DirectNet, Unsupported> {
    let graph = proto.graph.as_ref().ok_or("the model has no graph")?;
    let (channels, height, width) = spec_dims(spec);
    if spec.layout == Layout::Nhwc && channels != 1 {
        return Err("NHWC input with several channels".into());
    }
    let mut constants: HashMap<&str, Tensor> = HashMap::new();
    for init in &graph.initializer {
        let tensor = load_tensor(&FopenDataResolver, init, None)
            .map_err(|e| format!("initializer {}: {e}", init.name))?;
        constants.insert(&init.name, tensor);
    }
    let data_inputs: Vec<&str> = graph
        .input
        .iter()
        .map(|i| i.name.as_str())
        .filter(|name| !constants.contains_key(name))
        .collect();
    let [input_name] = data_inputs[..] else {
        return Err(format!("{} data inputs, expected 1", data_inputs.len()));
    };
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for node in &graph.node {
        for name in node.input.iter().filter(|n| !n.is_empty()) {
            *uses.entry(name.as_str()).or_default() += 1;
        }
    }
    for output in &graph.output {
        *uses.entry(output.name.as_str()).or_default() += 1;
    }

    let mut current = input_name;
    let mut value = Value::Map(channels, height, width);
    let mut plan: Vec<Planned> = Vec::new();
    for node in &graph.node {
        if node.op_type == "Constant" {
            let tensor = node
                .get_attr_opt::<&tract_onnx::pb::TensorProto>("value")
                .ok()
                .flatten()
                .ok_or("a Constant without a tensor value")?;
            let tensor = load_tensor(&FopenDataResolver, tensor, None)
                .map_err(|e| format!("constant {}: {e}", node.name))?;
            for output in &node.output {
                constants.insert(output, tensor.clone());
            }
            continue;
        }
        let data: Vec<&str> = node
            .input
            .iter()
            .map(String::as_str)
            .filter(|n| !n.is_empty() && !constants.contains_key(n))
            .collect();
        if data != [current] || uses.get(current) != Some(&1) {
            return Err(format!(
                "node {} ({}) is not part of a single chain",
                node.name, node.op_type
            ));
        }
        let extra_outputs_used = node
            .output
            .iter()
            .skip(1)
            .any(|o| !o.is_empty() && uses.contains_key(o.as_str()));
        let first_output = node.output.first().filter(|_| !extra_outputs_used);
        current = first_output
            .ok_or_else(|| format!("node {} has outputs the engine cannot give", node.name))?;
        let weights = |i: usize| -> Result<&Tensor, Unsupported> {
            let name = node.input.get(i).filter(|n| !n.is_empty());
            name.and_then(|n| constants.get(n.as_str()))
                .ok_or_else(|| format!("node {}: input {i} is not a constant", node.name))
        };
        value = plan_node(node, value, &mut plan, &weights)?;
    }
    if graph.output.len() != 1 || graph.output[0].name != current {
        return Err("the chain does not end at the model's only output".into());
    }
    let Value::Vector(outputs) = value else {
        return Err("the model ends with a feature map, not a vector".into());
    };
    materialise(plan, spec, outputs)
}

/// Reads one node into `plan` and returns the value it produces.
fn plan_node<'a>(
    node: &NodeProto,
    value: Value,
    plan: &mut Vec<Planned>,
    weights: &dyn Fn(usize) -> Result<&'a Tensor, Unsupported>,
) -> Result<Value, Unsupported> {
    let op = node.op_type.as_str();
    let fail = |why: &str| Err(format!("{op} {}: {why}", node.name));
    match (op, value) {
        ("Conv", Value::Map(c, h, w)) => {
            if attr_i64(node, "group")?.unwrap_or(1) != 1 {
                return fail("grouped convolution");
            }
            if attr_ints(node, "dilations")?.is_some_and(|d| d.iter().any(|&v| v != 1)) {
                return fail("dilation");
            }
            let auto_pad = node.get_attr_opt::<&str>("auto_pad").ok().flatten();
            if !matches!(auto_pad, None | Some("NOTSET") | Some("VALID")) {
                return fail("auto_pad");
            }
            let kernel = f32_values(weights(1)?)?;
            let shape = weights(1)?.shape().to_vec();
            let [oc, ic, kh, kw] = shape[..] else {
                return fail("weights are not 4-D");
            };
            if ic != c {
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
                out_size(h, kh, stride.0, pad.0),
                out_size(w, kw, stride.1, pad.1),
            ) else {
                return fail("the kernel is larger than the padded input");
            };
            plan.push(Planned::Conv {
                output: (oc, oh, ow),
                kernel: (kh, kw),
                stride,
                pad,
                weights: kernel,
                bias,
                relu: false,
            });
            Ok(Value::Map(oc, oh, ow))
        }
        ("BatchNormalization", Value::Map(..)) => {
            let Some(Planned::Conv {
                weights: w,
                bias,
                relu: false,
                ..
            }) = plan.last_mut()
            else {
                return fail("not after a convolution");
            };
            let eps = node
                .get_attr_opt::<f32>("epsilon")
                .ok()
                .flatten()
                .unwrap_or(1e-5);
            let [scale, shift, mean, var] = [1, 2, 3, 4].map(|i| weights(i).and_then(f32_values));
            let (scale, shift, mean, var) = (scale?, shift?, mean?, var?);
            let oc = bias.len();
            if [&scale, &shift, &mean, &var].iter().any(|v| v.len() != oc) {
                return fail("parameter lengths");
            }
            let per_out = w.len() / oc;
            for o in 0..oc {
                let k = scale[o] / (var[o] + eps).sqrt();
                w[o * per_out..(o + 1) * per_out]
                    .iter_mut()
                    .for_each(|v| *v *= k);
                bias[o] = (bias[o] - mean[o]) * k + shift[o];
            }
            Ok(value)
        }
        ("Relu", _) => {
            // ReLU after a max pool is the same as before it.
            let n = plan.len();
            let target = match plan.last() {
                Some(Planned::MaxPool { .. }) if n >= 2 => n - 2,
                _ => n.wrapping_sub(1),
            };
            match plan.get_mut(target) {
                Some(Planned::Conv { relu, .. }) => *relu = true,
                Some(Planned::Dense(dense)) if target + 1 == n => dense.relu = true,
                _ => return fail("not after a convolution or dense layer"),
            }
            Ok(value)
        }
        ("MaxPool", Value::Map(c, h, w)) => {
            let kernel = pair(attr_ints(node, "kernel_shape")?, 0)?;
            let stride = pair(attr_ints(node, "strides")?, 1)?;
            let zero_pads = attr_ints(node, "pads")?.is_none_or(|p| p.iter().all(|&v| v == 0));
            let plain = attr_ints(node, "dilations")?.is_none_or(|d| d.iter().all(|&v| v == 1))
                && attr_i64(node, "ceil_mode")?.unwrap_or(0) == 0
                && attr_i64(node, "storage_order")?.unwrap_or(0) == 0;
            let auto_pad = node.get_attr_opt::<&str>("auto_pad").ok().flatten();
            if !zero_pads || !plain || !matches!(auto_pad, None | Some("NOTSET") | Some("VALID")) {
                return fail("padding, dilation or ceil mode");
            }
            let (Some(oh), Some(ow)) = (
                out_size(h, kernel.0, stride.0, 0),
                out_size(w, kernel.1, stride.1, 0),
            ) else {
                return fail("window larger than the input");
            };
            plan.push(Planned::MaxPool {
                output: (c, oh, ow),
                kernel,
                stride,
            });
            Ok(Value::Map(c, oh, ow))
        }
        ("GlobalAveragePool", Value::Map(c, _, _)) => {
            plan.push(Planned::GlobalMean);
            Ok(Value::Vector(c))
        }
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
            plan.push(Planned::GlobalMean);
            Ok(Value::Vector(c))
        }
        ("Flatten", _) => {
            if attr_i64(node, "axis")?.unwrap_or(1) != 1 {
                return fail("axis other than 1");
            }
            Ok(flatten(value, plan))
        }
        ("Reshape", _) => {
            let target = weights(1).and_then(i64_values)?;
            let size = match value {
                Value::Map(c, h, w) => c * h * w,
                Value::Vector(n) => n,
            };
            let batch_ok = matches!(target.first(), Some(0 | -1));
            let rest_ok = matches!(target.get(1), Some(&v) if v == -1 || v == size as i64);
            if target.len() != 2 || !batch_ok || !rest_ok {
                return fail("not a reshape to [batch, features]");
            }
            Ok(flatten(value, plan))
        }
        ("Squeeze" | "Dropout" | "Identity", Value::Vector(_)) | ("Dropout" | "Identity", _) => {
            Ok(value)
        }
        ("Gemm", Value::Vector(k)) => {
            let alpha = node
                .get_attr_opt::<f32>("alpha")
                .ok()
                .flatten()
                .unwrap_or(1.0);
            let beta = node
                .get_attr_opt::<f32>("beta")
                .ok()
                .flatten()
                .unwrap_or(1.0);
            if attr_i64(node, "transA")?.unwrap_or(0) != 0 {
                return fail("transA");
            }
            let trans_b = attr_i64(node, "transB")?.unwrap_or(0) != 0;
            let mut dense = dense_from(weights(1)?, k, trans_b)?;
            dense.weights.iter_mut().for_each(|v| *v *= alpha);
            if node.input.get(2).is_some_and(|n| !n.is_empty()) {
                add_bias(&mut dense, &f32_values(weights(2)?)?, beta)?;
            }
            let m = dense.outputs();
            plan.push(Planned::Dense(dense));
            Ok(Value::Vector(m))
        }
        ("MatMul", Value::Vector(k)) => {
            let dense = dense_from(weights(1)?, k, false)?;
            let m = dense.outputs();
            plan.push(Planned::Dense(dense));
            Ok(Value::Vector(m))
        }
        ("Add", Value::Vector(_)) => {
            let addend = match weights(1) {
                Ok(t) => t,
                Err(_) => weights(0)?,
            };
            match plan.last_mut() {
                Some(Planned::Dense(dense)) if !dense.relu => {
                    add_bias(dense, &f32_values(addend)?, 1.0)?;
                    Ok(value)
                }
                _ => fail("not after a dense layer"),
            }
        }
        ("Softmax", Value::Vector(_)) => {
            if !matches!(attr_i64(node, "axis")?, None | Some(1 | -1)) {
                return fail("axis");
            }
            plan.push(Planned::Softmax);
            Ok(value)
        }
        _ => fail("operator not supported here"),
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

fn flatten(value: Value, plan: &mut Vec<Planned>) -> Value {
    match value {
        Value::Map(c, h, w) => {
            plan.push(Planned::Flatten);
            Value::Vector(c * h * w)
        }
        vector => vector,
    }
}

fn out_size(size: usize, kernel: usize, stride: usize, pad: usize) -> Option<usize> {
    let padded = size + 2 * pad;
    (kernel > 0 && stride > 0 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

fn attr_i64(node: &NodeProto, name: &str) -> Result<Option<i64>, Unsupported> {
    node.get_attr_opt::<i64>(name)
        .map_err(|e| format!("{} attribute {name}: {e}", node.op_type))
}

fn attr_ints(node: &NodeProto, name: &str) -> Result<Option<Vec<i64>>, Unsupported> {
    node.get_attr_opt_vec::<i64>(name)
        .map_err(|e| format!("{} attribute {name}: {e}", node.op_type))
}

/// A 2-D attribute (kernel, strides) as a pair; `default` fills a missing one
/// (0 means it is required).
fn pair(values: Option<Vec<i64>>, default: usize) -> Result<(usize, usize), Unsupported> {
    match values.as_deref() {
        Some(&[a, b]) if a > 0 && b > 0 => Ok((a as usize, b as usize)),
        None if default > 0 => Ok((default, default)),
        other => Err(format!("a 2-D attribute of {other:?}")),
    }
}

fn f32_values(tensor: &Tensor) -> Result<Vec<f32>, Unsupported> {
    tensor
        .to_plain_array_view::<f32>()
        .map(|view| view.iter().copied().collect())
        .map_err(|_| format!("{:?} weights, expected f32", tensor.datum_type()))
}

fn i64_values(tensor: &Tensor) -> Result<Vec<i64>, Unsupported> {
    tensor
        .to_plain_array_view::<i64>()
        .map(|view| view.iter().copied().collect())
        .map_err(|_| format!("{:?} shape, expected i64", tensor.datum_type()))
}

/// A dense layer over `k` inputs from a 2-D weight tensor, `[k][m]` or
/// (transposed) `[m][k]`.
fn dense_from(tensor: &Tensor, k: usize, transposed: bool) -> Result<Dense, Unsupported> {
    let values = f32_values(tensor)?;
    let (rows, cols) = match tensor.shape() {
        &[r, c] => (r, c),
        other => return Err(format!("dense weights of shape {other:?}")),
    };
    let (inputs, m) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    if inputs != k {
        return Err(format!(
            "dense weights take {inputs} inputs, the vector has {k}"
        ));
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
        n => return Err(format!("a bias of {n} values for {m} outputs")),
    }
    Ok(())
}

/// Fixes every map's border (the padding of the convolution that reads it)
/// and packs the weights.
fn materialise(
    plan: Vec<Planned>,
    spec: &InputSpec,
    outputs: usize,
) -> Result<DirectNet, Unsupported> {
    let border_for = |next: Option<&Planned>| match next {
        Some(Planned::Conv { pad, .. }) => *pad,
        _ => (0, 0),
    };
    let map = |(c, h, w): (usize, usize, usize), next: Option<&Planned>| {
        let mut shape = MapShape::new(c, h, w);
        (shape.border_y, shape.border_x) = border_for(next);
        shape
    };
    let mut input = map(spec_dims(spec), plan.first());
    match plan.first() {
        Some(Planned::Conv { .. }) => input.lanes = input.channels.min(LANES),
        Some(Planned::MaxPool { .. }) | None => {
            return Err("the model does not start with a convolution".into())
        }
        _ => {}
    }
    let mut steps = Vec::with_capacity(plan.len());
    let mut previous = input;
    let mut planned = plan.into_iter().peekable();
    while let Some(step) = planned.next() {
        let next = planned.peek();
        steps.push(match step {
            Planned::Conv {
                output,
                kernel,
                stride,
                weights,
                bias,
                relu,
                pad: _,
            } => {
                let out = map(output, next);
                let input = std::mem::replace(&mut previous, out);
                if Winograd::applies(&input, &out, kernel, stride) {
                    let mut conv = Winograd::new(input, out, &weights, &bias);
                    conv.relu = relu;
                    Step::Winograd(conv)
                } else {
                    let mut conv = Conv::new(input, out, kernel, stride, &weights, &bias);
                    conv.relu = relu;
                    Step::Conv(conv)
                }
            }
            Planned::MaxPool {
                output,
                kernel,
                stride,
            } => {
                let out = map(output, next);
                let pool = MaxPool {
                    input: previous,
                    output: out,
                    kernel,
                    stride,
                };
                previous = out;
                Step::MaxPool(pool)
            }
            Planned::GlobalMean => Step::GlobalMean(previous),
            Planned::Flatten => Step::Flatten(previous),
            Planned::Dense(dense) => Step::Dense(dense),
            Planned::Softmax => Step::Softmax,
        });
    }
    Ok(DirectNet {
        input,
        layout: spec.layout,
        steps,
        outputs,
        spare: Default::default(),
    })
}
