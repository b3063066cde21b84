//! The arithmetic the spectrum does on every bin of every frame (a third
//! of a million frames in a long song), written so that the compiler runs
//! it in SIMD lanes, portably (wasm simd128 too), with no unsafe code:
//!
//! - [`ln`]: no branches, no calls, the exponent read from the bits and the
//!   mantissa's logarithm a polynomial; within 5e-7 of `f32::ln` (relative,
//!   absolute near 1; the tests say so).
//! - [`sum_of`] and [`sum_of_pairs`]: sums kept in eight running partial
//!   sums. A plain `iter().sum()` of floats must add in order, one
//!   addition waiting for the last: four cycles an element. Eight partial
//!   sums are eight independent chains the compiler packs into vectors.

const LN_2: f32 = std::f32::consts::LN_2;

/// ln(x) for positive, finite, normal `x` (callers add a floor; zero,
/// subnormals and negatives give a large negative number, not NaN).
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    // x = 2^e * m with m in [sqrt(1/2), sqrt(2)): the polynomial's range.
    let shifted = bits.wrapping_sub(0x3f35_04f3); // the bits of sqrt(1/2)
    let exponent = (shifted as i32) >> 23;
    let mantissa = f32::from_bits(bits.wrapping_sub((exponent as u32) << 23));
    let t = mantissa - 1.0;
    // ln(1 + t) = t - t^2/2 + t^3 P(t), P fitted on [sqrt(1/2) - 1, sqrt(2) - 1].
    let t2 = t * t;
    let p = 7.037_683_6e-2;
    let p = p * t - 1.151_461e-1;
    let p = p * t + 1.167_699_9e-1;
    let p = p * t - 1.242_014_1e-1;
    let p = p * t + 1.424_932_3e-1;
    let p = p * t - 1.666_805_8e-1;
    let p = p * t + 2.000_071_5e-1;
    let p = p * t - 2.499_999_4e-1;
    let p = p * t + 3.333_333e-1;
    exponent as f32 * LN_2 + (t - 0.5 * t2 + t2 * t * p)
}

/// Partial sums kept side by side (two SSE or simd128 vectors of f32).
const LANES: usize = 8;

/// The sum of `f` over `values`, in [`LANES`] partial sums.
#[inline(always)]
pub fn sum_of(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut partial = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (sum, &v) in partial.iter_mut().zip(chunk) {
            *sum += f(v);
        }
    }
    partial.iter().sum::<f32>() + tail.iter().map(|&v| f(v)).sum::<f32>()
}

/// The sum of `f` over the pairs of `a` and `b` (as far as the shorter
/// goes), in [`LANES`] partial sums.
#[inline(always)]
pub fn sum_of_pairs(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut partial = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for ((sum, &x), &y) in partial.iter_mut().zip(x).zip(y) {
            *sum += f(x, y);
        }
    }
    partial.iter().sum::<f32>()
        + a_tail
            .iter()
            .zip(b_tail)
            .map(|(&x, &y)| f(x, y))
            .sum::<f32>()
}

/// The dot product of `a` and `b`.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    sum_of_pairs(a, b, |x, y| x * y)
}

#[cfg(test)]
mod tests {
    use super::{dot, ln, sum_of, sum_of_pairs};

    #[test]
    fn sums_agree_with_plain_sums_at_every_length() {
        for n in 0..40 {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n + 3).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().map(|x| x * x).sum();
            assert!((sum_of(&a, |x| x * x) - plain).abs() < 1e-5);
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-5, "length {n}");
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| (x - y).max(0.0)).sum();
            assert!((sum_of_pairs(&a, &b, |x, y| (x - y).max(0.0)) - plain).abs() < 1e-5);
        }
    }

    #[test]
    fn agrees_with_the_standard_logarithm_over_the_range_the_spectrum_uses() {
        let mut x = 1e-30f32;
        let mut worst = 0.0f32;
        while x < 1e30 {
            let (ours, exact) = (ln(x), x.ln());
            let error = (ours - exact).abs() / exact.abs().max(1.0);
            worst = worst.max(error);
            x *= 1.000_37;
        }
        assert!(worst < 5e-7, "worst error {worst}");
        assert_eq!(ln(1.0), 0.0);
        assert!((ln(std::f32::consts::E) - 1.0).abs() < 2e-7);
    }

    #[test]
    fn zero_gives_a_large_negative_number_not_nan() {
        assert!(ln(0.0) < -80.0);
        assert!(!ln(0.0).is_nan());
    }
}
