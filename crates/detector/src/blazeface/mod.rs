//! BlazeFace, MediaPipe's CNN face detector: a box and six keypoints (eyes,
//! nose tip, mouth, ears) per face, for turned heads and dim rooms where a
//! Haar cascade sees nothing. Two models: short range (128x128, faces near
//! the camera) and full range (192x192, faces across a room), both read from
//! the files MediaPipe ships (`assets/blazeface/`, embedded).
//!
//! ```text
//! RGB image ─ letterbox to the model's square, x/127.5 - 1 ─ the model
//!   ─ 16 offsets + 1 score per anchor ─ decode against the anchor grid
//!   ─ sigmoid, keep ≥ min_score ─ weighted non-maximum suppression
//!   ─ back to image pixels (letterbox removed)
//! ```
//!
//! The model runs compiled ([`CompiledGraph`]: packed weights, fused
//! operators, vectorisable kernels), tested against the reference run
//! ([`crate::tflite::interpret`]), which is tested against TFLite's own.

mod anchors;
mod suppression;

use anchors::{anchors, Anchor, AnchorOptions};
use suppression::{overlap_area, weighted_suppression};

use crate::tflite::{CompiledGraph, TfliteError, TfliteModel};

/// MediaPipe's short-range model, embedded (licence: `assets/blazeface/`).
pub const SHORT_RANGE_TFLITE: &[u8] =
    include_bytes!("../../../../assets/blazeface/face_detection_short_range.tflite");
/// MediaPipe's full-range model, embedded.
pub const FULL_RANGE_TFLITE: &[u8] =
    include_bytes!("../../../../assets/blazeface/face_detection_full_range.tflite");

/// Which of MediaPipe's two face detection models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// 128x128 input, faces within about 2 m of the camera.
    Short,
    /// 192x192 input, faces within about 5 m.
    Full,
}

impl Range {
    /// The model's file name, as MediaPipe ships it (and pages load it).
    pub fn model_file(self) -> &'static str {
        match self {
            Range::Short => "face_detection_short_range.tflite",
            Range::Full => "face_detection_full_range.tflite",
        }
    }

    /// The embedded model (`assets/blazeface/`).
    pub fn embedded_model(self) -> &'static [u8] {
        match self {
            Range::Short => SHORT_RANGE_TFLITE,
            Range::Full => FULL_RANGE_TFLITE,
        }
    }
}

/// A face BlazeFace found, in the image's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceDetection {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
    /// How sure the model is, 0 to 1.
    pub score: f32,
    /// Right eye, left eye, nose tip, mouth centre, right ear, left ear
    /// (the subject's right and left), as `(x, y)`.
    pub keypoints: [(f32, f32); 6],
}

/// Why an image could not be searched for faces.
#[derive(Debug, thiserror::Error)]
pub enum BlazeFaceError {
    /// The model could not be read or run.
    #[error(transparent)]
    Model(#[from] TfliteError),
    /// The pixels do not make an image of the size given.
    #[error(
        "{got} bytes for a {width}x{height} image of {channels} channel(s) (expected {expected})"
    )]
    BadImage {
        /// Bytes given.
        got: usize,
        /// Bytes an image of that size has.
        expected: usize,
        /// Width given.
        width: usize,
        /// Height given.
        height: usize,
        /// Channels per pixel (3: RGB, 1: gray).
        channels: usize,
    },
}

/// A BlazeFace model with its anchors and thresholds.
#[derive(Debug, Clone)]
pub struct BlazeFace {
    graph: std::sync::Arc<CompiledGraph>,
    /// The same model compiled for gray images (its first convolution on
    /// one channel: a third of its work).
    gray_graph: std::sync::Arc<CompiledGraph>,
    range: Range,
    side: usize,
    anchors: Vec<Anchor>,
    /// Faces scoring below this are dropped (MediaPipe: 0.5 short, 0.6 full).
    pub min_score: f32,
    /// Overlap (IoU) above which two detections are one face (MediaPipe: 0.3).
    pub min_suppression_iou: f32,
}

/// Share of a face's box that, lying inside a larger face's box, makes it
/// a part of that face (in a zoomed search).
const NESTED_SHARE: f32 = 0.7;

