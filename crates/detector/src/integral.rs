//! Integral images of one pyramid level, laid out as OpenCV lays them out
//! (one extra leading row and column of zeros), with wrapping 32-bit
//! arithmetic like OpenCV's `CV_32S` sums: window differences stay exact as
//! long as the window's own sum fits, whatever the image size.

use melodora_core::GrayImage;

/// Entries past the last row of every table: the scanner reads whole
/// chunks of windows, and one starting at the last window must not read past
/// the end (the scanner checks that its chunk fits).
pub const TABLE_PADDING: usize = 16;

/// Sum, squared-sum and (optionally) tilted-sum tables of one image.
#[derive(Debug, Default)]
pub struct Integrals {
    /// Row length of every table: image width + 1.
    pub stride: usize,
    /// Image width and height (tables are one larger in each direction).
    pub width: usize,
    pub height: usize,
    pub sum: Vec<i32>,
    pub sqsum: Vec<u32>,
    /// 45-degree rotated sums; empty unless requested.
    pub tilted: Vec<i32>,
    /// Whether each row is stored as its even columns followed by its odd
    /// columns (see [`Integrals::compute`]).
    pub split: bool,
    tilted_scratch: Vec<i32>,
    columns: Vec<usize>,
}

/// Table index of column `col` within a row of `stride` entries, in the
/// plain or the even-then-odd ("split") layout.
pub fn column_index(col: usize, stride: usize, split: bool) -> usize {
    if split {
        let evens = stride.div_ceil(2);
        if col.is_multiple_of(2) {
            col / 2
        } else {
            evens + col / 2
        }
    } else {
        col
    }
}

impl Integrals {
    /// Recomputes all tables for `img`, reusing allocations.
    ///
    /// With `split`, every row is permuted to even columns then odd ones:
    /// pyramid levels that OpenCV scans at every other column then have the
    /// windows it visits at consecutive addresses, which the chunked scanner
    /// needs to use all its lanes.
    pub fn compute(&mut self, img: &GrayImage, with_tilted: bool, split: bool) {
        let (w, h) = (img.width(), img.height());
        let stride = w + 1;
        self.stride = stride;
        self.width = w;
        self.height = h;
        let len = stride * (h + 1) + TABLE_PADDING;
        self.sum.clear();
        self.sum.resize(len, 0);
        self.sqsum.clear();
        self.sqsum.resize(len, 0);
        // Table index of each column (the identity unless split), so the
        // split layout is written directly, with no permutation pass.
        self.columns.clear();
        self.columns
            .extend((0..stride).map(|c| column_index(c, stride, split)));
        let columns = &self.columns;
        for y in 0..h {
            let row = img.row(y);
            let (above, below) = self.sum.split_at_mut((y + 1) * stride);
            let above = &above[y * stride..];
            let below = &mut below[..stride];
            let (sq_above, sq_below) = self.sqsum.split_at_mut((y + 1) * stride);
            let sq_above = &sq_above[y * stride..];
            let sq_below = &mut sq_below[..stride];
            let mut run: i32 = 0;
            let mut sq_run: u32 = 0;
            for (&v, &c) in row.iter().zip(&columns[1..]) {
                run = run.wrapping_add(i32::from(v));
                sq_run = sq_run.wrapping_add(u32::from(v) * u32::from(v));
                below[c] = above[c].wrapping_add(run);
                sq_below[c] = sq_above[c].wrapping_add(sq_run);
            }
        }
        if with_tilted {
            self.compute_tilted(img);
        } else {
            self.tilted.clear();
        }
        self.split = split;
        if split && with_tilted {
            split_rows(&mut self.tilted, stride, h + 1);
        }
    }

