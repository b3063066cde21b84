//! A reader for TFLite models, enough for MediaPipe's BlazeFace: the
//! tensors (shapes, float32 or float16 constants), and the operators with
//! their options, in the graph's order. Reading the file the registry ships
//! (`assets/blazeface/`, vendored by `scripts/vendor_models.sh`) means
//! there is no converted copy to keep in step with it.
//!
//! Only what a float model uses is read: quantized (int8/uint8) tensors,
//! sparse tensors and custom operators are refused or kept as
//! [`OpKind::Other`], for whoever runs the graph to refuse by name.

mod compiled;
mod flatbuffer;
mod interpret;
mod kernels;

pub use compiled::CompiledGraph;
pub use interpret::interpret;

use flatbuffer::{Buffer, Table};

/// Why a file is not a TFLite model this reader can use.
#[derive(Debug, thiserror::Error)]
pub enum TfliteError {
    /// Not a FlatBuffer at all, or one whose offsets run off the file.
    #[error("not a readable TFLite model: {0}")]
    Malformed(String),
    /// A well-formed model that uses what this reader does not support.
    #[error("unsupported TFLite model: {0}")]
    Unsupported(String),
}

/// The identifier a TFLite FlatBuffer carries at bytes 4..8.
const FILE_IDENTIFIER: &[u8; 4] = b"TFL3";

/// A tensor's element type, as the schema numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    /// 32-bit float.
    Float32,
    /// 16-bit float (weights stored half size, dequantized at load).
    Float16,
    /// 32-bit integer (shapes, padding amounts).
    Int32,
    /// Any other schema type, by number.
    Other(u8),
}

impl ElementType {
    fn from_schema(code: u8) -> ElementType {
        match code {
            0 => ElementType::Float32,
            1 => ElementType::Float16,
            2 => ElementType::Int32,
            other => ElementType::Other(other),
        }
    }
}

/// One tensor of the graph.
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Its name in the model (for messages).
    pub name: String,
    /// Its shape, NHWC for images (`[1, 128, 128, 3]`).
    pub shape: Vec<usize>,
    /// How its elements are stored.
    pub element: ElementType,
    /// Its constant value, when the model holds one (weights, biases,
    /// padding amounts): float tensors as f32 (float16 widened), int32
    /// tensors converted exactly.
    pub data: Option<Vec<f32>>,
}

/// Padding of a convolution or pooling, as TFLite defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(input / stride)`, the padding split with the extra
    /// row or column at the end.
    Same,
    /// No padding: output `ceil((input - kernel + 1) / stride)`.
    Valid,
}

/// An activation fused into an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// None.
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// Any other, by schema number.
    Other(u8),
}

impl Activation {
    fn from_schema(code: u8) -> Activation {
        match code {
            0 => Activation::None,
            1 => Activation::Relu,
            3 => Activation::Relu6,
            other => Activation::Other(other),
        }
    }
}

/// A 2-D window: strides, padding, and (pooling) its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Step along rows.
    pub stride_h: usize,
    /// Step along columns.
    pub stride_w: usize,
    /// How the borders are padded.
    pub padding: Padding,
    /// The window's height (pooling; a convolution's comes from its weights).
    pub filter_h: usize,
    /// The window's width.
    pub filter_w: usize,
}

/// What an operator does, with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// Convolution: inputs `[x, weights OHWI, bias]`.
    Conv2d {
        /// Strides and padding.
        window: Window,
        /// Dilation (rows, columns).
        dilation: (usize, usize),
        /// Fused activation.
        activation: Activation,
    },
    /// Depthwise convolution: inputs `[x, weights 1HW(C*m), bias]`.
    DepthwiseConv2d {
        /// Strides and padding.
        window: Window,
        /// Output channels per input channel.
        multiplier: usize,
        /// Dilation (rows, columns).
        dilation: (usize, usize),
        /// Fused activation.
        activation: Activation,
    },
    /// Max pooling.
    MaxPool2d {
        /// The window, strides and padding.
        window: Window,
        /// Fused activation.
        activation: Activation,
    },
    /// Average pooling.
    AveragePool2d {
        /// The window, strides and padding.
        window: Window,
        /// Fused activation.
        activation: Activation,
    },
    /// Element-wise sum of two tensors.
    Add {
        /// Fused activation.
        activation: Activation,
    },
    /// Zero padding: inputs `[x, paddings (rank x 2, int32)]`.
    Pad,
    /// The same elements in another shape.
    Reshape,
    /// Tensors joined along `axis`.
    Concatenation {
        /// The axis joined along (negative: from the end).
        axis: i32,
        /// Fused activation.
        activation: Activation,
    },
    /// `x` where positive, `alpha * x` elsewhere: inputs `[x, alpha]`.
    Prelu,
    /// `max(x, 0)` as an operator of its own.
    Relu,
    /// Bilinear resizing: inputs `[x, size (int32 [h, w])]`.
    ResizeBilinear {
        /// Corner pixels of input and output aligned.
        align_corners: bool,
        /// Pixel centres at half coordinates (`(i + 0.5) * scale - 0.5`).
        half_pixel_centers: bool,
    },
    /// float16 constant to float32 (the reader already widened it).
    Dequantize,
    /// Anything else: the schema's builtin code, or its custom name.
    Other(String),
}

