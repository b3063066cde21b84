//! A direct-convolution engine for plain CNN classifiers.
//!
//! tract runs any ONNX graph, but on the small convolutions of a 48x48
//! face model it spends about a third of its time re-packing inputs as
//! im2col panels (see `docs/PERFORMANCE.md`). This engine runs the graphs
//! that are a single chain of convolutions, pooling and dense layers (what
//! FER models usually are) straight on a channel-blocked layout with
//! weights packed once at load time; 3x3 convolutions use Winograd's
//! F(2x2, 3x3) on AVX-512 CPUs (see [`winograd`]). Anything else — or a graph this engine
//! reads differently from tract, which the classifier checks at load time —
//! stays with tract.

mod compile;
mod conv;
mod layers;
mod map;
mod winograd;

use std::sync::Mutex;

use tract_onnx::pb::ModelProto;

use super::description::{InputSpec, Layout};
use conv::Conv;
pub(crate) use layers::softmax;
use layers::{global_mean, Dense, MaxPool};
use map::MapShape;
use winograd::Winograd;

/// A model compiled for the direct engine.
#[derive(Debug)]
pub(crate) struct DirectNet {
    /// The first map (its border is the first convolution's padding).
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
    /// One buffer per map: the input, then each step's output (empty for
    /// steps that give vectors).
    maps: Vec<Vec<f32>>,
    /// Working space of the Winograd steps.
    work: Vec<f32>,
}

/// One image's way through the network.
#[derive(Debug)]
struct Run {
    buffers: RunBuffers,
    /// The map the next step reads.
    current: usize,
    /// The vector the network ends with, once it has one.
    vector: Vec<f32>,
    /// Where a dense layer writes before it becomes `vector`.
    dense_out: Vec<f32>,
}

#[derive(Debug)]
enum Step {
    Conv(Conv),
    Winograd(Winograd),
    MaxPool(MaxPool),
    /// Map (this shape) → vector of channel means.
    GlobalMean(MapShape),
    /// Map (this shape) → vector in channel, row, column order.
    Flatten(MapShape),
    Dense(Dense),
    Softmax,
}

impl Step {
    /// Whether the step gives a map (the next step reads it).
    fn gives_map(&self) -> bool {
        matches!(self, Step::Conv(_) | Step::Winograd(_) | Step::MaxPool(_))
    }

    /// Whether the step reads more weights than input values, so that
    /// running it across a batch saves memory traffic.
    fn weighs_more_than_its_input(&self) -> bool {
        match self {
            Step::Conv(conv) => conv.weights.len() > conv.input.len(),
            Step::Winograd(conv) => conv.weights_len() > conv.input.len(),
            _ => false,
        }
    }
}

impl DirectNet {
    /// Compiles `proto` for inputs shaped like `spec`, or says why this
    /// engine does not run it.
    pub(crate) fn compile(proto: &ModelProto, spec: &InputSpec) -> Result<Self, String> {
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
    /// input map ([`Step::weighs_more_than_its_input`]), steps run across
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
            .position(Step::weighs_more_than_its_input)
            .unwrap_or(self.steps.len());
        for run in &mut runs {
            for i in 0..split {
                self.step(i, run);
            }
        }
        for i in split..self.steps.len() {
            match &self.steps[i] {
                Step::Winograd(conv) => Self::winograd_across(i, conv, &mut runs),
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
            current: 0,
            vector: Vec::new(),
            dense_out: Vec::new(),
        }
    }

    /// Runs step `i` on one image.
    fn step(&self, i: usize, run: &mut Run) {
        let RunBuffers { maps, work } = &mut run.buffers;
        let (done, rest) = maps.split_at_mut(i + 1);
        let map = &done[run.current];
        match &self.steps[i] {
            Step::Conv(conv) => conv.run(map, &mut rest[0]),
            Step::Winograd(conv) => conv.run(&mut [(&map[..], &mut rest[0][..])], work),
            Step::MaxPool(pool) => pool.run(map, &mut rest[0]),
            Step::GlobalMean(shape) => global_mean(shape, map, &mut run.vector),
            Step::Flatten(shape) => shape.copy_to_planar(map, &mut run.vector),
            Step::Dense(dense) => {
                dense.run(&run.vector, &mut run.dense_out);
                std::mem::swap(&mut run.vector, &mut run.dense_out);
            }
            Step::Softmax => softmax(&mut run.vector),
        }
        if self.steps[i].gives_map() {
            run.current = i + 1;
        }
    }

    /// Runs Winograd step `i` on every image at once.
    fn winograd_across(i: usize, conv: &Winograd, runs: &mut [Run]) {
        let Some(first) = runs.first_mut() else {
            return;
        };
        let mut work = std::mem::take(&mut first.buffers.work);
        let mut images: Vec<(&[f32], &mut [f32])> = runs
            .iter_mut()
            .map(|run| {
                let (done, rest) = run.buffers.maps.split_at_mut(i + 1);
                (&done[run.current][..], &mut rest[0][..])
            })
            .collect();
        conv.run(&mut images, &mut work);
        drop(images);
        runs[0].buffers.work = work;
        for run in runs {
            run.current = i + 1;
        }
    }

    /// Zeroed buffers for every map of a run, and its scratch space.
    fn new_buffers(&self) -> RunBuffers {
        let maps = std::iter::once(self.input.len())
            .chain(self.steps.iter().map(|step| match step {
                Step::Conv(conv) => conv.output.len(),
                Step::Winograd(conv) => conv.output.len(),
                Step::MaxPool(pool) => pool.output.len(),
                _ => 0,
            }))
            .map(|len| vec![0f32; len])
            .collect();
        let scratch = self
            .steps
            .iter()
            .map(|step| match step {
                Step::Winograd(conv) => conv.scratch_len(),
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
