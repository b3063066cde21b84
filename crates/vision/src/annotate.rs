//! Drawing detections onto images, for `detect --annotate` and the
//! server's annotated video stream.

use font8x8::{UnicodeFonts, BASIC_FONTS};
use image::{Rgb, RgbImage};
use melodora_core::FaceBox;

/// Box colour: a green that stands out on skin and most backgrounds.
const BOX_COLOUR: Rgb<u8> = Rgb([0, 220, 0]);
const LABEL_BACKGROUND: Rgb<u8> = Rgb([0, 0, 0]);

fn thickness_for(img: &RgbImage) -> i32 {
    (img.width().max(img.height()) / 300).max(2) as i32
}

/// Draws each box as an outline whose thickness grows with the image.
/// Parts of boxes outside the image are clipped.
pub fn draw_boxes(img: &mut RgbImage, boxes: &[FaceBox]) {
    let thickness = thickness_for(img);
    for b in boxes {
        draw_rect_outline(img, b, thickness, BOX_COLOUR);
    }
}

/// Draws boxes with an optional text label (e.g. "happy 0.91") above each,
/// or inside its top edge when there is no room above. Text uses an 8x8
/// bitmap font (ASCII; other characters are drawn as '?').
pub fn draw_labelled_boxes(img: &mut RgbImage, faces: &[(FaceBox, Option<String>)]) {
    let thickness = thickness_for(img);
    let scale = (thickness / 2).max(1) as i64 + 1;
    for (b, label) in faces {
        draw_rect_outline(img, b, thickness, BOX_COLOUR);
        if let Some(text) = label {
            let h = 8 * scale + 2 * scale;
            let y = if i64::from(b.y) >= h {
                i64::from(b.y) - h
            } else {
                i64::from(b.y) + i64::from(thickness)
            };
            draw_text(img, i64::from(b.x), y, text, scale);
        }
    }
}

fn draw_text(img: &mut RgbImage, x: i64, y: i64, text: &str, scale: i64) {
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let mut put = |px: i64, py: i64, c: Rgb<u8>| {
        if (0..iw).contains(&px) && (0..ih).contains(&py) {
            img.put_pixel(px as u32, py as u32, c);
        }
    };
    let chars: Vec<char> = text.chars().take(64).collect();
    let (w, h) = (chars.len() as i64 * 8 * scale + 2 * scale, 10 * scale);
    for py in y..y + h {
        for px in x..x + w {
            put(px, py, LABEL_BACKGROUND);
        }
    }
    for (i, ch) in chars.iter().enumerate() {
        let glyph = BASIC_FONTS
            .get(*ch)
            .or_else(|| BASIC_FONTS.get('?'))
            .unwrap_or([0; 8]);
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    let gx = x + scale + (i as i64 * 8 + col) * scale;
                    let gy = y + scale + row as i64 * scale;
                    for dy in 0..scale {
                        for dx in 0..scale {
                            put(gx + dx, gy + dy, BOX_COLOUR);
                        }
                    }
                }
            }
        }
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
    fn labels_are_drawn_above_the_box() {
        let mut img = RgbImage::new(200, 200);
        draw_labelled_boxes(
            &mut img,
            &[(FaceBox::new(50, 100, 60, 60), Some("happy 0.91".into()))],
        );
        let text_pixels = (0..100)
            .flat_map(|y| (0..200).map(move |x| (x, y)))
            .filter(|&(x, y)| *img.get_pixel(x, y) == BOX_COLOUR)
            .count();
        assert!(
            text_pixels > 50,
            "label glyphs drawn above the box: {text_pixels}"
        );
        // Hostile or non-ASCII text neither panics nor escapes the image.
        draw_labelled_boxes(
            &mut img,
            &[(
                FaceBox::new(190, 0, 60, 60),
                Some("<img>\u{1F600}".repeat(50)),
            )],
        );
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
