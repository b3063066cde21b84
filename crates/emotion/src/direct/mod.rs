//! A direct-convolution engine for CNN classifiers.
//!
//! tract runs any ONNX graph, but on the small convolutions of a 48x48
//! face model it spends about a third of its time re-packing inputs as
//! im2col panels (see `docs/PERFORMANCE.md`). This engine runs the graphs
//! FER models are usually made of — convolutions (plain or depthwise),
//! pooling, residual additions and a dense or pooled head — straight on a
//! channel-blocked layout with weights packed once at load time; 3x3
//! convolutions use Winograd's F(2x2, 3x3) on AVX-512 and AVX2 CPUs and
//! in the browser (see [`winograd`]). Anything else — or a graph this engine reads differently
//! from tract, which the classifier checks at load time — stays with tract.
//!
//! A network is a list of steps in the graph's order. Every step writes its
//! own map slot (slot 0 is the input, step `i` writes slot `i + 1`) and
//! names the slots it reads, so branches and residual connections need no
//! special handling. The head works on one vector per image.

mod compile;
mod conv;
mod depthwise;
mod layers;
mod map;
mod winograd;

use std::sync::Mutex;

use crate::onnx::ModelProto;

use crate::description::{InputSpec, Layout};
use conv::Conv;
use depthwise::Depthwise;
pub(crate) use layers::softmax;
use layers::{global_mean, AddMaps, Dense, MaxPool};
use map::MapShape;
use winograd::Winograd;

/// ReLU, `max(x, 0)`, written as a comparison: `f32::max`'s NaN rule has no
/// single WebAssembly instruction, so there it became a call to `fmaxf` per
/// value. Both give 0 for NaN.
#[inline(always)]
fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

/// The larger of a running maximum `m` and `v`, for the same reason as
/// [`relu`]; like `f32::max`, a NaN `v` leaves `m`.
#[inline(always)]
fn larger(m: f32, v: f32) -> f32 {
    if v > m {
        v
    } else {
        m
    }
}

/// The signature every single-map kernel family shares: an op, its input
/// map and its output map. Variants are `unsafe` because the SIMD ones need
/// their instruction set; each family picks one through a
/// [`Kernels`](melodora_core::simd::Kernels) table, once.
type MapKernel<Op> = unsafe fn(&Op, &[f32], &mut [f32]);

/// A model compiled for the direct engine.
#[derive(Debug)]
pub(crate) struct DirectNet {
    /// The input map (its border is the widest padding of the convolutions
    /// that read it).
    input: MapShape,
    /// How each image of the input tensor is laid out.
    layout: Layout,
    steps: Vec<Step>,
    /// Values per image in the result.
    outputs: usize,
    /// Buffers of finished runs, kept for the next: kernels write only a
    /// map's interior, so a reused buffer's border is still zero and
    /// nothing needs clearing.
    spare: Mutex<Vec<RunBuffers>>,
}

/// The memory one run works in.
#[derive(Debug)]
struct RunBuffers {
    /// One buffer per map slot: the input, then each step's output (empty
    /// for steps that give vectors).
    maps: Vec<Vec<f32>>,
    /// Working space of the Winograd steps.
    work: Vec<f32>,
}

/// One image's way through the network.
#[derive(Debug)]
struct Run {
    buffers: RunBuffers,
    /// The vector the network ends with, once it has one.
    vector: Vec<f32>,
    /// Where a dense layer writes before it becomes `vector`.
    dense_out: Vec<f32>,
}

/// One operation of the network and the map slot it reads.
#[derive(Debug)]
struct Step {
    op: Op,
    /// The slot of the map the operation reads (for the head's vector
    /// operations, the step that made the vector).
    reads: usize,
}

#[derive(Debug)]
enum Op {
    Conv(Conv),
    Winograd(Winograd),
    Depthwise(Depthwise),
    MaxPool(MaxPool),
    /// The map read plus the map of slot `other`.
    Add {
        add: AddMaps,
        other: usize,
    },
    /// Map (this shape) → vector of channel means.
    GlobalMean(MapShape),
    /// Map (this shape) → vector in channel, row, column order.
    Flatten(MapShape),
    Dense(Dense),
    Softmax,
}

impl Op {
    /// The map the operation writes, if it gives a map.
    fn output(&self) -> Option<&MapShape> {
        match self {
            Op::Conv(conv) => Some(&conv.output),
            Op::Winograd(conv) => Some(&conv.output),
            Op::Depthwise(conv) => Some(&conv.output),
            Op::MaxPool(pool) => Some(&pool.output),
            Op::Add { add, .. } => Some(&add.output),
            _ => None,
        }
    }

    /// Whether the step reads more weights than input values, so that
    /// running it across a batch saves memory traffic.
    fn weighs_more_than_its_input(&self) -> bool {
        match self {
            Op::Conv(conv) => conv.weights.len() > conv.input.len(),
            Op::Winograd(conv) => conv.weights_len() > conv.input.len(),
            _ => false,
        }
    }
}

