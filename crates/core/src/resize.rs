//! Bit-exact bilinear downscaling, reproducing OpenCV's `INTER_LINEAR_EXACT`
//! for 8-bit single-channel images.
//!
//! OpenCV's cascade detector builds its image pyramid with this resize, and a
//! single grey level of difference can flip a weak classifier, so matching
//! OpenCV box for box needs the same arithmetic: coefficients in 8.8 fixed
//! point (rounded half to even from double), a horizontal pass in u16 and a
//! vertical pass in u32 with rounding.

use crate::GrayImage;

/// Fixed-point interpolation table along one axis.
struct AxisTable {
    /// First source index for each destination index (interior only).
    offsets: Vec<usize>,
    /// Weights (of `offsets[i]`, `offsets[i] + 1`) summing to 256.
    coeffs: Vec<[u16; 2]>,
    /// Destination indices below this copy the first source sample.
    min: usize,
    /// Destination indices from this on copy the last source sample.
    max: usize,
}

impl AxisTable {
    fn new(src_len: usize, dst_len: usize) -> Self {
        let inv_scale = dst_len as f64 / src_len as f64;
        let scale = 1.0 / inv_scale;
        let mut offsets = vec![0; dst_len];
        let mut coeffs = vec![[256, 0]; dst_len];
        let (mut min, mut max) = (0, dst_len);
        for val in 0..dst_len {
            let fval = scale * (val as f64 + 0.5) - 0.5;
            let ival = fval.floor();
            if ival >= 0.0 && src_len > 1 {
                let i = ival as usize;
                if i < src_len - 1 {
                    offsets[val] = i;
                    let c1 = ((fval - ival) * 256.0).round_ties_even() as u16;
                    coeffs[val] = [256 - c1, c1];
                } else {
                    offsets[val] = src_len - 1;
                    max = max.min(val);
                }
            } else {
                min = min.max(val + 1);
            }
        }
        Self {
            offsets,
            coeffs,
            min: min.min(max),
            max,
        }
    }
}

/// Horizontal pass of one source row into 8.8 fixed point.
fn resize_row(src: &[u8], table: &AxisTable, out: &mut [u16]) {
    let first = u16::from(src[0]) << 8;
    let last = u16::from(src[src.len() - 1]) << 8;
    out[..table.min].fill(first);
    let interior = table.min..table.max;
    for ((d, &o), &[c0, c1]) in out[interior.clone()]
        .iter_mut()
        .zip(&table.offsets[interior.clone()])
        .zip(&table.coeffs[interior])
    {
        *d = c0 * u16::from(src[o]) + c1 * u16::from(src[o + 1]);
    }
    out[table.max..].fill(last);
}

/// Resizes `src` to `dst_w` x `dst_h` exactly as OpenCV's
/// `resize(..., INTER_LINEAR_EXACT)` does. Both sizes must be non-zero.
pub fn resize_linear_exact(src: &GrayImage, dst_w: usize, dst_h: usize) -> GrayImage {
    let mut dst = GrayImage::new(dst_w, dst_h);
    resize_linear_exact_into(src, &mut dst);
    dst
}

/// As [`resize_linear_exact`], writing into an existing image (whose size is
/// the target size) so that pyramid levels can reuse their buffers.
pub fn resize_linear_exact_into(src: &GrayImage, dst: &mut GrayImage) {
    let (dst_w, dst_h) = (dst.width(), dst.height());
    assert!(src.width() > 0 && src.height() > 0 && dst_w > 0 && dst_h > 0);
    let xt = AxisTable::new(src.width(), dst_w);
    let yt = AxisTable::new(src.height(), dst_h);

    // Two cached horizontally-resized rows: (source row index, data).
    let mut rows: [(usize, Vec<u16>); 2] =
        [(usize::MAX, vec![0; dst_w]), (usize::MAX, vec![0; dst_w])];
    let fetch = |rows: &mut [(usize, Vec<u16>); 2], sy: usize| -> usize {
        if let Some(slot) = rows.iter().position(|(idx, _)| *idx == sy) {
            return slot;
        }
        // Evict the slot holding the lower row: rows are visited in order.
        let slot = if rows[0].0 == usize::MAX || (rows[1].0 != usize::MAX && rows[0].0 < rows[1].0)
        {
            0
        } else {
            1
        };
        rows[slot].0 = sy;
        resize_row(src.row(sy), &xt, &mut rows[slot].1);
        slot
    };

    let out = dst.pixels_mut();
    for dy in 0..dst_h {
        let line = &mut out[dy * dst_w..(dy + 1) * dst_w];
        if dy < yt.min || dy >= yt.max {
            let sy = if dy < yt.min { 0 } else { src.height() - 1 };
            let slot = fetch(&mut rows, sy);
            for (d, &h) in line.iter_mut().zip(&rows[slot].1) {
                *d = ((u32::from(h) + 128) >> 8) as u8;
            }
        } else {
            let sy = yt.offsets[dy];
            let [c0, c1] = yt.coeffs[dy];
            let a = fetch(&mut rows, sy);
            let b = fetch(&mut rows, sy + 1);
            let (r0, r1) = (&rows[a].1, &rows[b].1);
            for ((d, &h0), &h1) in line.iter_mut().zip(r0).zip(r1) {
                let v = u32::from(h0) * u32::from(c0) + u32::from(h1) * u32::from(c1);
                *d = ((v + (1 << 15)) >> 16) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_size_copies() {
        let src = GrayImage::from_pixels(3, 2, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(resize_linear_exact(&src, 3, 2), src);
    }

    #[test]
    fn halving_averages_two_by_two_blocks() {
        // Exact 2x: every output pixel sits between four inputs.
        let src = GrayImage::from_pixels(4, 2, vec![0, 10, 20, 30, 2, 12, 22, 33]).unwrap();
        let dst = resize_linear_exact(&src, 2, 1);
        // (0+10+2+12)/4 = 6, (20+30+22+33)/4 = 26.25 -> 26
        assert_eq!(dst.pixels(), &[6, 26]);
    }

    #[test]
    fn constant_image_stays_constant() {
        let src = GrayImage::from_pixels(17, 13, vec![77; 17 * 13]).unwrap();
        let dst = resize_linear_exact(&src, 9, 5);
        assert!(dst.pixels().iter().all(|&p| p == 77));
    }
}