/// MediaPipe clips the score logit to this before the sigmoid.
const SCORE_CLIP: f32 = 100.0;

impl BlazeFace {
    /// The embedded model of `range`, with MediaPipe's settings.
    pub fn new(range: Range) -> BlazeFace {
        let model = TfliteModel::parse(range.embedded_model())
            .expect("the embedded models read (tests/tflite_models.rs)");
        BlazeFace::with_model(model, range).expect("the embedded models are BlazeFace (tests)")
    }

    /// A model of `range` from its bytes (a page's copy, say), with
    /// MediaPipe's settings: an error naming what is wrong when the bytes
    /// are not a TFLite model or not BlazeFace.
    pub fn from_tflite(bytes: &[u8], range: Range) -> Result<BlazeFace, BlazeFaceError> {
        BlazeFace::with_model(TfliteModel::parse(bytes)?, range)
    }

    /// `model` (a BlazeFace of `range`, e.g. read from a file) with
    /// MediaPipe's settings; an error when its input or outputs are not
    /// BlazeFace's.
    pub fn with_model(model: TfliteModel, range: Range) -> Result<BlazeFace, BlazeFaceError> {
        let (side, options, min_score) = match range {
            Range::Short => (
                128,
                AnchorOptions {
                    input_size: 128,
                    strides: &[8, 16, 16, 16],
                    interpolated: true,
                },
                0.5,
            ),
            Range::Full => (
                192,
                AnchorOptions {
                    input_size: 192,
                    strides: &[4],
                    interpolated: false,
                },
                0.6,
            ),
        };
        let anchors = anchors(&options);
        let input_ok =
            model.inputs.len() == 1 && model.tensors[model.inputs[0]].shape == [1, side, side, 3];
        let mut outputs: Vec<&[usize]> = model
            .outputs
            .iter()
            .map(|&i| model.tensors[i].shape.as_slice())
            .collect();
        outputs.sort();
        let n = anchors.len();
        if !input_ok || outputs != [&[1, n, 1][..], &[1, n, 16][..]] {
            return Err(TfliteError::Unsupported(format!(
                "not a {range:?}-range BlazeFace: input {:?}, outputs {outputs:?}",
                model
                    .inputs
                    .iter()
                    .map(|&i| &model.tensors[i].shape)
                    .collect::<Vec<_>>()
            ))
            .into());
        }
        Ok(BlazeFace {
            gray_graph: std::sync::Arc::new(CompiledGraph::compile_gray(model.clone())?),
            graph: std::sync::Arc::new(CompiledGraph::compile(model)?),
            range,
            side,
            anchors,
            min_score,
            min_suppression_iou: 0.3,
        })
    }

    /// Which model this is.
    pub fn range(&self) -> Range {
        self.range
    }

