//! From a detected face to the model's input tensor: crop with a margin,
//! resize to the model's size, normalise, lay out.

use image::imageops::{resize, FilterType};
use melodora_core::FaceBox;

use crate::description::{Layout, ModelDescription};
use melodora_core::{resize_linear_exact, GrayImage};

/// Crops `face` enlarged by `margin` (a fraction of its width/height added on
/// every side), clamped to the image. `None` if nothing of it is inside.
pub fn crop_face(img: &GrayImage, face: &FaceBox, margin: f32) -> Option<GrayImage> {
    let margin = if margin.is_finite() {
        margin.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let dx = (face.w as f32 * margin).round() as i64;
    let dy = (face.h as f32 * margin).round() as i64;
    let x0 = (i64::from(face.x) - dx).max(0);
    let y0 = (i64::from(face.y) - dy).max(0);
    let x1 = (i64::from(face.x) + i64::from(face.w) + dx).min(img.width() as i64);
    let y1 = (i64::from(face.y) + i64::from(face.h) + dy).min(img.height() as i64);
    (x1 > x0 && y1 > y0).then(|| {
        img.crop(
            x0 as usize,
            y0 as usize,
            (x1 - x0) as usize,
            (y1 - y0) as usize,
        )
    })
}

/// Resizes a face crop to `w` x `h`: OpenCV-compatible bilinear when
/// enlarging (as FER pipelines built on `cv2.resize` do), area-weighted
/// (triangle filter) when shrinking, so large faces are not aliased.
pub fn resize_face(face: &GrayImage, w: usize, h: usize) -> GrayImage {
    if face.width() == w && face.height() == h {
        return face.clone();
    }
    if w >= face.width() && h >= face.height() {
        return resize_linear_exact(face, w, h);
    }
    let buf = image::GrayImage::from_raw(
        face.width() as u32,
        face.height() as u32,
        face.pixels().to_vec(),
    )
    .expect("GrayImage holds width*height pixels");
    let out = resize(&buf, w as u32, h as u32, FilterType::Triangle);
    GrayImage::from_pixels(w, h, out.into_raw()).expect("resize returns w*h pixels")
}

/// The model input for a batch of faces: each resized, normalised as the
/// description says and laid out (NCHW or NHWC, gray replicated to 3
/// channels if asked). Returns the flat buffer and its shape.
pub fn input_tensor(faces: &[GrayImage], desc: &ModelDescription) -> (Vec<f32>, [usize; 4]) {
    let (w, h, c) = (
        desc.input.width as usize,
        desc.input.height as usize,
        desc.input.channels as usize,
    );
    let n = faces.len();
    let norm = desc.normalization;
    let value = |p: u8| norm.apply(f32::from(p));
    let mut data = Vec::with_capacity(n * c * h * w);
    for face in faces {
        let resized = resize_face(face, w, h);
        match desc.input.layout {
            Layout::Nchw => {
                for _ in 0..c {
                    data.extend(resized.pixels().iter().map(|&p| value(p)));
                }
            }
            Layout::Nhwc => {
                for &p in resized.pixels() {
                    let v = value(p);
                    data.extend(std::iter::repeat_n(v, c));
                }
            }
        }
    }
    let shape = match desc.input.layout {
        Layout::Nchw => [n, c, h, w],
        Layout::Nhwc => [n, h, w, c],
    };
    (data, shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::{InputSpec, Normalization, OutputKind};

    fn desc(w: u32, h: u32, channels: u32, layout: Layout) -> ModelDescription {
        ModelDescription {
            name: None,
            input: InputSpec {
                width: w,
                height: h,
                channels,
                layout,
            },
            normalization: Normalization {
                scale: 255.0,
                mean: 0.5,
                std: 0.25,
            },
            labels: vec!["happy".into()],
            output: OutputKind::Logits,
        }
    }

    #[test]
    fn known_image_gives_known_tensor() {
        let face = GrayImage::from_pixels(2, 2, vec![0, 51, 204, 255]).unwrap();
        let (data, shape) = input_tensor(std::slice::from_ref(&face), &desc(2, 2, 1, Layout::Nchw));
        assert_eq!(shape, [1, 1, 2, 2]);
        // (p / 255 - 0.5) / 0.25
        let expect = [-2.0, -1.2, 1.2, 2.0];
        for (a, b) in data.iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{data:?}");
        }
        let (rgb, shape) = input_tensor(&[face], &desc(2, 2, 3, Layout::Nhwc));
        assert_eq!(shape, [1, 2, 2, 3]);
        assert_eq!(rgb.len(), 12);
        assert!((rgb[3] - -1.2).abs() < 1e-6 && (rgb[5] - -1.2).abs() < 1e-6);
    }

    #[test]
    fn batches_concatenate_faces() {
        let a = GrayImage::from_pixels(1, 1, vec![0]).unwrap();
        let b = GrayImage::from_pixels(1, 1, vec![255]).unwrap();
        let (data, shape) = input_tensor(&[a, b], &desc(1, 1, 1, Layout::Nchw));
        assert_eq!(shape, [2, 1, 1, 1]);
        assert_eq!(data, vec![-2.0, 2.0]);
    }

    #[test]
    fn crop_adds_margin_and_clamps() {
        let img = GrayImage::new(100, 80);
        let c = crop_face(&img, &FaceBox::new(10, 10, 40, 40), 0.1).unwrap();
        assert_eq!((c.width(), c.height()), (48, 48));
        let edge = crop_face(&img, &FaceBox::new(80, 60, 40, 40), 0.25).unwrap();
        assert_eq!((edge.width(), edge.height()), (30, 30));
        assert!(crop_face(&img, &FaceBox::new(200, 200, 10, 10), 0.0).is_none());
    }

    #[test]
    fn resize_handles_both_directions() {
        let img = GrayImage::from_pixels(4, 4, (0..16).map(|v| v * 10).collect()).unwrap();
        assert_eq!(resize_face(&img, 8, 8).width(), 8);
        let small = resize_face(&img, 2, 2);
        assert_eq!((small.width(), small.height()), (2, 2));
        assert_eq!(resize_face(&img, 4, 4), img);
    }
}
