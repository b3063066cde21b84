//! The reference run of a TFLite graph: every operator written the plain
//! way, on NHWC tensors, in the graph's order, with TFLite's own rules for
//! padding, pooling and resizing. Slow and obviously right: it is what the
//! fast engine is tested against, and it is itself checked against
//! TFLite's runtime (LiteRT) on the same inputs (`tests/blazeface_reference.rs`).

use super::{Activation, OpKind, Padding, TfliteError, TfliteModel, Window};

/// A tensor's values during a run, with its shape.
#[derive(Debug, Clone)]
pub(super) struct Value {
    pub(super) shape: Vec<usize>,
    pub(super) data: Vec<f32>,
}

fn unsupported(what: String) -> TfliteError {
    TfliteError::Unsupported(what)
}

/// Runs `model` on `input` (the values of its one input tensor, NHWC) and
/// gives the values of its outputs, in the model's output order.
pub fn interpret(model: &TfliteModel, input: &[f32]) -> Result<Vec<Vec<f32>>, TfliteError> {
    let [input_index] = model.inputs[..] else {
        return Err(unsupported(format!(
            "{} inputs; one is expected",
            model.inputs.len()
        )));
    };
    let mut values: Vec<Option<Value>> = model
        .tensors
        .iter()
        .map(|t| {
            t.data.clone().map(|data| Value {
                shape: t.shape.clone(),
                data,
            })
        })
        .collect();
    let input_shape = model.tensors[input_index].shape.clone();
    if input.len() != input_shape.iter().product::<usize>() {
        return Err(unsupported(format!(
            "{} input values for an input of shape {input_shape:?}",
            input.len()
        )));
    }
    values[input_index] = Some(Value {
        shape: input_shape,
        data: input.to_vec(),
    });
    for (at, op) in model.operators.iter().enumerate() {
        let output = run_op(model, at, &values)?;
        let [out] = op.outputs[..] else {
            return Err(unsupported(format!(
                "operator {at} writes {} tensors",
                op.outputs.len()
            )));
        };
        values[out] = Some(output);
    }
    model
        .outputs
        .iter()
        .map(|&i| {
            values[i].take().map(|v| v.data).ok_or_else(|| {
                TfliteError::Malformed(format!("output tensor {i} is never written"))
            })
        })
        .collect()
}

/// Runs operator `at` of `model` on `values` (every tensor's value so far,
/// by index) and gives its one output.
pub(super) fn run_op(
    model: &TfliteModel,
    at: usize,
    values: &[Option<Value>],
) -> Result<Value, TfliteError> {
    let op = &model.operators[at];
    let read = |slot: usize| -> Result<&Value, TfliteError> {
        op.inputs
            .get(slot)
            .copied()
            .flatten()
            .and_then(|i| values[i].as_ref())
            .ok_or_else(|| {
                TfliteError::Malformed(format!(
                    "operator {at} ({:?}) reads a tensor no one wrote",
                    op.kind
                ))
            })
    };
    let output = match &op.kind {
        OpKind::Conv2d {
            window,
            dilation,
            activation,
        } => conv(
            read(0)?,
            read(1)?,
            op_bias(op, values)?,
            *window,
            *dilation,
            *activation,
            None,
        )?,
        OpKind::DepthwiseConv2d {
            window,
            multiplier,
            dilation,
            activation,
        } => conv(
            read(0)?,
            read(1)?,
            op_bias(op, values)?,
            *window,
            *dilation,
            *activation,
            Some(*multiplier),
        )?,
        OpKind::MaxPool2d { window, activation } => pool(read(0)?, *window, *activation, true)?,
        OpKind::AveragePool2d { window, activation } => {
            pool(read(0)?, *window, *activation, false)?
        }
        OpKind::Add { activation } => add(read(0)?, read(1)?, *activation)?,
        OpKind::Pad => pad(read(0)?, read(1)?)?,
        OpKind::Reshape => {
            let out = op
                .outputs
                .first()
                .ok_or_else(|| TfliteError::Malformed("a reshape without output".into()))?;
            let shape = model.tensors[*out].shape.clone();
            let x = read(0)?;
            if shape.iter().product::<usize>() != x.data.len() {
                return Err(TfliteError::Malformed(format!(
                    "reshape of {:?} to {shape:?}",
                    x.shape
                )));
            }
            Value {
                shape,
                data: x.data.clone(),
            }
        }
        OpKind::Concatenation { axis, activation } => {
            let parts = (0..op.inputs.len())
                .map(read)
                .collect::<Result<Vec<_>, _>>()?;
            concat(&parts, *axis, *activation)?
        }
        OpKind::Relu => {
            let x = read(0)?;
            Value {
                shape: x.shape.clone(),
                data: x.data.iter().map(|&v| v.max(0.0)).collect(),
            }
        }
        OpKind::Prelu => prelu(read(0)?, read(1)?)?,
        OpKind::Dequantize => read(0)?.clone(),
        OpKind::ResizeBilinear {
            align_corners,
            half_pixel_centers,
        } => resize_bilinear(read(0)?, read(1)?, *align_corners, *half_pixel_centers)?,
        OpKind::Other(name) => return Err(unsupported(format!("operator {name}"))),
    };
    Ok(output)
}

