//! 8-bit grayscale images: what the detector scans and the classifier
//! crops faces from. Decoding files is `melodora-vision`'s job; with the
//! `image` feature this type also converts a decoded image, OpenCV's way.

/// An owned 8-bit grayscale image, row-major with no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct GrayImage {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for GrayImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrayImage({}x{})", self.width, self.height)
    }
}

impl GrayImage {
    /// Wraps pixels; `None` if their count is not `width * height`.
    pub fn from_pixels(width: usize, height: usize, pixels: Vec<u8>) -> Option<Self> {
        (width.checked_mul(height) == Some(pixels.len())).then_some(Self {
            width,
            height,
            pixels,
        })
    }

    /// A black image of the given size.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![0; width * height],
        }
    }

    /// Converts any decoded image to gray exactly as OpenCV's
    /// `cvtColor(BGR2GRAY)` does for 8-bit data, so that detections match
    /// OpenCV's on the same file. Alpha is ignored, as `imread` drops it.
    #[cfg(feature = "image")]
    pub fn from_dynamic(img: &image::DynamicImage) -> Self {
        match img {
            image::DynamicImage::ImageLuma8(g) => Self {
                width: g.width() as usize,
                height: g.height() as usize,
                pixels: g.as_raw().clone(),
            },
            other => {
                let rgb = other.to_rgb8();
                let pixels = rgb
                    .as_raw()
                    .chunks_exact(3)
                    .map(|p| rgb_to_gray(p[0], p[1], p[2]))
                    .collect();
                Self {
                    width: rgb.width() as usize,
                    height: rgb.height() as usize,
                    pixels,
                }
            }
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// All pixels, row after row.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// One row of pixels.
    pub fn row(&self, y: usize) -> &[u8] {
        &self.pixels[y * self.width..(y + 1) * self.width]
    }

    /// Copies out the rectangle `[x0, x0+w) x [y0, y0+h)`, which must lie
    /// inside the image.
    pub fn crop(&self, x0: usize, y0: usize, w: usize, h: usize) -> GrayImage {
        assert!(
            x0 + w <= self.width && y0 + h <= self.height,
            "crop outside image"
        );
        let mut pixels = Vec::with_capacity(w * h);
        for y in y0..y0 + h {
            pixels.extend_from_slice(&self.row(y)[x0..x0 + w]);
        }
        GrayImage {
            width: w,
            height: h,
            pixels,
        }
    }

    pub(crate) fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.pixels
    }
}

/// OpenCV 4.x's fixed-point luma for 8-bit data (weights 0.299, 0.587,
/// 0.114 in 15-bit fixed point): Y = (9798 R + 19235 G + 3735 B + 2^14) >> 15.
/// Checked against `cv2.cvtColor(BGR2GRAY)` on all 2^24 colours.
pub fn rgb_to_gray(r: u8, g: u8, b: u8) -> u8 {
    const R2Y: u32 = 9798;
    const G2Y: u32 = 19235;
    const B2Y: u32 = 3735;
    ((u32::from(r) * R2Y + u32::from(g) * G2Y + u32::from(b) * B2Y + (1 << 14)) >> 15) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_weights_match_opencv_on_primaries() {
        // Values computed with cv2.cvtColor on single pixels.
        assert_eq!(rgb_to_gray(255, 0, 0), 76);
        assert_eq!(rgb_to_gray(0, 255, 0), 150);
        assert_eq!(rgb_to_gray(0, 0, 255), 29);
        assert_eq!(rgb_to_gray(255, 255, 255), 255);
        assert_eq!(rgb_to_gray(0, 0, 0), 0);
        assert_eq!(rgb_to_gray(17, 200, 99), 134);
        assert_eq!(rgb_to_gray(3, 7, 250), 34);
    }

    #[test]
    fn from_pixels_checks_length() {
        assert!(GrayImage::from_pixels(2, 2, vec![0; 4]).is_some());
        assert!(GrayImage::from_pixels(2, 2, vec![0; 5]).is_none());
        assert!(GrayImage::from_pixels(usize::MAX, 2, vec![]).is_none());
    }

    #[test]
    fn crop_copies_the_rectangle() {
        let img = GrayImage::from_pixels(3, 2, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let c = img.crop(1, 0, 2, 2);
        assert_eq!(c.pixels(), &[2, 3, 5, 6]);
    }
}