/// One operator: what it does, and the tensors it reads and writes (by index).
#[derive(Debug, Clone)]
pub struct Operator {
    /// What it does.
    pub kind: OpKind,
    /// The tensors it reads (`None`: an optional input left out).
    pub inputs: Vec<Option<usize>>,
    /// The tensors it writes.
    pub outputs: Vec<usize>,
}

/// A model's one graph.
#[derive(Debug, Clone)]
pub struct TfliteModel {
    /// Every tensor, by index.
    pub tensors: Vec<Tensor>,
    /// The operators, in the order they run.
    pub operators: Vec<Operator>,
    /// The graph's inputs (tensor indices).
    pub inputs: Vec<usize>,
    /// The graph's outputs (tensor indices).
    pub outputs: Vec<usize>,
}

// Field ids of the schema's tables (tensorflow/lite/schema/schema.fbs).
mod field {
    pub const MODEL_OPERATOR_CODES: usize = 1;
    pub const MODEL_SUBGRAPHS: usize = 2;
    pub const MODEL_BUFFERS: usize = 4;
    pub const CODE_DEPRECATED_BUILTIN: usize = 0;
    pub const CODE_CUSTOM: usize = 1;
    pub const CODE_BUILTIN: usize = 3;
    pub const GRAPH_TENSORS: usize = 0;
    pub const GRAPH_INPUTS: usize = 1;
    pub const GRAPH_OUTPUTS: usize = 2;
    pub const GRAPH_OPERATORS: usize = 3;
    pub const TENSOR_SHAPE: usize = 0;
    pub const TENSOR_TYPE: usize = 1;
    pub const TENSOR_BUFFER: usize = 2;
    pub const TENSOR_NAME: usize = 3;
    pub const TENSOR_QUANTIZATION: usize = 4;
    pub const TENSOR_SPARSITY: usize = 6;
    pub const QUANT_SCALE: usize = 2;
    pub const BUFFER_DATA: usize = 0;
    pub const BUFFER_OFFSET: usize = 1;
    pub const OP_CODE_INDEX: usize = 0;
    pub const OP_INPUTS: usize = 1;
    pub const OP_OUTPUTS: usize = 2;
    pub const OP_OPTIONS: usize = 4;
}

// Builtin operator codes (schema.fbs, `enum BuiltinOperator`).
mod code {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const MAX_POOL_2D: i32 = 17;
    pub const RELU: i32 = 19;
    pub const RESHAPE: i32 = 22;
    pub const RESIZE_BILINEAR: i32 = 23;
    pub const PAD: i32 = 34;
    pub const PRELU: i32 = 54;
}

/// The largest tensor this reader accepts (elements): far above any face
/// detector's, far below what a hostile shape could ask to allocate.
const MAX_ELEMENTS: usize = 1 << 26;

