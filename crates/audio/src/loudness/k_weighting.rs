//! BS.1770's K-weighting filter: its design for a sample rate, and the
//! kernel that runs it over two channels at once and sums the squares of
//! what comes out.
//!
//! The filter is a recursion, one sample after another, so its speed is
//! the length of the chain of dependent operations in each step, not their
//! count. The kernel keeps that chain one multiply and one subtraction
//! long, holds both channels in one 128-bit register (SSE2 on x86-64,
//! simd128 in the browser's build), and keeps every state in a register:
//! about a quarter of the time of the same arithmetic written over arrays
//! for the compiler to vectorise, which spilled the states to the stack.
//! Each variant does the same IEEE operations in the same order, so the
//! portable one, the reference, gives the same bits (tested).

/// One second-order section, transposed direct form II (its state is two
/// numbers and it stays exact at any rate in f64).
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    /// a1, a2 (a0 is 1).
    a: [f64; 2],
}

/// BS.1770's K-weighting for a sample rate: a high shelf (the head's
/// acoustics, +4 dB above about 1.7 kHz) then a high-pass (the RLB curve,
/// -3 dB near 38 Hz). Designed for the rate by the bilinear transform with
/// BS.1770's analogue prototypes, as libebur128 does, so that 44.1 kHz and
/// 48 kHz (whose coefficients BS.1770 prints) and every other rate agree.
fn design(rate: f64) -> [Biquad; 2] {
    let (f0, gain_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let vh = 10f64.powf(gain_db / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Biquad {
        b: [
            (vh + vb * k / q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / q + k * k) / a0,
        ],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    };
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let a0 = 1.0 + k / q + k * k;
    let high_pass = Biquad {
        b: [1.0, -2.0, 1.0],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    };
    [shelf, high_pass]
}

/// A channel's filter state: the shelf's two numbers, then the high-pass's.
pub(super) type State = [f64; 4];

/// The K-weighting filter for one sample rate, both sections folded into
/// state-space form. Per section, with x in and y out:
/// y = b0 x + s0; s0' = (k1 x + s1) - a1 s0; s1' = k2 x - a2 s0.
#[derive(Debug, Clone, Copy)]
pub(super) struct KWeighting {
    b0: [f64; 2],
    k1: [f64; 2],
    k2: [f64; 2],
    a1: [f64; 2],
    a2: [f64; 2],
}

impl KWeighting {
    pub(super) fn new(rate: f64) -> KWeighting {
        let sections = design(rate);
        let each = |f: fn(&Biquad) -> f64| [f(&sections[0]), f(&sections[1])];
        KWeighting {
            b0: each(|s| s.b[0]),
            k1: each(|s| s.b[1] - s.a[0] * s.b[0]),
            k2: each(|s| s.b[2] - s.a[1] * s.b[0]),
            a1: each(|s| s.a[0]),
            a2: each(|s| s.a[1]),
        }
    }

    /// Two channels of equal length through the filter, each going on from
    /// its state (which is updated): each one's sum of squared outputs.
    pub(super) fn squares_pair(
        &self,
        states: [&mut State; 2],
        left: &[f32],
        right: &[f32],
    ) -> [f64; 2] {
        squares::<Native>(self, states, left, right)
    }

    /// One channel through the filter (the other lane runs a copy of it):
    /// its sum of squared outputs.
    pub(super) fn squares_one(&self, state: &mut State, samples: &[f32]) -> f64 {
        let mut twin = *state;
        self.squares_pair([state, &mut twin], samples, samples)[0]
    }
}

/// Two f64 lanes, the width of the filter's work: one channel each.
trait Pair: Copy {
    fn splat(value: f64) -> Self;
    fn new(first: f64, second: f64) -> Self;
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn mul(self, other: Self) -> Self;
    fn to_array(self) -> [f64; 2];
}

/// Plain Rust: every target, and the reference the others are tested against.
#[cfg_attr(
    any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    ),
    allow(dead_code, reason = "there, only the tests run it, as the reference")
)]
#[derive(Clone, Copy)]
struct Portable([f64; 2]);

impl Pair for Portable {
    #[inline(always)]
    fn splat(value: f64) -> Self {
        Portable([value; 2])
    }
    #[inline(always)]
    fn new(first: f64, second: f64) -> Self {
        Portable([first, second])
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Portable([self.0[0] + other.0[0], self.0[1] + other.0[1]])
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        Portable([self.0[0] - other.0[0], self.0[1] - other.0[1]])
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        Portable([self.0[0] * other.0[0], self.0[1] * other.0[1]])
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 2] {
        self.0
    }
}

/// SSE2, which every x86-64 CPU has: no detection needed.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Sse2(std::arch::x86_64::__m128d);

