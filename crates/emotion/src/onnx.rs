//! The part of the ONNX file format Melodora reads itself: the protobuf
//! messages of a model's graph, its initializers and metadata, decoded with
//! prost, and constant tensors as plain vectors.
//!
//! The direct engine and the model's embedded description need only this,
//! so a build without tract (the browser's) can still load a model. Fields
//! not declared here are skipped by the decoder; tensors stored outside the
//! file (`data_location = EXTERNAL`) are refused, as a model read from bytes
//! has no directory to find them in.

/// `ModelProto`: the file.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ModelProto {
    /// The computation.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Free-form key/value pairs; Melodora's description is one of them.
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// `StringStringEntryProto`: one metadata entry.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `GraphProto`: nodes in topological order, constants, inputs.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

/// `ValueInfoProto`: a graph input or output; only its name is read.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ValueInfoProto {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `NodeProto`: one operator application.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

/// `AttributeProto`: a named operator parameter of one of several types.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct AttributeProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(float, tag = "2")]
    pub f: f32,
    #[prost(int64, tag = "3")]
    pub i: i64,
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    #[prost(float, repeated, tag = "7")]
    pub floats: Vec<f32>,
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    /// Which of the fields above holds the value (`AttributeType`).
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

/// `AttributeProto.AttributeType` values read here.
mod attribute_type {
    pub const FLOAT: i32 = 1;
    pub const INT: i32 = 2;
    pub const STRING: i32 = 3;
    pub const TENSOR: i32 = 4;
    pub const INTS: i32 = 7;
}

/// `TensorProto`: a constant.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// `TensorProto.DataType`: 1 is FLOAT, 7 is INT64.
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    #[prost(string, tag = "8")]
    pub name: String,
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
    /// 1 (`EXTERNAL`): the values are in another file.
    #[prost(int32, tag = "14")]
    pub data_location: i32,
}

const FLOAT: i32 = 1;
const INT64: i32 = 7;
const EXTERNAL: i32 = 1;

/// Decodes an ONNX file.
pub(crate) fn parse(bytes: &[u8]) -> Result<ModelProto, prost::DecodeError> {
    prost::Message::decode(bytes)
}

/// A constant tensor's values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// A constant tensor: weights, biases, shapes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Constant {
    pub shape: Vec<usize>,
    pub values: Values,
}

impl Constant {
    /// Reads a float or int64 tensor, from its typed field or `raw_data`
    /// (little-endian), checking the value count against the shape.
    pub fn from_proto(t: &TensorProto) -> Result<Constant, String> {
        if t.data_location == EXTERNAL {
            return Err("its values are stored in another file".into());
        }
        let shape = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d}")))
            .collect::<Result<Vec<usize>, String>>()?;
        let count = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or("too many values")?;
        let values = match t.data_type {
            FLOAT if t.raw_data.is_empty() => Values::F32(t.float_data.clone()),
            FLOAT => Values::F32(little_endian(&t.raw_data, f32::from_le_bytes)?),
            INT64 if t.raw_data.is_empty() => Values::I64(t.int64_data.clone()),
            INT64 => Values::I64(little_endian(&t.raw_data, i64::from_le_bytes)?),
            other => return Err(format!("data type {other}, expected float or int64")),
        };
        let len = match &values {
            Values::F32(v) => v.len(),
            Values::I64(v) => v.len(),
        };
        if len != count {
            return Err(format!("{len} values for shape {shape:?}"));
        }
        Ok(Constant { shape, values })
    }

    /// The values, if they are floats.
    pub fn f32s(&self) -> Option<&[f32]> {
        match &self.values {
            Values::F32(v) => Some(v),
            Values::I64(_) => None,
        }
    }

    /// The values, if they are 64-bit integers.
    pub fn i64s(&self) -> Option<&[i64]> {
        match &self.values {
            Values::I64(v) => Some(v),
            Values::F32(_) => None,
        }
    }

    /// The element type's name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.values {
            Values::F32(_) => "f32",
            Values::I64(_) => "i64",
        }
    }
}

/// Splits `raw` into `N`-byte little-endian values.
fn little_endian<T, const N: usize>(raw: &[u8], read: fn([u8; N]) -> T) -> Result<Vec<T>, String> {
    if !raw.len().is_multiple_of(N) {
        return Err(format!("{} raw bytes, not a multiple of {N}", raw.len()));
    }
    Ok(raw
        .chunks_exact(N)
        .map(|c| read(c.try_into().expect("chunks of N bytes")))
        .collect())
}

impl NodeProto {
    fn attribute(&self, name: &str) -> Option<&AttributeProto> {
        self.attribute.iter().find(|a| a.name == name)
    }