impl DirectNet {
    /// Compiles `proto` for inputs shaped like `spec`, or says why this
    /// engine does not run it.
    pub(crate) fn compile(
        proto: &ModelProto,
        spec: &InputSpec,
    ) -> Result<Self, compile::Unsupported> {
        compile::compile(proto, spec)
    }

    /// Values per image in the result of [`run`](Self::run).
    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }

    /// Runs a batch (the model's input tensor for `batch.len() / image`
    /// images, in the description's layout); returns the model's output
    /// values, image after image.
    ///
    /// The first steps run image by image, so that one image's large early
    /// maps stay in cache; from the first step whose weights outweigh its
    /// input map ([`Op::weighs_more_than_its_input`]), steps run across
    /// the batch, so each weight read from memory serves every image.
    pub(crate) fn run(&self, batch: &[f32]) -> Vec<f32> {
        let (c, h, w) = (self.input.channels, self.input.height, self.input.width);
        let mut planar = Vec::new();
        let mut runs: Vec<Run> = batch
            .chunks_exact(c * h * w)
            .map(|image| self.start(image, &mut planar))
            .collect();
        let split = self
            .steps
            .iter()
            .position(|step| step.op.weighs_more_than_its_input())
            .unwrap_or(self.steps.len());
        for run in &mut runs {
            for i in 0..split {
                self.step(i, run);
            }
        }
        for i in split..self.steps.len() {
            match &self.steps[i].op {
                Op::Winograd(conv) => {
                    Self::winograd_across(i, self.steps[i].reads, conv, &mut runs)
                }
                _ => runs.iter_mut().for_each(|run| self.step(i, run)),
            }
        }
        let mut out = Vec::with_capacity(runs.len() * self.outputs);
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        for run in runs {
            out.extend_from_slice(&run.vector);
            spare.push(run.buffers);
        }
        out
    }

    /// A run of one image, its input map written (`planar` is reused space
    /// for reordering NHWC input).
    fn start(&self, image: &[f32], planar: &mut Vec<f32>) -> Run {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buffers = spare.unwrap_or_else(|| self.new_buffers());
        let c = self.input.channels;
        match self.layout {
            Layout::Nchw => self.input.write_interior(image, &mut buffers.maps[0]),
            Layout::Nhwc => {
                planar.clear();
                planar.extend((0..c).flat_map(|ch| image.iter().skip(ch).step_by(c)));
                self.input.write_interior(planar, &mut buffers.maps[0]);
            }
        }
        Run {
            buffers,
            vector: Vec::new(),
            dense_out: Vec::new(),
        }
    }

    /// Runs step `i` on one image.
    fn step(&self, i: usize, run: &mut Run) {
        let RunBuffers { maps, work } = &mut run.buffers;
        // Steps read only earlier slots, and step i writes slot i + 1.
        let (done, rest) = maps.split_at_mut(i + 1);
        let step = &self.steps[i];
        let map = &done[step.reads];
        let out = &mut rest[0];
        match &step.op {
            Op::Conv(conv) => conv.run(map, out),
            Op::Winograd(conv) => conv.run(&mut [(&map[..], &mut out[..])], work),
            Op::Depthwise(conv) => conv.run(map, out),
            Op::MaxPool(pool) => pool.run(map, out),
            Op::Add { add, other } => add.run(map, &done[*other], out),
            Op::GlobalMean(shape) => global_mean(shape, map, &mut run.vector),
            Op::Flatten(shape) => shape.copy_to_planar(map, &mut run.vector),
            Op::Dense(dense) => {
                dense.run(&run.vector, &mut run.dense_out);
                std::mem::swap(&mut run.vector, &mut run.dense_out);
            }
            Op::Softmax => softmax(&mut run.vector),
        }
    }

    /// Runs Winograd step `i`, which reads slot `reads`, on every image at
    /// once.
    fn winograd_across(i: usize, reads: usize, conv: &Winograd, runs: &mut [Run]) {
        let Some(first) = runs.first_mut() else {
            return;
        };
        let mut work = std::mem::take(&mut first.buffers.work);
        let mut images: Vec<(&[f32], &mut [f32])> = runs
            .iter_mut()
            .map(|run| {
                let (done, rest) = run.buffers.maps.split_at_mut(i + 1);
                (&done[reads][..], &mut rest[0][..])
            })
            .collect();
        conv.run(&mut images, &mut work);
        drop(images);
        runs[0].buffers.work = work;
    }

    /// Zeroed buffers for every map of a run, and its scratch space.
    fn new_buffers(&self) -> RunBuffers {
        let maps = std::iter::once(self.input.len())
            .chain(
                self.steps
                    .iter()
                    .map(|step| step.op.output().map_or(0, MapShape::len)),
            )
            .map(|len| vec![0f32; len])
            .collect();
        let scratch = self
            .steps
            .iter()
            .map(|step| match &step.op {
                Op::Winograd(conv) => conv.scratch_len(),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        RunBuffers {
            maps,
            work: vec![0f32; scratch],
        }
    }
}
