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
    scratch: Vec<f32>,
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
    pub(crate) fn run(&self, batch: &[f32]) -> Vec<f32> {
        let (c, h, w) = (self.input.channels, self.input.height, self.input.width);
        let mut out = Vec::with_capacity(batch.len() / (c * h * w) * self.outputs);
        let mut planar = Vec::new();
        for image in batch.chunks_exact(c * h * w) {
            let image = match self.layout {
                Layout::Nchw => image,
                Layout::Nhwc => {
                    planar.clear();
                    planar.extend((0..c).flat_map(|ch| image.iter().skip(ch).step_by(c)));
                    &planar[..]
                }
            };
            out.extend(self.run_one(image));
        }
        out
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
            scratch: vec![0f32; scratch],
        }
    }

    fn run_one(&self, planar: &[f32]) -> Vec<f32> {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buffers = spare.unwrap_or_else(|| self.new_buffers());
        let RunBuffers {
            maps,
            scratch: work,
        } = &mut buffers;
        self.input.write_interior(planar, &mut maps[0]);
        let mut vector = Vec::new();
        let mut scratch = Vec::new();
        // The map the next step reads.
        let mut current = 0;
        for (i, step) in self.steps.iter().enumerate() {
            let (done, rest) = maps.split_at_mut(i + 1);
            let map = &done[current];
            match step {
                Step::Conv(conv) => {
                    conv.run(map, &mut rest[0]);
                    current = i + 1;
                }
                Step::Winograd(conv) => {
                    conv.run(map, &mut rest[0], work);
                    current = i + 1;
                }
                Step::MaxPool(pool) => {
                    pool.run(map, &mut rest[0]);
                    current = i + 1;
                }
                Step::GlobalMean(shape) => global_mean(shape, map, &mut vector),
                Step::Flatten(shape) => shape.copy_to_planar(map, &mut vector),
                Step::Dense(dense) => {
                    dense.run(&vector, &mut scratch);
                    std::mem::swap(&mut vector, &mut scratch);
                }
                Step::Softmax => softmax(&mut vector),
            }
        }
        self.spare
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buffers);
        vector
    }
}