    /// Rotated sums, defined as in OpenCV's `integral`:
    /// `T(X, Y) = sum of I(x, y) over y < Y, |x - X + 1| <= Y - y - 1`.
    ///
    /// Computed with the recurrence
    /// `T(X,Y) = T(X-1,Y-1) + T(X+1,Y-1) - T(X,Y-2) + I(X-1,Y-1) + I(X-1,Y-2)`
    /// on a table padded by `h + 1` columns each side, wide enough that the
    /// zero border is exact, then cropped to OpenCV's layout.
    fn compute_tilted(&mut self, img: &GrayImage) {
        let (w, h) = (img.width(), img.height());
        let pad = h + 1;
        let pw = w + 1 + 2 * pad;
        let t = &mut self.tilted_scratch;
        t.clear();
        t.resize(pw * (h + 1), 0);
        let pixel = |x: isize, y: isize| -> i32 {
            if x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h {
                i32::from(img.row(y as usize)[x as usize])
            } else {
                0
            }
        };
        for yy in 1..=h {
            for c in 0..pw {
                let x = c as isize - pad as isize;
                let y = yy as isize;
                let left = if c > 0 { t[(yy - 1) * pw + c - 1] } else { 0 };
                let right = if c + 1 < pw {
                    t[(yy - 1) * pw + c + 1]
                } else {
                    0
                };
                let up2 = if yy >= 2 { t[(yy - 2) * pw + c] } else { 0 };
                t[yy * pw + c] = left
                    .wrapping_add(right)
                    .wrapping_sub(up2)
                    .wrapping_add(pixel(x - 1, y - 1))
                    .wrapping_add(pixel(x - 1, y - 2));
            }
        }
        let stride = self.stride;
        self.tilted.clear();
        self.tilted.resize(stride * (h + 1) + TABLE_PADDING, 0);
        for yy in 0..=h {
            self.tilted[yy * stride..(yy + 1) * stride]
                .copy_from_slice(&t[yy * pw + pad..yy * pw + pad + stride]);
        }
    }
}

/// Permutes each of the first `rows` rows to even columns, then odd ones.
fn split_rows<T: Copy + Default>(table: &mut [T], stride: usize, rows: usize) {
    let mut tmp = vec![T::default(); stride];
    for r in 0..rows {
        let row = &mut table[r * stride..(r + 1) * stride];
        for (col, &v) in row.iter().enumerate() {
            tmp[column_index(col, stride, true)] = v;
        }
        row.copy_from_slice(&tmp);
    }
}

impl Integrals {
    /// Whether the tilted table was computed (the cascade has tilted features).
    /// Read by the x86-64 and wasm32 kernels only.
    #[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
    pub fn tilted_in_use(&self) -> bool {
        !self.tilted.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(w: usize, h: usize) -> GrayImage {
        let px = (0..w * h).map(|i| ((i * 37 + i / 7) % 256) as u8).collect();
        GrayImage::from_pixels(w, h, px).unwrap()
    }

    #[test]
    fn sums_match_brute_force() {
        let img = sample(7, 5);
        let mut ii = Integrals::default();
        ii.compute(&img, false, false);
        let mut split = Integrals::default();
        split.compute(&img, false, true);
        for yy in 0..=5 {
            for xx in 0..=7 {
                let (mut s, mut sq) = (0i64, 0i64);
                for y in 0..yy {
                    for x in 0..xx {
                        let v = i64::from(img.row(y)[x]);
                        s += v;
                        sq += v * v;
                    }
                }
                assert_eq!(i64::from(ii.sum[yy * 8 + xx]), s);
                assert_eq!(i64::from(ii.sqsum[yy * 8 + xx]), sq);
                assert_eq!(
                    split.sum[yy * 8 + column_index(xx, 8, true)],
                    ii.sum[yy * 8 + xx]
                );
            }
        }
    }

    #[test]
    #[allow(clippy::int_plus_one)] // the formula exactly as OpenCV documents it
    fn tilted_matches_definition() {
        let img = sample(9, 6);
        let mut ii = Integrals::default();
        ii.compute(&img, true, false);
        for yy in 0..=6i64 {
            for xx in 0..=9i64 {
                let mut s = 0i64;
                for y in 0..yy {
                    for x in 0..9i64 {
                        if (x - xx + 1).abs() <= yy - y - 1 {
                            s += i64::from(img.row(y as usize)[x as usize]);
                        }
                    }
                }
                assert_eq!(
                    i64::from(ii.tilted[yy as usize * 10 + xx as usize]),
                    s,
                    "X={xx} Y={yy}"
                );
            }
        }
    }
}