    /// Attribute `name` of type `expected`, if the node has it; of another
    /// type, an error.
    fn typed_attribute(
        &self,
        name: &str,
        expected: i32,
    ) -> Result<Option<&AttributeProto>, String> {
        match self.attribute(name) {
            None => Ok(None),
            Some(a) if a.r#type == expected => Ok(Some(a)),
            Some(a) => Err(format!(
                "{} attribute {name} has type {}, expected {expected}",
                self.op_type, a.r#type
            )),
        }
    }

    /// An integer attribute.
    pub fn attr_i64(&self, name: &str) -> Result<Option<i64>, String> {
        Ok(self
            .typed_attribute(name, attribute_type::INT)?
            .map(|a| a.i))
    }

    /// A float attribute.
    pub fn attr_f32(&self, name: &str) -> Result<Option<f32>, String> {
        Ok(self
            .typed_attribute(name, attribute_type::FLOAT)?
            .map(|a| a.f))
    }

    /// A list-of-integers attribute.
    pub fn attr_ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        Ok(self
            .typed_attribute(name, attribute_type::INTS)?
            .map(|a| a.ints.clone()))
    }

    /// A string attribute (UTF-8).
    pub fn attr_str(&self, name: &str) -> Result<Option<&str>, String> {
        self.typed_attribute(name, attribute_type::STRING)?
            .map(|a| {
                std::str::from_utf8(&a.s)
                    .map_err(|_| format!("{} attribute {name} is not UTF-8", self.op_type))
            })
            .transpose()
    }

    /// A tensor attribute.
    pub fn attr_tensor(&self, name: &str) -> Result<Option<&TensorProto>, String> {
        Ok(self
            .typed_attribute(name, attribute_type::TENSOR)?
            .and_then(|a| a.t.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_typed_data_read_alike() {
        let typed = TensorProto {
            dims: vec![2],
            data_type: FLOAT,
            float_data: vec![1.5, -2.0],
            ..TensorProto::default()
        };
        let raw = TensorProto {
            dims: vec![2],
            data_type: FLOAT,
            raw_data: [1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat(),
            ..TensorProto::default()
        };
        let a = Constant::from_proto(&typed).unwrap();
        assert_eq!(a, Constant::from_proto(&raw).unwrap());
        assert_eq!(a.f32s(), Some(&[1.5, -2.0][..]));
        assert_eq!(a.i64s(), None);
    }

    #[test]
    fn bad_tensors_are_refused() {
        let wrong_count = TensorProto {
            dims: vec![3],
            data_type: INT64,
            int64_data: vec![1, 2],
            ..TensorProto::default()
        };
        assert!(Constant::from_proto(&wrong_count).is_err());
        let external = TensorProto {
            data_location: EXTERNAL,
            ..wrong_count.clone()
        };
        assert!(Constant::from_proto(&external)
            .unwrap_err()
            .contains("another file"));
        let ragged = TensorProto {
            dims: vec![1],
            data_type: FLOAT,
            raw_data: vec![0; 5],
            ..TensorProto::default()
        };
        assert!(Constant::from_proto(&ragged).is_err());
        let huge = TensorProto {
            dims: vec![i64::MAX, i64::MAX],
            data_type: FLOAT,
            ..TensorProto::default()
        };
        assert!(Constant::from_proto(&huge).is_err());
    }

    #[test]
    fn the_default_model_decodes_with_its_graph_and_description() {
        let model = parse(crate::DEFAULT_MODEL_ONNX).unwrap();
        let graph = model.graph.as_ref().unwrap();
        assert!(!graph.node.is_empty() && !graph.initializer.is_empty());
        assert!(model
            .metadata_props
            .iter()
            .any(|p| p.key == crate::METADATA_KEY));
        for init in &graph.initializer {
            Constant::from_proto(init).unwrap();
        }
    }

    #[test]
    fn attributes_are_read_by_type() {
        let node = NodeProto {
            op_type: "Conv".into(),
            attribute: vec![
                AttributeProto {
                    name: "strides".into(),
                    ints: vec![1, 2],
                    r#type: attribute_type::INTS,
                    ..AttributeProto::default()
                },
                AttributeProto {
                    name: "auto_pad".into(),
                    s: b"NOTSET".to_vec(),
                    r#type: attribute_type::STRING,
                    ..AttributeProto::default()
                },
            ],
            ..NodeProto::default()
        };
        assert_eq!(node.attr_ints("strides").unwrap(), Some(vec![1, 2]));
        assert_eq!(node.attr_str("auto_pad").unwrap(), Some("NOTSET"));
        assert_eq!(node.attr_i64("group").unwrap(), None);
        assert!(node.attr_i64("strides").is_err());
    }
}