fn op_bias<'a>(
    op: &super::Operator,
    values: &'a [Option<Value>],
) -> Result<Option<&'a Value>, TfliteError> {
    match op.inputs.get(2).copied().flatten() {
        Some(i) => values[i]
            .as_ref()
            .map(Some)
            .ok_or_else(|| TfliteError::Malformed("a bias no one wrote".into())),
        None => Ok(None),
    }
}

fn activate(v: f32, activation: Activation) -> Result<f32, TfliteError> {
    Ok(match activation {
        Activation::None => v,
        Activation::Relu => v.max(0.0),
        Activation::Relu6 => v.clamp(0.0, 6.0),
        Activation::Other(code) => return Err(unsupported(format!("fused activation {code}"))),
    })
}

/// `[n, h, w, c]` of a rank-4 value.
fn nhwc(v: &Value) -> Result<[usize; 4], TfliteError> {
    <[usize; 4]>::try_from(v.shape.as_slice())
        .map_err(|_| unsupported(format!("a map of shape {:?}", v.shape)))
}

/// Output size and the padding before the first row (TFLite's rule: SAME
/// puts the odd row or column at the end).
pub(super) fn out_and_pad(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> (usize, usize) {
    let span = (kernel - 1) * dilation + 1;
    match padding {
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + span).saturating_sub(input);
            (out, total / 2)
        }
        Padding::Valid => ((input + stride).saturating_sub(span) / stride, 0),
    }
}

/// A convolution (`multiplier: None`) or a depthwise one.
fn conv(
    x: &Value,
    weights: &Value,
    bias: Option<&Value>,
    window: Window,
    (dil_h, dil_w): (usize, usize),
    activation: Activation,
    multiplier: Option<usize>,
) -> Result<Value, TfliteError> {
    let [n, h, w, c] = nhwc(x)?;
    let [wo, kh, kw, wi] = nhwc(weights)?;
    let out_c = match multiplier {
        None if wi == c => wo,
        Some(m) if wo == 1 && wi == c * m => wi,
        _ => {
            return Err(TfliteError::Malformed(format!(
                "weights {:?} for a map of {c} channels",
                weights.shape
            )))
        }
    };
    if bias.is_some_and(|b| b.data.len() != out_c) {
        return Err(TfliteError::Malformed("a bias of the wrong length".into()));
    }
    let (oh, pad_t) = out_and_pad(h, kh, window.stride_h, dil_h, window.padding);
    let (ow, pad_l) = out_and_pad(w, kw, window.stride_w, dil_w, window.padding);
    let mut out = vec![0f32; n * oh * ow * out_c];
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for oc in 0..out_c {
                    let mut sum = bias.map_or(0.0, |b| b.data[oc]);
                    for ky in 0..kh {
                        let y = (oy * window.stride_h + ky * dil_h) as isize - pad_t as isize;
                        if y < 0 || y >= h as isize {
                            continue;
                        }
                        for kx in 0..kw {
                            let xx = (ox * window.stride_w + kx * dil_w) as isize - pad_l as isize;
                            if xx < 0 || xx >= w as isize {
                                continue;
                            }
                            let pixel = ((b * h + y as usize) * w + xx as usize) * c;
                            match multiplier {
                                None => {
                                    let wt = ((oc * kh + ky) * kw + kx) * c;
                                    for ic in 0..c {
                                        sum += x.data[pixel + ic] * weights.data[wt + ic];
                                    }
                                }
                                Some(m) => {
                                    sum += x.data[pixel + oc / m]
                                        * weights.data[(ky * kw + kx) * out_c + oc];
                                }
                            }
                        }
                    }
                    out[((b * oh + oy) * ow + ox) * out_c + oc] = activate(sum, activation)?;
                }
            }
        }
    }
    Ok(Value {
        shape: vec![n, oh, ow, out_c],
        data: out,
    })
}

