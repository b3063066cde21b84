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

/// Crops `face` enlarged by `margin` (as [`crop_face`]) from `img` turned
/// about the face's centre so that the eyes are level: `eyes` are the
/// image-left and image-right eye (a CNN detector's keypoints), and the
/// crop is rotated by the angle of the line between them. Pixels that fall
/// outside the image repeat its edge. `None` for an empty box.
///
/// The emotion network learnt upright faces (FER2013 is aligned); a head
/// tilted 30 degrees reads far worse unless it is levelled first.
pub fn crop_face_level(
    img: &GrayImage,
    face: &FaceBox,
    eyes: ((f32, f32), (f32, f32)),
    margin: f32,
) -> Option<GrayImage> {
    let margin = if margin.is_finite() {
        margin.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let w = (face.w as f32 * (1.0 + 2.0 * margin)).round() as usize;
    let h = (face.h as f32 * (1.0 + 2.0 * margin)).round() as usize;
    if w == 0 || h == 0 || img.width() == 0 || img.height() == 0 {
        return None;
    }
    let ((lx, ly), (rx, ry)) = eyes;
    let angle = (ry - ly).atan2(rx - lx);
    if !angle.is_finite() {
        return crop_face(img, face, margin);
    }
    let (sin, cos) = angle.sin_cos();
    let cx = face.x as f32 + face.w as f32 / 2.0;
    let cy = face.y as f32 + face.h as f32 / 2.0;
    let (max_x, max_y) = ((img.width() - 1) as f32, (img.height() - 1) as f32);
    let mut pixels = Vec::with_capacity(w * h);
    for v in 0..h {
        let dv = v as f32 + 0.5 - h as f32 / 2.0;
        for u in 0..w {
            let du = u as f32 + 0.5 - w as f32 / 2.0;
            // The crop's (du, dv), turned by the eyes' angle, in the image.
            let sx = (cx + du * cos - dv * sin - 0.5).clamp(0.0, max_x);
            let sy = (cy + du * sin + dv * cos - 0.5).clamp(0.0, max_y);
            let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
            let (x1, y1) = (
                (x0 + 1).min(img.width() - 1),
                (y0 + 1).min(img.height() - 1),
            );
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let at = |x: usize, y: usize| img.row(y)[x] as f32;
            let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
            let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
            pixels.push((top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8);
        }
    }
    GrayImage::from_pixels(w, h, pixels)
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

#[cfg(test)]
mod level_tests {
    use super::*;

    /// A frame with a bright bar along the line from (20, 20) to (44, 44):
    /// levelled with "eyes" on that line, the bar runs across the crop's
    /// middle row.
    #[test]
    fn a_tilted_line_between_the_eyes_comes_out_level() {
        let mut pixels = vec![0u8; 64 * 64];
        for t in 0..=240 {
            let p = 20.0 + t as f32 * 0.1;
            pixels[p.round() as usize * 64 + p.round() as usize] = 255;
        }
        let img = GrayImage::from_pixels(64, 64, pixels).unwrap();
        let face = FaceBox::new(16, 16, 32, 32);
        let level = crop_face_level(&img, &face, ((20.0, 20.0), (44.0, 44.0)), 0.0).unwrap();
        assert_eq!((level.width(), level.height()), (32, 32));
        let row_sum = |y: usize| level.row(y).iter().map(|&v| v as u32).sum::<u32>();
        let brightest = (0..32).max_by_key(|&y| row_sum(y)).unwrap();
        assert!(
            (15..=16).contains(&brightest),
            "the bar is on row {brightest}"
        );
        assert!(row_sum(brightest) > 20 * 100, "and runs across it");
        let unturned = crop_face_level(&img, &face, ((20.0, 30.0), (44.0, 30.0)), 0.0).unwrap();
        assert_eq!(
            unturned.pixels(),
            crop_face(&img, &face, 0.0).unwrap().pixels(),
            "level eyes: the plain crop"
        );
        assert!(crop_face_level(
            &img,
            &FaceBox::new(0, 0, 0, 0),
            ((0.0, 0.0), (1.0, 0.0)),
            0.0
        )
        .is_none());
    }
}
