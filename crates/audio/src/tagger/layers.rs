//! The network's shape and the kinds of layer it is made of: what the
//! model reader fills in and the forward pass and its kernels run, so
//! neither needs the other's module.

/// Mel bands of the network's input.
pub const MELS: usize = 96;
/// Frames of one input patch (3 s at 16 kHz with a 256-sample hop).
pub const PATCH_FRAMES: usize = 187;
/// Tags the network scores.
pub const TAG_COUNT: usize = 50;
/// Filters of each timbral (frequency-spanning) convolution.
pub const TIMBRAL_FILTERS: usize = 204;
/// Filters of each temporal (time-only) convolution.
pub const TEMPORAL_FILTERS: usize = 51;
/// Channels of the front end: two timbral and three temporal blocks.
pub const FRONT_CHANNELS: usize = 2 * TIMBRAL_FILTERS + 3 * TEMPORAL_FILTERS;
/// Filters of each mid-end convolution.
pub const MID_FILTERS: usize = 64;
/// Channels pooled over time: the front end and the three mid-end layers.
pub const POOLED_CHANNELS: usize = FRONT_CHANNELS + 3 * MID_FILTERS;
/// Units of the penultimate dense layer.
pub const DENSE_UNITS: usize = 200;
/// Frames each mid-end convolution spans.
pub const MID_KERNEL: usize = 7;
/// Mel bands spanned by the two timbral kernels (0.4 and 0.7 of the bands, as musicnn sizes them).
pub const TIMBRAL_BANDS: [usize; 2] = [38, 67];
/// Frames spanned by the three temporal kernels.
pub const TEMPORAL_FRAMES: [usize; 3] = [128, 64, 32];
/// A per-channel affine map: a batch normalisation at inference.
#[derive(Debug, Clone)]
pub struct Affine {
    /// Multiplies each channel.
    pub scale: Vec<f32>,
    /// Then added.
    pub shift: Vec<f32>,
}

/// A convolution (weights as TensorFlow lays them out: spatial dims, then
/// input channels, then filters) with its bias, a ReLU, then a batch norm.
#[derive(Debug, Clone)]
pub struct ConvBlock {
    /// `[rows of the kernel flattened][filters]`, row-major.
    pub kernel: Vec<f32>,
    /// Rows of the flattened kernel (its spatial size times input channels).
    pub rows: usize,
    /// Per filter.
    pub bias: Vec<f32>,
    /// The batch norm after the ReLU.
    pub norm: Affine,
}

/// A dense layer, `[inputs][outputs]` row-major.
#[derive(Debug, Clone)]
pub struct Dense {
    /// The weights.
    pub weights: Vec<f32>,
    /// Per output.
    pub bias: Vec<f32>,
}