    /// The faces in an RGB image (`width * height * 3` bytes, row by row),
    /// best first.
    pub fn detect_rgb(
        &self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Vec<FaceDetection>, BlazeFaceError> {
        self.detect(rgb, 3, width, height)
    }

    /// The faces in a gray image (`width * height` bytes): what the RGB
    /// image whose three channels are alike would give (within rounding),
    /// through the graph compiled for one channel.
    pub fn detect_gray(
        &self,
        gray: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Vec<FaceDetection>, BlazeFaceError> {
        self.detect(gray, 1, width, height)
    }

    fn detect(
        &self,
        pixels: &[u8],
        channels: usize,
        width: usize,
        height: usize,
    ) -> Result<Vec<FaceDetection>, BlazeFaceError> {
        let candidates = self.candidates(pixels, channels, width, height)?;
        Ok(weighted_suppression(candidates, self.min_suppression_iou))
    }

    /// The faces in a gray image searched whole and, where the image is
    /// more than twice the model's input across, again in each of its four
    /// quarters (overlapping: each 60 % of the image's width and height)
    /// seen enlarged, all of them merged by the same weighted suppression;
    /// a quarter's face cut by its inner edges, and a face lying mostly
    /// inside a larger one (a part of it, seen enlarged), are dropped.
    /// A face too small for the whole image's pass (under about a fifth of
    /// a 640x480 frame's height for the short-range model) is found in its
    /// quarter; on the project's benchmark the short-range model so finds
    /// 0.89 of webcam-distance faces and 0.77 of faces across a room,
    /// against 0.84 and 0.11 in one pass (`bench/detection.py`,
    /// docs/PERFORMANCE.md). Five runs of the model instead of one.
    pub fn detect_gray_zoomed(
        &self,
        gray: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Vec<FaceDetection>, BlazeFaceError> {
        let mut candidates = self.candidates(gray, 1, width, height)?;
        if width.max(height) > 2 * self.side {
            let (tile_w, tile_h) = (width * 3 / 5, height * 3 / 5);
            for (left, top) in [
                (0, 0),
                (width - tile_w, 0),
                (0, height - tile_h),
                (width - tile_w, height - tile_h),
            ] {
                let mut tile = Vec::with_capacity(tile_w * tile_h);
                for row in gray[top * width..].chunks_exact(width).take(tile_h) {
                    tile.extend_from_slice(&row[left..left + tile_w]);
                }
                // A face the quarter cuts (its box reaching past an edge
                // of the quarter inside the image by more than a tenth of
                // its size) is whole in another pass; its cut part would be
                // a second, wrong face.
                let (tw, th) = (tile_w as f32, tile_h as f32);
                let cut = |d: &FaceDetection| {
                    let (sx, sy) = (d.w * 0.1, d.h * 0.1);
                    (d.x < -sx && left > 0)
                        || (d.y < -sy && top > 0)
                        || (d.x + d.w > tw + sx && left + tile_w < width)
                        || (d.y + d.h > th + sy && top + tile_h < height)
                };
                let (dx, dy) = (left as f32, top as f32);
                candidates.extend(
                    self.candidates(&tile, 1, tile_w, tile_h)?
                        .into_iter()
                        .filter(|d| !cut(d))
                        .map(|d| FaceDetection {
                            x: d.x + dx,
                            y: d.y + dy,
                            keypoints: d.keypoints.map(|(x, y)| (x + dx, y + dy)),
                            ..d
                        }),
                );
            }
        }
        // A part of a large face, seen enlarged in a quarter, can pass for
        // a small face of its own: a face lying mostly inside a larger one
        // is that.
        let faces = weighted_suppression(candidates, self.min_suppression_iou);
        let inside_larger = |face: &FaceDetection| {
            faces.iter().any(|outer| {
                outer.w * outer.h > face.w * face.h
                    && overlap_area(outer, face) >= NESTED_SHARE * face.w * face.h
            })
        };
        Ok(faces
            .iter()
            .filter(|f| !inside_larger(f))
            .copied()
            .collect())
    }

    /// Every anchor's face scoring at least `min_score` in an image (before
    /// suppression), in the image's pixels.
    fn candidates(
        &self,
        pixels: &[u8],
        channels: usize,
        width: usize,
        height: usize,
    ) -> Result<Vec<FaceDetection>, BlazeFaceError> {
        let expected = width * height * channels;
        if pixels.len() != expected || width == 0 || height == 0 {
            return Err(BlazeFaceError::BadImage {
                got: pixels.len(),
                expected,
                width,
                height,
                channels,
            });
        }
        let letterbox = Letterbox::new(width, height, self.side);
        let input = letterbox.tensor(pixels, channels, width, height);
        let graph = if channels == 1 {
            &self.gray_graph
        } else {
            &self.graph
        };
        let mut outputs = graph.run(&input)?;
        // The regressors (16 per anchor) are the larger output.
        outputs.sort_by_key(|o| std::cmp::Reverse(o.len()));
        let (regressors, scores) = (&outputs[0], &outputs[1]);
        Ok(self
            .decode(regressors, scores)
            .into_iter()
            .map(|d| letterbox.to_image(d))
            .collect())
    }

    /// Every anchor's face scoring at least `min_score`, in the input's unit square.
    fn decode(&self, regressors: &[f32], scores: &[f32]) -> Vec<FaceDetection> {
        let scale = self.side as f32;
        let mut found = Vec::new();
        for (i, anchor) in self.anchors.iter().enumerate() {
            let score = 1.0 / (1.0 + (-scores[i].clamp(-SCORE_CLIP, SCORE_CLIP)).exp());
            if score < self.min_score || !score.is_finite() {
                continue;
            }
            let r = &regressors[i * 16..i * 16 + 16];
            // Offsets in input pixels from the anchor's centre (anchors are 1 wide).
            let (cx, cy) = (anchor.x + r[0] / scale, anchor.y + r[1] / scale);
            let (w, h) = (r[2] / scale, r[3] / scale);
            let mut keypoints = [(0.0, 0.0); 6];
            for (k, point) in keypoints.iter_mut().enumerate() {
                *point = (
                    anchor.x + r[4 + 2 * k] / scale,
                    anchor.y + r[5 + 2 * k] / scale,
                );
            }
            found.push(FaceDetection {
                x: cx - w / 2.0,
                y: cy - h / 2.0,
                w,
                h,
                score,
                keypoints,
            });
        }
        found
    }
}

/// How an image sits in the model's square input: scaled to fit, centred,
/// the rest padded (MediaPipe keeps the aspect ratio the same way).
struct Letterbox {
    side: usize,
    /// Input pixels per image pixel.
    scale: f32,
    /// Where the image starts in the input, in input pixels.
    left: f32,
    top: f32,
}

impl Letterbox {
    fn new(width: usize, height: usize, side: usize) -> Letterbox {
        let scale = side as f32 / width.max(height) as f32;
        Letterbox {
            side,
            scale,
            left: (side as f32 - width as f32 * scale) / 2.0,
            top: (side as f32 - height as f32 * scale) / 2.0,
        }
    }

    /// The model's input: the image resampled bilinearly into its place
    /// as MediaPipe's CPU path does (OpenCV's `warpAffine`: input pixel
    /// `(x, y)` reads the image at `((x - left) / scale, (y - top) / scale)`,
    /// corners aligned, black beyond the edges), scaled to [-1, 1].
    /// `pixels` has 3 channels (RGB) or 1 (gray: the tensor then has one
    /// channel too, for the graph compiled for gray images).
    fn tensor(&self, pixels: &[u8], channels: usize, width: usize, height: usize) -> Vec<f32> {
        let side = self.side;
        let depth = if channels == 1 { 1 } else { 3 };
        let mut out = vec![0f32; side * side * depth];
        // The two source rows (or columns) a coordinate reads, and their
        // weights; a neighbour past the edge reads black (weight 0).
        let taps = |at: f32, len: usize| -> [(usize, f32); 2] {
            let low = at.floor();
            let f = at - low;
            let tap = |i: f32, weight: f32| {
                if i >= 0.0 && i < len as f32 {
                    (i as usize, weight)
                } else {
                    (0, 0.0)
                }
            };
            [tap(low, 1.0 - f), tap(low + 1.0, f)]
        };
        // Worked out once per column, used by every row.
        let columns: Vec<[(usize, f32); 2]> = (0..side)
            .map(|ox| taps((ox as f32 - self.left) / self.scale, width))
            .collect();
        for (oy, out_row) in out.chunks_exact_mut(side * depth).enumerate() {
            let rows = taps((oy as f32 - self.top) / self.scale, height);
            if rows.iter().all(|&(_, w)| w == 0.0) {
                out_row.fill(-1.0);
                continue;
            }
            for (cols, value) in columns.iter().zip(out_row.chunks_exact_mut(depth)) {
                let sample = |c: usize| {
                    let mut sum = 0.0;
                    for &(y, wy) in &rows {
                        for &(x, wx) in cols {
                            sum += wy * wx * pixels[(y * width + x) * channels + c] as f32;
                        }
                    }
                    sum / 127.5 - 1.0
                };
                for (c, v) in value.iter_mut().enumerate() {
                    *v = sample(c);
                }
            }
        }
        out
    }

    /// A detection in the unit square of the input, in image pixels.
    fn to_image(&self, d: FaceDetection) -> FaceDetection {
        let side = self.side as f32;
        let point = |(x, y): (f32, f32)| {
            (
                (x * side - self.left) / self.scale,
                (y * side - self.top) / self.scale,
            )
        };
        let (x, y) = point((d.x, d.y));
        FaceDetection {
            x,
            y,
            w: d.w * side / self.scale,
            h: d.h * side / self.scale,
            score: d.score,
            keypoints: d.keypoints.map(point),
        }
    }
}
