//! A TFLite graph compiled for fast runs: the graph's operators become a
//! few kernels written for the CPU (NHWC, every inner loop running along
//! the channels, contiguous, so that the compiler vectorises it), with the
//! weights packed once for the way those loops read them and small
//! operators fused into their neighbours:
//!
//! * a `Dequantize` of a constant is done at compile time;
//! * a ReLU of a convolution's or an addition's result (read by nothing
//!   else) is done by the convolution or addition;
//! * a residual addition of a convolution's result (read by nothing else)
//!   is done by the convolution, as it writes the result;
//! * a `Pad` that only adds zero channels to the shortcut of a residual
//!   addition becomes the addition reading fewer channels;
//! * a `Reshape` is a copy.
//!
//! Operators with no kernel of their own (other paddings, concatenation,
//! resizing) run as the reference does ([`super::interpret`]), which is
//! also what every result here is tested against.

use super::interpret::{resize_size, run_op, Resize, Value};
use super::kernels::{finish, max_pool, ConvKernel, ConvOp, Geometry, CONV, DEPTHWISE, POINTWISE};
use super::{Activation, OpKind, TfliteError, TfliteModel};

/// One step of a compiled graph: a kernel, or an operator run as the reference runs it.
#[derive(Debug)]
enum Step {
    /// A convolution (`kernel`: plain, 1x1 or depthwise), with the map
    /// its result is added to, if any.
    Conv {
        x: usize,
        out: usize,
        op: ConvOp,
        kernel: ConvKernel,
        residual: Option<usize>,
    },
    /// Max pooling.
    MaxPool { x: usize, out: usize, g: Geometry },
    /// A bilinear resize to a constant size.
    Resize {
        x: usize,
        out: usize,
        resize: Resize,
    },
    /// `a + b` where `b` may have fewer channels (the rest zero).
    Add {
        a: usize,
        b: usize,
        out: usize,
        pixels: usize,
        channels: usize,
        b_channels: usize,
        relu: bool,
    },
    /// The same values under another shape.
    Copy { x: usize, out: usize },
    /// Operator `at`, run by the reference.
    /// `reads`: each input tensor, with the buffer holding its value (its
    /// own, or the one it is an alias of).
    Reference {
        at: usize,
        out: usize,
        reads: Vec<(usize, usize)>,
    },
}

/// A model compiled for [`CompiledGraph::run`].
#[derive(Debug)]
pub struct CompiledGraph {
    model: TfliteModel,
    steps: Vec<Step>,
    /// Each tensor's length (0 for those no step writes).
    lengths: Vec<usize>,
    input: usize,
    /// Every tensor's buffer from finished runs, kept for the next.
    spare: std::sync::Mutex<Vec<Vec<Vec<f32>>>>,
}

/// How many operators read each tensor (the graph's outputs count as readers).
fn readers(model: &TfliteModel) -> Vec<usize> {
    let mut count = vec![0; model.tensors.len()];
    for op in &model.operators {
        for i in op.inputs.iter().flatten() {
            count[*i] += 1;
        }
    }
    for &o in &model.outputs {
        count[o] += 1;
    }
    count
}

impl CompiledGraph {
    /// Compiles `model` (one input, batch 1), or says what it cannot run.
    pub fn compile(model: TfliteModel) -> Result<CompiledGraph, TfliteError> {
        CompiledGraph::compile_for(model, false)
    }

    /// Compiles `model` (whose input is an RGB image) for gray images: the
    /// input has one channel, and the convolutions reading it sum their
    /// weights over the three (what they would compute on an RGB image
    /// whose channels are alike, with a third of the work). Refused when
    /// anything but a convolution reads the input.
    pub fn compile_gray(model: TfliteModel) -> Result<CompiledGraph, TfliteError> {
        CompiledGraph::compile_for(model, true)
    }