impl TfliteModel {
    /// Reads a TFLite model from its bytes.
    pub fn parse(bytes: &[u8]) -> Result<TfliteModel, TfliteError> {
        if bytes.len() < 8 || &bytes[4..8] != FILE_IDENTIFIER {
            return Err(TfliteError::Malformed(
                "no TFL3 file identifier (is it a .tflite file?)".into(),
            ));
        }
        let buffer = Buffer::new(bytes);
        let model = buffer.root()?;
        let codes = model
            .tables(field::MODEL_OPERATOR_CODES)?
            .iter()
            .map(operator_name)
            .collect::<Result<Vec<_>, _>>()?;
        let buffers = model.tables(field::MODEL_BUFFERS)?;
        let graphs = model.tables(field::MODEL_SUBGRAPHS)?;
        let [graph] = graphs.as_slice() else {
            return Err(TfliteError::Unsupported(format!(
                "{} graphs; one is expected",
                graphs.len()
            )));
        };
        let tensors = graph
            .tables(field::GRAPH_TENSORS)?
            .iter()
            .map(|t| tensor(t, &buffers))
            .collect::<Result<Vec<_>, _>>()?;
        let index = |i: i32, what: &str| {
            usize::try_from(i)
                .ok()
                .filter(|&i| i < tensors.len())
                .ok_or_else(|| {
                    TfliteError::Malformed(format!("{what} names tensor {i}, which does not exist"))
                })
        };
        let inputs = graph
            .i32s(field::GRAPH_INPUTS)?
            .into_iter()
            .map(|i| index(i, "the graph's input"))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = graph
            .i32s(field::GRAPH_OUTPUTS)?
            .into_iter()
            .map(|i| index(i, "the graph's output"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut operators = Vec::new();
        for op in graph.tables(field::GRAPH_OPERATORS)? {
            let code = op.u32(field::OP_CODE_INDEX, 0)? as usize;
            let (builtin, name) = codes.get(code).cloned().ok_or_else(|| {
                TfliteError::Malformed(format!(
                    "an operator names code {code}, which does not exist"
                ))
            })?;
            let kind = op_kind(builtin, name, op.table(field::OP_OPTIONS)?)?;
            let inputs = op
                .i32s(field::OP_INPUTS)?
                .into_iter()
                .map(|i| {
                    if i < 0 {
                        Ok(None)
                    } else {
                        index(i, "an operator").map(Some)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let outputs = op
                .i32s(field::OP_OUTPUTS)?
                .into_iter()
                .map(|i| index(i, "an operator"))
                .collect::<Result<Vec<_>, _>>()?;
            operators.push(Operator {
                kind,
                inputs,
                outputs,
            });
        }
        Ok(TfliteModel {
            tensors,
            operators,
            inputs,
            outputs,
        })
    }
}

/// An operator code's builtin number and its name (a custom op's own).
fn operator_name(code: &Table) -> Result<(i32, String), TfliteError> {
    // Codes past 127 live in the newer field; the old one keeps 127 then.
    let old = code.u8(field::CODE_DEPRECATED_BUILTIN, 0)? as i8 as i32;
    let new = code.i32(field::CODE_BUILTIN, 0)?;
    Ok((old.max(new), code.string(field::CODE_CUSTOM)?))
}

fn window(options: Option<Table>, fields: [usize; 5]) -> Result<Window, TfliteError> {
    let [padding, stride_w, stride_h, filter_w, filter_h] = fields;
    let Some(o) = options else {
        return Err(TfliteError::Malformed(
            "a windowed operator without options".into(),
        ));
    };
    let positive = |v: i32, what: &str| {
        usize::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| TfliteError::Malformed(format!("a {what} of {v}")))
    };
    Ok(Window {
        padding: if o.u8(padding, 0)? == 0 {
            Padding::Same
        } else {
            Padding::Valid
        },
        stride_w: positive(o.i32(stride_w, 0)?, "stride")?,
        stride_h: positive(o.i32(stride_h, 0)?, "stride")?,
        filter_w: if filter_w == usize::MAX {
            0
        } else {
            positive(o.i32(filter_w, 0)?, "pool width")?
        },
        filter_h: if filter_h == usize::MAX {
            0
        } else {
            positive(o.i32(filter_h, 0)?, "pool height")?
        },
    })
}

fn op_kind(builtin: i32, custom: String, options: Option<Table>) -> Result<OpKind, TfliteError> {
    let activation = |id: usize| -> Result<Activation, TfliteError> {
        Ok(Activation::from_schema(match options {
            Some(o) => o.u8(id, 0)?,
            None => 0,
        }))
    };
    let dilation = |w: usize, h: usize| -> Result<(usize, usize), TfliteError> {
        match options {
            Some(o) => Ok((o.i32(h, 1)?.max(1) as usize, o.i32(w, 1)?.max(1) as usize)),
            None => Ok((1, 1)),
        }
    };
    const NONE: usize = usize::MAX;
    Ok(match builtin {
        // Conv2DOptions: padding, stride_w, stride_h, activation, dilation_w, dilation_h.
        code::CONV_2D => OpKind::Conv2d {
            window: window(options, [0, 1, 2, NONE, NONE])?,
            dilation: dilation(4, 5)?,
            activation: activation(3)?,
        },
        // DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_multiplier,
        // activation, dilation_w, dilation_h.
        code::DEPTHWISE_CONV_2D => OpKind::DepthwiseConv2d {
            window: window(options, [0, 1, 2, NONE, NONE])?,
            multiplier: options.map_or(Ok(1), |o| o.i32(3, 1))?.max(1) as usize,
            dilation: dilation(5, 6)?,
            activation: activation(4)?,
        },
        // Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, activation.
        code::MAX_POOL_2D => OpKind::MaxPool2d {
            window: window(options, [0, 1, 2, 3, 4])?,
            activation: activation(5)?,
        },
        code::AVERAGE_POOL_2D => OpKind::AveragePool2d {
            window: window(options, [0, 1, 2, 3, 4])?,
            activation: activation(5)?,
        },
        // AddOptions: activation.
        code::ADD => OpKind::Add {
            activation: activation(0)?,
        },
        // ConcatenationOptions: axis, activation.
        code::CONCATENATION => OpKind::Concatenation {
            axis: options.map_or(Ok(0), |o| o.i32(0, 0))?,
            activation: activation(1)?,
        },
        code::PAD => OpKind::Pad,
        code::RESHAPE => OpKind::Reshape,
        code::PRELU => OpKind::Prelu,
        code::RELU => OpKind::Relu,
        // ResizeBilinearOptions: new_height, new_width (both unused), align_corners, half_pixel_centers.
        code::RESIZE_BILINEAR => OpKind::ResizeBilinear {
            align_corners: options.map_or(Ok(0), |o| o.u8(2, 0))? != 0,
            half_pixel_centers: options.map_or(Ok(0), |o| o.u8(3, 0))? != 0,
        },
        code::DEQUANTIZE => OpKind::Dequantize,
        other if custom.is_empty() => OpKind::Other(format!("builtin operator {other}")),
        _ => OpKind::Other(custom),
    })
}

fn tensor(table: &Table, buffers: &[Table]) -> Result<Tensor, TfliteError> {
    let name = table.string(field::TENSOR_NAME)?;
    let shape = table
        .i32s(field::TENSOR_SHAPE)?
        .into_iter()
        .map(|d| {
            usize::try_from(d).map_err(|_| {
                TfliteError::Unsupported(format!("tensor {name} has a dimension of {d}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let elements = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| {
            TfliteError::Unsupported(format!("tensor {name} is too large: {shape:?}"))
        })?;
    let element = ElementType::from_schema(table.u8(field::TENSOR_TYPE, 0)?);
    if table.table(field::TENSOR_SPARSITY)?.is_some() {
        return Err(TfliteError::Unsupported(format!("tensor {name} is sparse")));
    }
    if let Some(q) = table.table(field::TENSOR_QUANTIZATION)? {
        if q.vector(field::QUANT_SCALE)?
            .is_some_and(|v| !v.bytes().unwrap_or_default().is_empty())
        {
            return Err(TfliteError::Unsupported(format!(
                "tensor {name} is quantized"
            )));
        }
    }
    let index = table.u32(field::TENSOR_BUFFER, 0)? as usize;
    let bytes = match buffers.get(index) {
        Some(buffer) => buffer_bytes(buffer)?,
        None if index == 0 => &[][..],
        None => {
            return Err(TfliteError::Malformed(format!(
                "tensor {name} names buffer {index}, which does not exist"
            )))
        }
    };
    let data = if bytes.is_empty() {
        None
    } else {
        let width = match element {
            ElementType::Float32 | ElementType::Int32 => 4,
            ElementType::Float16 => 2,
            ElementType::Other(t) => {
                return Err(TfliteError::Unsupported(format!(
                    "tensor {name} holds constants of type {t}"
                )))
            }
        };
        if bytes.len() != elements * width {
            return Err(TfliteError::Malformed(format!(
                "tensor {name} of shape {shape:?} has {} bytes of data",
                bytes.len()
            )));
        }
        Some(match element {
            ElementType::Float32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            ElementType::Int32 => bytes
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
                .collect(),
            _ => bytes
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
        })
    };
    Ok(Tensor {
        name,
        shape,
        element,
        data,
    })
}

/// A buffer's bytes, stored inline (a model over 2 GB keeps them past the
/// FlatBuffer, at an offset: refused).
fn buffer_bytes<'a>(buffer: &Table<'a>) -> Result<&'a [u8], TfliteError> {
    if let Some(data) = buffer.vector(field::BUFFER_DATA)? {
        return data.bytes();
    }
    let offset = buffer.u64(field::BUFFER_OFFSET, 0)?;
    if offset > 1 {
        return Err(TfliteError::Unsupported(
            "buffers stored past the FlatBuffer".into(),
        ));
    }
    Ok(&[])
}

/// IEEE 754 half precision to single, exactly (subnormals, infinities, NaN).
pub(crate) fn f16_to_f32(half: u16) -> f32 {
    let sign = ((half >> 15) as u32) << 31;
    let exponent = ((half >> 10) & 0x1f) as u32;
    let mantissa = (half & 0x3ff) as u32;
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: m * 2^-24, normalised for f32.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (m << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_widens_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24), "the smallest subnormal");
        assert_eq!(
            f16_to_f32(0x03ff),
            1023.0 * 2f32.powi(-24),
            "the largest subnormal"
        );
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000, "negative zero");
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn what_is_not_a_model_is_an_error() {
        for bytes in [
            &b""[..],
            b"TFL3",
            b"\x08\0\0\0TFL2\0\0\0\0",
            b"\xff\xff\xff\x7fTFL3\0\0\0\0",
        ] {
            assert!(TfliteModel::parse(bytes).is_err(), "{bytes:?}");
        }
    }
}