/// Max or average pooling; padded cells take no part (as in TFLite).
fn pool(
    x: &Value,
    window: Window,
    activation: Activation,
    max: bool,
) -> Result<Value, TfliteError> {
    let [n, h, w, c] = nhwc(x)?;
    let (oh, pad_t) = out_and_pad(h, window.filter_h, window.stride_h, 1, window.padding);
    let (ow, pad_l) = out_and_pad(w, window.filter_w, window.stride_w, 1, window.padding);
    let mut out = vec![0f32; n * oh * ow * c];
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let (mut best, mut sum, mut count) = (f32::NEG_INFINITY, 0f32, 0usize);
                    for ky in 0..window.filter_h {
                        let y = (oy * window.stride_h + ky) as isize - pad_t as isize;
                        for kx in 0..window.filter_w {
                            let xx = (ox * window.stride_w + kx) as isize - pad_l as isize;
                            if y < 0 || y >= h as isize || xx < 0 || xx >= w as isize {
                                continue;
                            }
                            let v = x.data[((b * h + y as usize) * w + xx as usize) * c + ch];
                            best = best.max(v);
                            sum += v;
                            count += 1;
                        }
                    }
                    let v = if max { best } else { sum / count.max(1) as f32 };
                    out[((b * oh + oy) * ow + ox) * c + ch] = activate(v, activation)?;
                }
            }
        }
    }
    Ok(Value {
        shape: vec![n, oh, ow, c],
        data: out,
    })
}

fn add(a: &Value, b: &Value, activation: Activation) -> Result<Value, TfliteError> {
    if a.shape != b.shape {
        return Err(unsupported(format!(
            "adding {:?} to {:?} (broadcasting)",
            a.shape, b.shape
        )));
    }
    let data = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| activate(x + y, activation))
        .collect::<Result<_, _>>()?;
    Ok(Value {
        shape: a.shape.clone(),
        data,
    })
}

fn prelu(x: &Value, alpha: &Value) -> Result<Value, TfliteError> {
    let channels = *x.shape.last().unwrap_or(&0);
    if alpha.data.len() != channels {
        return Err(unsupported(format!(
            "PReLU slopes of shape {:?} for {:?}",
            alpha.shape, x.shape
        )));
    }
    let data = x
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v > 0.0 {
                v
            } else {
                v * alpha.data[i % channels]
            }
        })
        .collect();
    Ok(Value {
        shape: x.shape.clone(),
        data,
    })
}

/// Zero padding of every axis by `paddings` (`[rank, 2]`: before, after).
fn pad(x: &Value, paddings: &Value) -> Result<Value, TfliteError> {
    let rank = x.shape.len();
    if paddings.data.len() != rank * 2 || paddings.data.iter().any(|p| !(0.0..=4096.0).contains(p))
    {
        return Err(TfliteError::Malformed(format!(
            "paddings {:?} for a tensor of rank {rank}",
            paddings.data
        )));
    }
    let before: Vec<usize> = (0..rank).map(|i| paddings.data[2 * i] as usize).collect();
    let shape: Vec<usize> = (0..rank)
        .map(|i| x.shape[i] + before[i] + paddings.data[2 * i + 1] as usize)
        .collect();
    let mut out = vec![0f32; shape.iter().product()];
    let mut index = vec![0usize; rank];
    for &v in &x.data {
        let mut at = 0;
        for i in 0..rank {
            at = at * shape[i] + index[i] + before[i];
        }
        out[at] = v;
        for i in (0..rank).rev() {
            index[i] += 1;
            if index[i] < x.shape[i] {
                break;
            }
            index[i] = 0;
        }
    }
    Ok(Value { shape, data: out })
}

fn concat(parts: &[&Value], axis: i32, activation: Activation) -> Result<Value, TfliteError> {
    let first = parts
        .first()
        .ok_or_else(|| TfliteError::Malformed("a concatenation of nothing".into()))?;
    let rank = first.shape.len() as i32;
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&axis) {
        return Err(TfliteError::Malformed(format!(
            "concatenation along axis {axis}"
        )));
    }
    let axis = axis as usize;
    let outer: usize = first.shape[..axis].iter().product();
    let mut shape = first.shape.clone();
    shape[axis] = 0;
    for part in parts {
        let same_elsewhere = part.shape.len() == first.shape.len()
            && (0..first.shape.len()).all(|i| i == axis || part.shape[i] == first.shape[i]);
        if !same_elsewhere {
            return Err(TfliteError::Malformed(format!(
                "concatenating {:?} with {:?}",
                part.shape, first.shape
            )));
        }
        shape[axis] += part.shape[axis];
    }
    let mut data = Vec::with_capacity(shape.iter().product());
    for o in 0..outer {
        for part in parts {
            let block = part.data.len() / outer.max(1);
            for &v in &part.data[o * block..(o + 1) * block] {
                data.push(activate(v, activation)?);
            }
        }
    }
    Ok(Value { shape, data })
}