// SAFETY (every block in this impl): the intrinsics need SSE2, which is
// part of x86-64 itself: every build for the architecture enables it and
// every CPU that runs one has it. None of them touches memory.
#[cfg(target_arch = "x86_64")]
impl Pair for Sse2 {
    #[inline(always)]
    fn splat(value: f64) -> Self {
        Sse2(unsafe { std::arch::x86_64::_mm_set1_pd(value) })
    }
    #[inline(always)]
    fn new(first: f64, second: f64) -> Self {
        Sse2(unsafe { std::arch::x86_64::_mm_set_pd(second, first) })
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Sse2(unsafe { std::arch::x86_64::_mm_add_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        Sse2(unsafe { std::arch::x86_64::_mm_sub_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        Sse2(unsafe { std::arch::x86_64::_mm_mul_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 2] {
        use std::arch::x86_64::{_mm_cvtsd_f64, _mm_unpackhi_pd};
        unsafe {
            [
                _mm_cvtsd_f64(self.0),
                _mm_cvtsd_f64(_mm_unpackhi_pd(self.0, self.0)),
            ]
        }
    }
}

/// WebAssembly's 128-bit SIMD, in the build that enables it (the browser's).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Clone, Copy)]
struct Simd128(std::arch::wasm32::v128);

// (No `unsafe` here: in a build that enables simd128 these intrinsics are
// safe to call.)
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Pair for Simd128 {
    #[inline(always)]
    fn splat(value: f64) -> Self {
        Simd128(std::arch::wasm32::f64x2_splat(value))
    }
    #[inline(always)]
    fn new(first: f64, second: f64) -> Self {
        Simd128(std::arch::wasm32::f64x2(first, second))
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Simd128(std::arch::wasm32::f64x2_add(self.0, other.0))
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        Simd128(std::arch::wasm32::f64x2_sub(self.0, other.0))
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        Simd128(std::arch::wasm32::f64x2_mul(self.0, other.0))
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 2] {
        use std::arch::wasm32::f64x2_extract_lane;
        [
            f64x2_extract_lane::<0>(self.0),
            f64x2_extract_lane::<1>(self.0),
        ]
    }
}

/// The lanes this build runs the filter on.
#[cfg(target_arch = "x86_64")]
type Native = Sse2;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Native = Simd128;
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
type Native = Portable;

/// The kernel, once for every kind of lanes: two channels through both
/// sections, the squares of the output summed.
#[inline(always)]
fn squares<P: Pair>(
    filter: &KWeighting,
    [first, second]: [&mut State; 2],
    left: &[f32],
    right: &[f32],
) -> [f64; 2] {
    let lane = |i: usize| P::new(first[i], second[i]);
    let (mut shelf0, mut shelf1, mut pass0, mut pass1) = (lane(0), lane(1), lane(2), lane(3));
    let [b0, k1, k2, a1, a2] = [filter.b0, filter.k1, filter.k2, filter.a1, filter.a2]
        .map(|c| [P::splat(c[0]), P::splat(c[1])]);
    let mut sum = P::splat(0.0);
    for (&l, &r) in left.iter().zip(right) {
        let x = P::new(f64::from(l), f64::from(r));
        let shelved = b0[0].mul(x).add(shelf0);
        let next = k1[0].mul(x).add(shelf1).sub(a1[0].mul(shelf0));
        shelf1 = k2[0].mul(x).sub(a2[0].mul(shelf0));
        shelf0 = next;
        let weighted = b0[1].mul(shelved).add(pass0);
        let next = k1[1].mul(shelved).add(pass1).sub(a1[1].mul(pass0));
        pass1 = k2[1].mul(shelved).sub(a2[1].mul(pass0));
        pass0 = next;
        sum = sum.add(weighted.mul(weighted));
    }
    let [shelf0, shelf1, pass0, pass1] = [shelf0, shelf1, pass0, pass1].map(P::to_array);
    for (lane, state) in [first, second].into_iter().enumerate() {
        *state = [shelf0[lane], shelf1[lane], pass0[lane], pass1[lane]];
    }
    sum.to_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A noisy, changing signal (a cheap generator: the test needs no randomness crate).
    fn signal(len: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let noise = (x as f32 / u32::MAX as f32) - 0.5;
                0.6 * (i as f32 * 0.031).sin() + 0.3 * noise
            })
            .collect()
    }

    #[test]
    fn every_variant_gives_the_portable_kernels_bits() {
        for rate in [8_000.0, 44_100.0, 96_000.0] {
            let filter = KWeighting::new(rate);
            let (left, right) = (signal(5_003, 1), signal(5_003, 2));
            let start = [0.01, -0.02, 0.003, 0.5];
            let (mut a, mut b) = (start, [0.0; 4]);
            let portable = squares::<Portable>(&filter, [&mut a, &mut b], &left, &right);
            let (mut c, mut d) = (start, [0.0; 4]);
            let native = filter.squares_pair([&mut c, &mut d], &left, &right);
            assert_eq!(portable.map(f64::to_bits), native.map(f64::to_bits));
            assert_eq!((a, b), (c, d));
            assert!(portable[0] > 0.0 && portable[0] != portable[1]);
        }
    }

    #[test]
    fn one_channel_is_the_pairs_first_lane() {
        let filter = KWeighting::new(48_000.0);
        let samples = signal(2_000, 7);
        let mut alone = [0.0; 4];
        let one = filter.squares_one(&mut alone, &samples);
        let (mut first, mut second) = ([0.0; 4], [0.0; 4]);
        let pair = filter.squares_pair([&mut first, &mut second], &samples, &signal(2_000, 8));
        assert_eq!(one.to_bits(), pair[0].to_bits());
        assert_eq!(alone, first);
    }
}