    fn compile_for(model: TfliteModel, gray: bool) -> Result<CompiledGraph, TfliteError> {
        let [input] = model.inputs[..] else {
            return Err(TfliteError::Unsupported(format!(
                "{} inputs; one is expected",
                model.inputs.len()
            )));
        };
        let mut model = model;
        // Constants made by Dequantize become plain constants.
        for op in &model.operators {
            if let (OpKind::Dequantize, [Some(from)], [to]) =
                (&op.kind, &op.inputs[..], &op.outputs[..])
            {
                if let Some(data) = model.tensors[*from].data.clone() {
                    model.tensors[*to].data = Some(data);
                }
            }
        }
        if gray {
            let shape = &model.tensors[input].shape;
            let only_convolutions = model.operators.iter().all(|op| {
                !op.inputs.contains(&Some(input)) || matches!(op.kind, OpKind::Conv2d { .. })
            });
            if shape.len() != 4 || shape[3] != 3 || !only_convolutions {
                return Err(TfliteError::Unsupported(format!(
                    "a gray input for a model whose input is {shape:?} and read by other than convolutions"
                )));
            }
            model.tensors[input].shape[3] = 1;
        }
        let readers = readers(&model);
        let constant = |i: usize| model.tensors[i].data.as_deref();
        let shape = |i: usize| model.tensors[i].shape.clone();
        let mut steps: Vec<Step> = Vec::new();
        // Tensors whose value is another's (a Relu fused away): the alias.
        let mut alias: Vec<usize> = (0..model.tensors.len()).collect();
        // Channel pads fused into their addition: padded tensor -> (source).
        let mut channel_padded: Vec<Option<usize>> = vec![None; model.tensors.len()];
        let ops = &model.operators;
        for (at, op) in ops.iter().enumerate() {
            let [out] = op.outputs[..] else {
                return Err(TfliteError::Unsupported(format!(
                    "operator {at} writes {} tensors",
                    op.outputs.len()
                )));
            };
            if model.tensors[out].data.is_some() {
                continue; // folded at compile time
            }
            let x = op.inputs.first().copied().flatten().map(|i| alias[i]);
            let relu = |act: Activation| -> Result<bool, TfliteError> {
                match act {
                    Activation::None => Ok(false),
                    Activation::Relu => Ok(true),
                    other => Err(TfliteError::Unsupported(format!(
                        "fused activation {other:?}"
                    ))),
                }
            };
            match (&op.kind, x) {
                (OpKind::Relu, Some(x)) => {
                    // Fused into the step that wrote x, when it is x's only
                    // reader (nothing else sees x before the ReLU).
                    let source = op.inputs[0].expect("x is an input");
                    let fusable = readers[x] == 1
                        && readers[source] == 1
                        && steps
                            .iter_mut()
                            .rev()
                            .find(|step| step.out() == x)
                            .is_some_and(|step| match step {
                                Step::Conv { op, .. } if !op.relu => {
                                    op.relu = true;
                                    true
                                }
                                Step::Add { relu, .. } if !*relu => {
                                    *relu = true;
                                    true
                                }
                                _ => false,
                            });
                    if fusable {
                        alias[out] = x;
                    } else {
                        steps.push(Step::Reference {
                            at,
                            out,
                            reads: Vec::new(),
                        });
                    }
                }
                (
                    OpKind::Conv2d {
                        window,
                        dilation: (1, 1),
                        activation,
                    },
                    Some(x),
                ) => {
                    let (ws, weights) = weights_of(op, &model)?;
                    let [cout, kh, kw, cin] = ws[..] else {
                        return Err(TfliteError::Malformed(format!("weights of shape {ws:?}")));
                    };
                    // On the gray input: one channel, its weights the sum of the three.
                    let summed: Vec<f32>;
                    let (weights, cin) = if gray && x == input {
                        summed = weights.chunks_exact(cin).map(|w| w.iter().sum()).collect();
                        (summed.as_slice(), 1)
                    } else {
                        (weights, cin)
                    };
                    let bias = bias_of(op, cout, &model)?;
                    let g = Geometry::new(&shape(x), cout, (kh, kw), window)?;
                    if g.channels != cin {
                        return Err(TfliteError::Malformed(format!(
                            "weights for {cin} channels on a map of {}",
                            g.channels
                        )));
                    }
                    // [co][ky][kx][ci] -> [ky][kx][ci][co]
                    let mut packed = vec![0f32; weights.len()];
                    for co in 0..cout {
                        for k in 0..kh * kw * cin {
                            packed[k * cout + co] = weights[co * kh * kw * cin + k];
                        }
                    }
                    let op = ConvOp::new(g, packed, bias, relu(*activation)?, false);
                    let pointwise =
                        kh == 1 && kw == 1 && window.stride_h == 1 && window.stride_w == 1;
                    let kernel = if pointwise {
                        POINTWISE.best()
                    } else {
                        CONV.best()
                    };
                    steps.push(Step::Conv {
                        x,
                        out,
                        op,
                        kernel,
                        residual: None,
                    });
                }
                (
                    OpKind::DepthwiseConv2d {
                        window,
                        multiplier: 1,
                        dilation: (1, 1),
                        activation,
                    },
                    Some(x),
                ) => {
                    let (ws, weights) = weights_of(op, &model)?;
                    let [1, kh, kw, c] = ws[..] else {
                        return Err(TfliteError::Malformed(format!(
                            "depthwise weights of shape {ws:?}"
                        )));
                    };
                    let g = Geometry::new(&shape(x), c, (kh, kw), window)?;
                    if g.channels != c {
                        return Err(TfliteError::Malformed(format!(
                            "weights for {c} channels on a map of {}",
                            g.channels
                        )));
                    }
                    let bias = bias_of(op, c, &model)?;
                    let op = ConvOp::new(g, weights.to_vec(), bias, relu(*activation)?, true);
                    steps.push(Step::Conv {
                        x,
                        out,
                        op,
                        kernel: DEPTHWISE.best(),
                        residual: None,
                    });
                }
                (
                    OpKind::MaxPool2d {
                        window,
                        activation: Activation::None,
                    },
                    Some(x),
                ) => {
                    let s = shape(x);
                    let g = Geometry::new(&s, s[3], (window.filter_h, window.filter_w), window)?;
                    steps.push(Step::MaxPool { x, out, g });
                }
                (OpKind::Pad, Some(x)) => {
                    // Only channels added at the end, read by additions alone: fused.
                    let pads = op.inputs.get(1).copied().flatten().and_then(constant);
                    let channels_only =
                        pads.is_some_and(|p| p.len() == 8 && p[..7].iter().all(|&v| v == 0.0));
                    let only_added = ops
                        .iter()
                        .filter(|o| o.inputs.contains(&Some(out)))
                        .all(|o| matches!(o.kind, OpKind::Add { .. }))
                        && !model.outputs.contains(&out);
                    if channels_only && only_added {
                        channel_padded[out] = Some(x);
                    } else {
                        steps.push(Step::Reference {
                            at,
                            out,
                            reads: Vec::new(),
                        });
                    }
                }
                (OpKind::Add { activation }, Some(_)) => {
                    let [Some(a), Some(b)] = op.inputs[..] else {
                        return Err(TfliteError::Malformed(
                            "an addition of other than two tensors".into(),
                        ));
                    };
                    let (a, b) = (alias[a], alias[b]);
                    let (a, b) = match (channel_padded[a], channel_padded[b]) {
                        (None, Some(source)) => (a, source),
                        (Some(source), None) => (b, source),
                        (None, None) => (a, b),
                        _ => {
                            return Err(TfliteError::Unsupported(
                                "an addition of two padded tensors".into(),
                            ))
                        }
                    };
                    let (sa, sb) = (shape(a), shape(b));
                    let [1, h, w, c] = sa[..] else {
                        return Err(TfliteError::Unsupported(format!("an addition of {sa:?}")));
                    };
                    if sb.len() != 4 || sb[..3] != sa[..3] || sb[3] > c {
                        return Err(TfliteError::Unsupported(format!("adding {sb:?} to {sa:?}")));
                    }
                    // The convolution writing either term (of all the
                    // channels) may do the addition.
                    let then_relu = relu(*activation)?;
                    let fused =
                        if fuse_residual(&mut steps, a, (b, sb[3]), then_relu, &readers, input) {
                            Some(a)
                        } else if sb[3] == c
                            && fuse_residual(&mut steps, b, (a, c), then_relu, &readers, input)
                        {
                            Some(b)
                        } else {
                            None
                        };
                    if let Some(conv_out) = fused {
                        alias[out] = conv_out;
                        continue;
                    }
                    steps.push(Step::Add {
                        a,
                        b,
                        out,
                        pixels: h * w,
                        channels: c,
                        b_channels: sb[3],
                        relu: then_relu,
                    });
                }
                (
                    OpKind::ResizeBilinear {
                        align_corners,
                        half_pixel_centers,
                    },
                    Some(x),
                ) if matches!(shape(x)[..], [1, _, _, _])
                    && op
                        .inputs
                        .get(1)
                        .copied()
                        .flatten()
                        .and_then(constant)
                        .is_some() =>
                {
                    let size = op.inputs[1].and_then(constant).expect("a constant size");
                    let (out_height, out_width) = resize_size(&Value {
                        shape: vec![2],
                        data: size.to_vec(),
                    })?;
                    let [1, height, width, channels] = shape(x)[..] else {
                        unreachable!("matched above");
                    };
                    let resize = Resize {
                        height,
                        width,
                        channels,
                        out_height,
                        out_width,
                        align_corners: *align_corners,
                        half_pixel: *half_pixel_centers,
                    };
                    steps.push(Step::Resize { x, out, resize });
                }
                (OpKind::Reshape, Some(x)) => steps.push(Step::Copy { x, out }),
                (OpKind::Dequantize, _) => {
                    return Err(TfliteError::Unsupported(
                        "a Dequantize of a computed tensor".into(),
                    ));
                }
                _ => steps.push(Step::Reference {
                    at,
                    out,
                    reads: Vec::new(),
                }),
            }
        }
        // Reference steps read each input from the buffer holding its
        // value; a padded tensor they read must exist, which only fusion
        // prevented.
        for step in &mut steps {
            if let Step::Reference { at, reads, .. } = step {
                for &i in ops[*at].inputs.iter().flatten() {
                    if channel_padded[i].is_some() {
                        return Err(TfliteError::Unsupported(format!(
                            "operator {at} reads a fused channel padding"
                        )));
                    }
                    reads.push((i, alias[i]));
                }
            }
        }
        let outputs_aliased = model.outputs.iter().any(|&o| alias[o] != o);
        if outputs_aliased {
            // Keep it simple: the graph's outputs are written by steps.
            return Err(TfliteError::Unsupported(
                "an output produced by a fused ReLU".into(),
            ));
        }
        let lengths = model
            .tensors
            .iter()
            .map(|t| t.shape.iter().product())
            .collect();
        Ok(CompiledGraph {
            model,
            steps,
            lengths,
            input,
            spare: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Runs the graph on `input` (its input tensor's values, NHWC); the
    /// outputs in the model's order.
    pub fn run(&self, input: &[f32]) -> Result<Vec<Vec<f32>>, TfliteError> {
        if input.len() != self.lengths[self.input] {
            return Err(TfliteError::Unsupported(format!(
                "{} input values, {} expected",
                input.len(),
                self.lengths[self.input]
            )));
        }
        // Buffers of an earlier run, kept: no allocation (and no page
        // faults) per frame once the first has run.
        let mut maps = self
            .spare
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| vec![Vec::new(); self.lengths.len()]);
        maps[self.input].clear();
        maps[self.input].extend_from_slice(input);
        let result = self.steps(&mut maps);
        let outputs = result.map(|()| {
            self.model
                .outputs
                .iter()
                .map(|&o| maps[o].clone())
                .collect()
        });
        self.spare
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(maps);
        outputs
    }

    /// Runs every step on `maps` (the input written).
    fn steps(&self, maps: &mut [Vec<f32>]) -> Result<(), TfliteError> {
        for step in &self.steps {
            self.step(step, maps)?;
        }
        Ok(())
    }

    /// Where a run's time goes: each step's name (its kind and sizes) and
    /// its median milliseconds over `runs` runs on `input`, in the order
    /// they run. For benchmarks (`examples/blazeface_graph_time.rs`); the
    /// browser has no clock here.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn profile(&self, input: &[f32], runs: usize) -> Result<Vec<(String, f64)>, TfliteError> {
        self.run(input)?;
        let mut maps = vec![Vec::new(); self.lengths.len()];
        let mut times = vec![Vec::with_capacity(runs); self.steps.len()];
        for _ in 0..runs.max(1) {
            maps[self.input].clear();
            maps[self.input].extend_from_slice(input);
            for (step, times) in self.steps.iter().zip(&mut times) {
                let start = std::time::Instant::now();
                self.step(step, &mut maps)?;
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        Ok(self
            .steps
            .iter()
            .zip(times)
            .map(|(step, mut times)| {
                times.sort_by(f64::total_cmp);
                (step.name(&self.model), times[times.len() / 2])
            })
            .collect())
    }

    /// Runs one step on `maps`.
    fn step(&self, step: &Step, maps: &mut [Vec<f32>]) -> Result<(), TfliteError> {
        // The step's output buffer, taken out while the inputs are read.
        let out = step.out();
        let len = self.lengths[out];
        let mut o = std::mem::take(&mut maps[out]);
        o.resize(len, 0.0);
        match step {
            Step::Conv {
                x,
                op,
                kernel,
                residual,
                ..
            } => {
                let residual = residual.map_or(&[][..], |r| &maps[r]);
                // SAFETY: `kernel` came from `Kernels::best`, which
                // chooses only variants this CPU can run.
                unsafe { kernel(op, &maps[*x], residual, &mut o) };
            }
            Step::MaxPool { x, g, .. } => max_pool(&maps[*x], &mut o, g),
            Step::Resize { x, resize, .. } => resize.run(&maps[*x], &mut o),
            Step::Add {
                a,
                b,
                pixels,
                channels,
                b_channels,
                relu,
                ..
            } => {
                o.copy_from_slice(&maps[*a]);
                let b = &maps[*b];
                for p in 0..*pixels {
                    let row = &mut o[p * channels..(p + 1) * channels];
                    for (v, &w) in row.iter_mut().zip(&b[p * b_channels..(p + 1) * b_channels]) {
                        *v += w;
                    }
                    finish(row, *relu);
                }
            }
            Step::Copy { x, .. } => o.copy_from_slice(&maps[*x]),
            Step::Reference { at, reads, .. } => {
                // Only the operator's own inputs: the rest stay out of it.
                let mut values: Vec<Option<Value>> = vec![None; self.lengths.len()];
                for &(i, buffer) in reads {
                    let t = &self.model.tensors[i];
                    let data = t.data.clone().unwrap_or_else(|| maps[buffer].clone());
                    values[i] = Some(Value {
                        shape: t.shape.clone(),
                        data,
                    });
                }
                o = run_op(&self.model, *at, &values)?.data;
            }
        }
        maps[out] = o;
        Ok(())
    }
}

impl Step {
    /// What the step does, with its sizes: "depthwise 3x3/2 96x96x32 -> 48x48x32".
    #[cfg(not(target_arch = "wasm32"))]
    fn name(&self, model: &TfliteModel) -> String {
        let sizes = |g: &Geometry| {
            format!(
                "{}x{}/{} {}x{}x{} -> {}x{}x{}",
                g.kernel_h,
                g.kernel_w,
                g.stride_h,
                g.height,
                g.width,
                g.channels,
                g.out_height,
                g.out_width,
                g.out_channels
            )
        };
        match self {
            Step::Conv { op, residual, .. } => {
                let kind = if op.depthwise { "depthwise" } else { "conv" };
                let plus = if residual.is_some() { " +residual" } else { "" };
                format!("{kind} {}{plus}", sizes(&op.g))
            }
            Step::MaxPool { g, .. } => format!("max pool {}", sizes(g)),
            Step::Resize { out, .. } => format!("resize to {:?}", model.tensors[*out].shape),
            Step::Add {
                pixels, channels, ..
            } => format!("add {pixels}x{channels}"),
            Step::Copy { out, .. } => format!("copy {:?}", model.tensors[*out].shape),
            Step::Reference { at, out, .. } => format!(
                "reference {:?} -> {:?}",
                model.operators[*at].kind, model.tensors[*out].shape
            ),
        }
    }

    /// The tensor the step writes.
    fn out(&self) -> usize {
        match self {
            Step::Conv { out, .. }
            | Step::MaxPool { out, .. }
            | Step::Resize { out, .. }
            | Step::Add { out, .. }
            | Step::Copy { out, .. }
            | Step::Reference { out, .. } => *out,
        }
    }
}

/// Makes the plain or 1x1 convolution that writes `a` also add `b` (of
/// `b_channels`, the first of `a`'s) to its result, then ReLU it if
/// `relu`, when `a` is read by nothing but this addition and `b` is ready
/// before the convolution runs (the graph's input, or written by an earlier
/// step). Says whether it did.
fn fuse_residual(
    steps: &mut [Step],
    a: usize,
    (b, b_channels): (usize, usize),
    relu: bool,
    readers: &[usize],
    input: usize,
) -> bool {
    let Some(at) = steps.iter().rposition(|s| s.out() == a) else {
        return false;
    };
    let b_ready = b == input || steps[..at].iter().any(|s| s.out() == b);
    match &mut steps[at] {
        Step::Conv {
            op,
            residual: residual @ None,
            ..
        } if readers[a] == 1 && b_ready && !op.depthwise && !op.relu => {
            op.residual_channels = b_channels;
            op.relu = relu;
            *residual = Some(b);
            true
        }
        _ => false,
    }
}

/// A convolution's weights (its second input): their shape and values.
fn weights_of<'a>(
    op: &super::Operator,
    model: &'a TfliteModel,
) -> Result<(Vec<usize>, &'a [f32]), TfliteError> {
    let w = op
        .inputs
        .get(1)
        .copied()
        .flatten()
        .ok_or_else(|| TfliteError::Malformed("a convolution without weights".into()))?;
    let tensor = &model.tensors[w];
    let values = tensor
        .data
        .as_deref()
        .ok_or_else(|| TfliteError::Unsupported("computed weights".into()))?;
    Ok((tensor.shape.clone(), values))
}

fn bias_of(
    op: &super::Operator,
    channels: usize,
    model: &TfliteModel,
) -> Result<Vec<f32>, TfliteError> {
    match op.inputs.get(2).copied().flatten() {
        Some(b) => {
            let data = model.tensors[b]
                .data
                .as_deref()
                .ok_or_else(|| TfliteError::Unsupported("a computed bias".into()))?;
            if data.len() != channels {
                return Err(TfliteError::Malformed("a bias of the wrong length".into()));
            }
            Ok(data.to_vec())
        }
        None => Ok(vec![0.0; channels]),
    }
}