/// Bilinear resizing to `size` (`[height, width]`), by TFLite's rule.
fn resize_bilinear(
    x: &Value,
    size: &Value,
    align_corners: bool,
    half_pixel: bool,
) -> Result<Value, TfliteError> {
    let [n, h, w, c] = nhwc(x)?;
    let (oh, ow) = resize_size(size)?;
    let mut out = vec![0f32; n * oh * ow * c];
    for (image, target) in x
        .data
        .chunks_exact(h * w * c)
        .zip(out.chunks_exact_mut(oh * ow * c))
    {
        let resize = Resize {
            height: h,
            width: w,
            channels: c,
            out_height: oh,
            out_width: ow,
            align_corners,
            half_pixel,
        };
        resize.run(image, target);
    }
    Ok(Value {
        shape: vec![n, oh, ow, c],
        data: out,
    })
}

/// The output size of a resize (its second input), checked.
pub(super) fn resize_size(size: &Value) -> Result<(usize, usize), TfliteError> {
    let [oh, ow] = size.data[..] else {
        return Err(TfliteError::Malformed(
            "a resize to a size that is not [height, width]".into(),
        ));
    };
    if !(1.0..=8192.0).contains(&oh) || !(1.0..=8192.0).contains(&ow) {
        return Err(TfliteError::Malformed(format!("a resize to {oh}x{ow}")));
    }
    Ok((oh as usize, ow as usize))
}

/// A bilinear resize of one NHWC image, as TFLite's `ResizeBilinear`
/// computes it (the reference run and the compiled graph share it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Resize {
    pub(super) height: usize,
    pub(super) width: usize,
    pub(super) channels: usize,
    pub(super) out_height: usize,
    pub(super) out_width: usize,
    pub(super) align_corners: bool,
    pub(super) half_pixel: bool,
}

impl Resize {
    /// Resizes `x` (`height * width * channels`) into `out`.
    pub(super) fn run(&self, x: &[f32], out: &mut [f32]) {
        let (h, w, c) = (self.height, self.width, self.channels);
        let (oh, ow) = (self.out_height, self.out_width);
        let scale = |input: usize, output: usize| {
            if self.align_corners && output > 1 {
                (input - 1) as f32 / (output - 1) as f32
            } else {
                input as f32 / output as f32
            }
        };
        // Where output coordinate `o` reads: the two rows (or columns) and the weight of the second.
        let source = |o: usize, scale: f32, input: usize| {
            let at = if self.half_pixel {
                (o as f32 + 0.5) * scale - 0.5
            } else {
                o as f32 * scale
            };
            let low = at.floor().max(0.0) as usize;
            let high = (at.ceil() as usize).min(input - 1);
            (low.min(input - 1), high, at - at.floor().max(0.0))
        };
        let (sy, sx) = (scale(h, oh), scale(w, ow));
        // Worked out once per column; each pixel then mixes four pixels'
        // channels, contiguous.
        let columns: Vec<(usize, usize, f32)> = (0..ow).map(|ox| source(ox, sx, w)).collect();
        for oy in 0..oh {
            let (y0, y1, dy) = source(oy, sy, h);
            let top_row = &x[y0 * w * c..][..w * c];
            let bottom_row = &x[y1 * w * c..][..w * c];
            for (ox, &(x0, x1, dx)) in columns.iter().enumerate() {
                let (a, b, c_, d) = (
                    &top_row[x0 * c..][..c],
                    &top_row[x1 * c..][..c],
                    &bottom_row[x0 * c..][..c],
                    &bottom_row[x1 * c..][..c],
                );
                let target = &mut out[(oy * ow + ox) * c..][..c];
                for (ch, v) in target.iter_mut().enumerate() {
                    let top = a[ch] * (1.0 - dx) + b[ch] * dx;
                    let bottom = c_[ch] * (1.0 - dx) + d[ch] * dx;
                    *v = top * (1.0 - dy) + bottom * dy;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_row_at_the_end_and_valid_none() {
        assert_eq!(
            out_and_pad(128, 5, 2, 1, Padding::Same),
            (64, 1),
            "5x5 stride 2 pads 1 before, 2 after"
        );
        assert_eq!(out_and_pad(128, 2, 2, 1, Padding::Same), (64, 0));
        assert_eq!(out_and_pad(128, 3, 1, 1, Padding::Same), (128, 1));
        assert_eq!(out_and_pad(130, 3, 2, 1, Padding::Valid), (64, 0));
        assert_eq!(
            out_and_pad(4, 5, 1, 1, Padding::Valid),
            (0, 0),
            "a kernel wider than the map"
        );
    }

    #[test]
    fn pad_places_the_tensor_inside_zeros() {
        let x = Value {
            shape: vec![1, 1, 2, 1],
            data: vec![1.0, 2.0],
        };
        let p = Value {
            shape: vec![4, 2],
            data: vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 2.0],
        };
        let out = pad(&x, &p).unwrap();
        assert_eq!(out.shape, [1, 2, 3, 3]);
        assert_eq!(
            out.data,
            [0., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0., 0., 2., 0., 0., 0., 0., 0.]
        );
    }
}
