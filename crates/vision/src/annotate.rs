//! Drawing detections onto images, for `detect --annotate` and the
//! server's annotated video stream.

use image::{Rgb, RgbImage};
use melodora_core::FaceBox;

/// Box colour: a green that stands out on skin and most backgrounds.
const BOX_COLOUR: Rgb<u8> = Rgb([0, 220, 0]);

/// Draws each box as an outline whose thickness grows with the image.
/// Parts of boxes outside the image are clipped.
pub fn draw_boxes(img: &mut RgbImage, boxes: &[FaceBox]) {
    let thickness = (img.width().max(img.height()) / 300).max(2) as i32;
    for b in boxes {
        draw_rect_outline(img, b, thickness, BOX_COLOUR);
    }
}

fn draw_rect_outline(img: &mut RgbImage, b: &FaceBox, thickness: i32, colour: Rgb<u8>) {
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let mut fill = |x0: i64, y0: i64, x1: i64, y1: i64| {
        for y in y0.max(0)..y1.min(ih) {
            for x in x0.max(0)..x1.min(iw) {
                img.put_pixel(x as u32, y as u32, colour);
            }
        }
    };
    let (x, y, w, h, t) = (
        i64::from(b.x),
        i64::from(b.y),
        i64::from(b.w),
        i64::from(b.h),
        i64::from(thickness),
    );
    fill(x, y, x + w, y + t); // top
    fill(x, y + h - t, x + w, y + h); // bottom
    fill(x, y, x + t, y + h); // left
    fill(x + w - t, y, x + w, y + h); // right
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_is_drawn_and_inside_is_untouched() {
        let mut img = RgbImage::new(50, 50);
        draw_boxes(&mut img, &[FaceBox::new(10, 10, 20, 20)]);
        assert_eq!(*img.get_pixel(10, 10), BOX_COLOUR);
        assert_eq!(*img.get_pixel(29, 20), BOX_COLOUR);
        assert_eq!(*img.get_pixel(20, 20), Rgb([0, 0, 0]));
    }

    #[test]
    fn boxes_outside_the_image_are_clipped() {
        let mut img = RgbImage::new(10, 10);
        draw_boxes(
            &mut img,
            &[FaceBox::new(-5, -5, 100, 100), FaceBox::new(500, 500, 5, 5)],
        );
        assert_eq!(*img.get_pixel(0, 5), Rgb([0, 0, 0]));
    }
}
