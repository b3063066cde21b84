//! musicnn's timbral convolutions (7 frames by 38 or 67 mel bands, 204
//! filters, at every frequency position, then the maximum over the
//! positions) computed through the frequency domain.
//!
//! Done directly, the two blocks are four fifths of the network's 1.4
//! GMACs a patch: each output reads 7 × 38 (or 7 × 67) inputs, and the 59
//! (or 30) frequency positions overlap almost entirely. Along the mel axis
//! each block is a correlation, so one 128-point FFT of every input frame
//! (shared by all 204 filters) and the filters' spectra, computed once
//! when the model is read, turn it into 65 complex products per tap and
//! frame, and one inverse FFT per frame and filter brings the positions
//! back before the ReLU, the batch norm and the maximum:
//!
//! ```text
//! frame t+dt ──FFT──▶ X[t+dt, k]            (once a frame, 7 taps reuse it)
//! Σ_dt X[t+dt, k] · conj(W[dt, k, f]) / N    (65 bins, 7 taps, per filter)
//! two frames as one complex signal ──inverse FFT (pruned)──▶ positions
//! ReLU, batch norm, max over positions ──▶ the front end's channel
//! ```
//!
//! About a fifth of the direct arithmetic. The filters are the SIMD lanes
//! (each vector holds 4 to 16 filters), so every twiddle and every input
//! bin is one broadcast; two frames share one complex inverse FFT (the
//! first as its real part, the second as its imaginary part). One driver,
//! [`run_with`], is written over `core::simd::Lanes` and compiled for
//! AVX-512, AVX2 with FMA, WebAssembly's simd128 and plain `f32` (the
//! reference the tests compare every variant, and the direct convolution,
//! against).
//!
//! The one module of this crate with `unsafe`: the SIMD intrinsics.
#![allow(unsafe_code)]

use std::sync::Arc;

use melodora_core::simd::{Kernels, Lanes};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::layers::{ConvBlock, MELS, MID_KERNEL, PATCH_FRAMES, TIMBRAL_FILTERS};

/// The FFT's length along the mel axis: at least `MELS`, so a correlation
/// never wraps around for the positions a block keeps.
const N: usize = 128;
/// Bins of a real signal's spectrum that are not mirror images.
const BINS: usize = N / 2 + 1;
/// Filters rounded up to whole vectors of the widest variant (16 lanes).
pub const PADDED_FILTERS: usize = TIMBRAL_FILTERS.div_ceil(16) * 16;
/// Output frames rounded up to whole pairs.
const PAIRED_FRAMES: usize = PATCH_FRAMES.div_ceil(2) * 2;
/// Input frames: 3 of zeros either side of the patch, and the extra
/// frame the last pair reads.
pub const INPUT_FRAMES: usize = PAIRED_FRAMES + MID_KERNEL - 1;
/// Frames of zeros before the patch.
const BEFORE: usize = MID_KERNEL / 2;

/// One timbral block in the frequency domain, ready to run.
#[derive(Debug, Clone)]
pub struct TimbralSpectra {
    /// Frequency positions the block keeps (`MELS - bands + 1`).
    positions: usize,
    /// `conj(FFT(kernel)) / N`, `[bin][tap][re, im][filter]`, zero past
    /// the real filters.
    weights: Vec<f32>,
    /// Per filter (padded): the bias, and the batch norm after the ReLU.
    bias: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl TimbralSpectra {
    /// The spectra of `block`'s filters, each `MID_KERNEL × bands`.
    pub fn new(block: &ConvBlock, bands: usize) -> Self {
        let fft = forward();
        let filters = block.bias.len();
        let mut weights = vec![0.0f32; BINS * MID_KERNEL * 2 * PADDED_FILTERS];
        let mut signal = vec![Complex::new(0.0f32, 0.0); N];
        for dt in 0..MID_KERNEL {
            for f in 0..filters {
                signal.fill(Complex::new(0.0, 0.0));
                for (b, value) in signal.iter_mut().take(bands).enumerate() {
                    value.re = block.kernel[(dt * bands + b) * filters + f];
                }
                fft.process(&mut signal);
                for (k, w) in signal.iter().take(BINS).enumerate() {
                    let at = ((k * MID_KERNEL + dt) * 2) * PADDED_FILTERS + f;
                    weights[at] = w.re / N as f32;
                    weights[at + PADDED_FILTERS] = -w.im / N as f32;
                }
            }
        }
        let padded = |values: &[f32]| {
            let mut out = values.to_vec();
            out.resize(PADDED_FILTERS, 0.0);
            out
        };
        Self {
            positions: MELS - bands + 1,
            weights,
            bias: padded(&block.bias),
            scale: padded(&block.norm.scale),
            shift: padded(&block.norm.shift),
        }
    }

    /// Each frame's maximum over the positions of every filter's
    /// activation: `pooled` gets `[PAIRED_FRAMES][PADDED_FILTERS]` (the
    /// rows past `PATCH_FRAMES` and the columns past the real filters are
    /// not the network's). `fft` is scratch space.
    pub fn run(&self, input: &InputSpectra, pooled: &mut Vec<f32>, fft: &mut Vec<f32>) {
        self.run_variant(RUN.best(), input, pooled, fft);
    }

    fn run_variant(
        &self,
        kernel: Run,
        input: &InputSpectra,
        pooled: &mut Vec<f32>,
        fft: &mut Vec<f32>,
    ) {
        pooled.clear();
        pooled.resize(PAIRED_FRAMES * PADDED_FILTERS, 0.0);
        fft.clear();
        fft.resize(2 * N * MAX_WIDTH, 0.0);
        assert_eq!(input.re.len(), INPUT_FRAMES * BINS);
        // SAFETY: `Kernels::best` (and the tests' `runnable`) only give a
        // variant this CPU supports; `run_with` indexes through checked
        // slices of the lengths set above.
        unsafe { kernel(self, input, pooled, fft) };
    }
}

/// The input frames' spectra for one patch: `[frame][bin]`, real and
/// imaginary parts apart, frame 0 being the first of the zeros before the
/// patch.
#[derive(Debug, Clone, Default)]
pub struct InputSpectra {
    re: Vec<f32>,
    im: Vec<f32>,
    signal: Vec<Complex<f32>>,
}

impl InputSpectra {
    /// The spectra of `mel`'s `PATCH_FRAMES` frames, each value mapped by
    /// the input's batch norm (`value * scale + shift`; the padding frames
    /// stay zero, as TensorFlow pads after the norm).
    pub fn compute(&mut self, mel: &[f32], scale: f32, shift: f32) {
        debug_assert_eq!(mel.len(), PATCH_FRAMES * MELS);
        let fft = forward();
        self.re.clear();
        self.re.resize(INPUT_FRAMES * BINS, 0.0);
        self.im.clear();
        self.im.resize(INPUT_FRAMES * BINS, 0.0);
        self.signal.resize(N, Complex::new(0.0, 0.0));
        for (frame, row) in mel.chunks_exact(MELS).enumerate() {
            self.signal.fill(Complex::new(0.0, 0.0));
            for (value, &v) in self.signal.iter_mut().zip(row) {
                value.re = v * scale + shift;
            }
            fft.process(&mut self.signal);
            let at = (frame + BEFORE) * BINS;
            for (k, x) in self.signal.iter().take(BINS).enumerate() {
                self.re[at + k] = x.re;
                self.im[at + k] = x.im;
            }
        }
    }
}

/// The forward FFT of length `N`, planned once.
fn forward() -> Arc<dyn Fft<f32>> {
    static FFT: std::sync::OnceLock<Arc<dyn Fft<f32>>> = std::sync::OnceLock::new();
    FFT.get_or_init(|| FftPlanner::new().plan_fft_forward(N))
        .clone()
}

/// The widest variant's lanes: the FFT scratch holds `2 × N` vectors.
const MAX_WIDTH: usize = 16;

/// One variant of the block's computation (see [`run_with`]).
type Run = unsafe fn(&TimbralSpectra, &InputSpectra, &mut [f32], &mut [f32]);

#[cfg(target_arch = "x86_64")]
const RUN: Kernels<Run> = Kernels {
    portable: run_portable,
    simd128: None,
    avx2: Some(run_avx2),
    avx512: Some(run_avx512),
};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
const RUN: Kernels<Run> = Kernels {
    simd128: Some(run_simd128),
    ..Kernels::portable(run_portable)
};

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
const RUN: Kernels<Run> = Kernels::portable(run_portable);

/// The portable variant: one filter at a time.
unsafe fn run_portable(s: &TimbralSpectra, x: &InputSpectra, pooled: &mut [f32], fft: &mut [f32]) {
    // SAFETY: plain f32 needs no instruction set; the slices are the caller's.
    unsafe { run_with::<melodora_core::simd::Portable>(s, x, pooled, fft) }
}

/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(s: &TimbralSpectra, x: &InputSpectra, pooled: &mut [f32], fft: &mut [f32]) {
    // SAFETY: this function's own target features are the caller's promise.
    unsafe { run_with::<melodora_core::simd::Avx2>(s, x, pooled, fft) }
}

/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512(s: &TimbralSpectra, x: &InputSpectra, pooled: &mut [f32], fft: &mut [f32]) {
    // SAFETY: as for AVX2.
    unsafe { run_with::<melodora_core::simd::Avx512>(s, x, pooled, fft) }
}

/// # Safety
/// Only compiled where the build enables simd128.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn run_simd128(s: &TimbralSpectra, x: &InputSpectra, pooled: &mut [f32], fft: &mut [f32]) {
    // SAFETY: the build enables simd128.
    unsafe { run_with::<melodora_core::simd::Simd128>(s, x, pooled, fft) }
}

/// `k` with its 7 bits reversed: where a decimation-in-time FFT reads bin `k`.
const fn bit_reversed(k: usize) -> usize {
    (k.reverse_bits() >> (usize::BITS - N.trailing_zeros())) & (N - 1)
}

/// `e^(+2πi m / N)` for `m < N / 2`: the inverse FFT's twiddles.
fn twiddles() -> &'static [(f32, f32); N / 2] {
    static TWIDDLES: std::sync::OnceLock<[(f32, f32); N / 2]> = std::sync::OnceLock::new();
    TWIDDLES.get_or_init(|| {
        std::array::from_fn(|m| {
            let angle = 2.0 * std::f64::consts::PI * m as f64 / N as f64;
            (angle.cos() as f32, angle.sin() as f32)
        })
    })
}

/// The block on `L`'s lanes: for each group of `L::WIDTH` filters and
/// each pair of output frames, the 65 bins of both frames' correlation
/// spectra, packed as one complex spectrum (bit-reversed) into `fft`; the
/// inverse FFT keeps the first `positions` outputs, whose real parts are
/// the first frame's and imaginary parts the second's.
///
/// # Safety
/// The CPU must have `L`'s instruction set; `pooled` and `fft` must be as
/// [`TimbralSpectra::run_variant`] sizes them.
#[inline(always)]
unsafe fn run_with<L: Lanes>(
    s: &TimbralSpectra,
    x: &InputSpectra,
    pooled: &mut [f32],
    fft: &mut [f32],
) {
    let width = L::WIDTH;
    let fft = &mut fft[..2 * N * width];
    // SAFETY (every block below): the CPU has `L`'s instruction set (the
    // caller's promise) and every pointer comes from a checked slice of
    // at least `width` values.
    unsafe {
        let zero = L::splat(0.0);
        let weights = s.weights.as_ptr();
        let data = fft.as_mut_ptr();
        for first in (0..PADDED_FILTERS).step_by(width) {
            let bias = L::load(s.bias[first..first + width].as_ptr());
            let scale = L::load(s.scale[first..first + width].as_ptr());
            let shift = L::load(s.shift[first..first + width].as_ptr());
            for pair in 0..PAIRED_FRAMES / 2 {
                let frame = 2 * pair;
                // The taps' input bins of both frames, for every bin.
                let xr = &x.re[frame * BINS..(frame + MID_KERNEL + 1) * BINS];
                let xi = &x.im[frame * BINS..(frame + MID_KERNEL + 1) * BINS];
                for k in 0..BINS {
                    // Eight sums (real and imaginary parts of both frames,
                    // each in two halves): independent chains of multiply-adds.
                    let mut sums = [zero; 8];
                    let row = weights.add(k * MID_KERNEL * 2 * PADDED_FILTERS + first);
                    for dt in 0..MID_KERNEL {
                        // In bounds: k < BINS, dt < MID_KERNEL, first + width <= PADDED_FILTERS.
                        let wr = L::load(row.add(dt * 2 * PADDED_FILTERS));
                        let wi = L::load(row.add((dt * 2 + 1) * PADDED_FILTERS));
                        let (ar, ai) = (xr[dt * BINS + k], xi[dt * BINS + k]);
                        let (br, bi) = (xr[(dt + 1) * BINS + k], xi[(dt + 1) * BINS + k]);
                        sums[0] = L::madd(L::splat(ar), wr, sums[0]);
                        sums[1] = L::madd(L::splat(-ai), wi, sums[1]);
                        sums[2] = L::madd(L::splat(ar), wi, sums[2]);
                        sums[3] = L::madd(L::splat(ai), wr, sums[3]);
                        sums[4] = L::madd(L::splat(br), wr, sums[4]);
                        sums[5] = L::madd(L::splat(-bi), wi, sums[5]);
                        sums[6] = L::madd(L::splat(br), wi, sums[6]);
                        sums[7] = L::madd(L::splat(bi), wr, sums[7]);
                    }
                    let (ar, ai) = (L::add(sums[0], sums[1]), L::add(sums[2], sums[3]));
                    let (br, bi) = (L::add(sums[4], sums[5]), L::add(sums[6], sums[7]));
                    // Z = A + iB, and its mirror bin from the conjugates.
                    // In bounds: bit-reversed indices are below N.
                    let at = data.add(2 * bit_reversed(k) * width);
                    L::store(at, L::sub(ar, bi));
                    L::store(at.add(width), L::add(ai, br));
                    if k != 0 && k != N / 2 {
                        let at = data.add(2 * bit_reversed(N - k) * width);
                        L::store(at, L::add(ar, bi));
                        L::store(at.add(width), L::sub(br, ai));
                    }
                }
                inverse_fft::<L>(data, s.positions);
                let (mut best_a, mut best_b) =
                    (L::splat(f32::NEG_INFINITY), L::splat(f32::NEG_INFINITY));
                for n in 0..s.positions {
                    // In bounds: positions <= MELS < N.
                    let a = L::load(data.add(2 * n * width));
                    let b = L::load(data.add((2 * n + 1) * width));
                    best_a = L::max(best_a, L::madd(L::relu(L::add(a, bias)), scale, shift));
                    best_b = L::max(best_b, L::madd(L::relu(L::add(b, bias)), scale, shift));
                }
                let at = frame * PADDED_FILTERS + first;
                L::store(pooled[at..at + width].as_mut_ptr(), best_a);
                let at = at + PADDED_FILTERS;
                L::store(pooled[at..at + width].as_mut_ptr(), best_b);
            }
        }
    }
}

/// The inverse FFT (no 1/N: the weights carry it) of `N` complex vectors
/// stored bit-reversed in `data` (`[index][re, im][lane]`), leaving the
/// outputs in natural order. Only the first `keep` outputs are wanted, so
/// the butterflies whose results lead to none of them are skipped.
///
/// # Safety
/// As [`run_with`]'s, and `data` must be valid for `2 × N × L::WIDTH` values.
#[inline(always)]
unsafe fn inverse_fft<L: Lanes>(data: *mut f32, keep: usize) {
    let width = L::WIDTH;
    let twiddles = twiddles();
    // SAFETY: as the caller's; every index is below `2 * N * width`.
    unsafe {
        let load = |index: usize| {
            (
                L::load(data.add(2 * index * width)),
                L::load(data.add((2 * index + 1) * width)),
            )
        };
        let store = |index: usize, (re, im): (L::V, L::V)| {
            L::store(data.add(2 * index * width), re);
            L::store(data.add((2 * index + 1) * width), im);
        };
        let add = |(ar, ai): (L::V, L::V), (br, bi): (L::V, L::V)| (L::add(ar, br), L::add(ai, bi));
        let sub = |(ar, ai): (L::V, L::V), (br, bi): (L::V, L::V)| (L::sub(ar, br), L::sub(ai, bi));
        // b · e^(+2πi m / N)
        let turn = |(br, bi): (L::V, L::V), m: usize| {
            if m == 0 {
                return (br, bi);
            }
            let (wr, wi) = twiddles[m];
            (
                L::madd(br, L::splat(wr), L::mul(bi, L::splat(-wi))),
                L::madd(br, L::splat(wi), L::mul(bi, L::splat(wr))),
            )
        };
        // b · i
        let quarter = |(br, bi): (L::V, L::V)| (L::sub(L::splat(0.0), bi), br);

        // The first stage (pairs, no twiddles).
        for index in (0..N).step_by(2) {
            let (a, b) = (load(index), load(index + 1));
            store(index, add(a, b));
            store(index + 1, sub(a, b));
        }
        // Then two stages at a time: four transforms of `len` points into
        // one of `4 len`, each value loaded and stored once.
        let mut len = 2;
        while len < N {
            let span = 4 * len;
            let needed = |index: usize| keep >= span || index < keep;
            for block in (0..N).step_by(span) {
                for j in 0..len {
                    if !needed(j) {
                        break;
                    }
                    let at = |q: usize| block + j + q * len;
                    let (a0, a1, a2, a3) = (load(at(0)), load(at(1)), load(at(2)), load(at(3)));
                    // Stage one: spans of 2 len, twiddle e^(2πi j / 2 len).
                    let m1 = j * (N / (2 * len));
                    let (t1, t3) = (turn(a1, m1), turn(a3, m1));
                    let (b0, b1, b2, b3) = (add(a0, t1), sub(a0, t1), add(a2, t3), sub(a2, t3));
                    // Stage two: spans of 4 len, twiddles e^(2πi j / 4 len) and i times it.
                    let m2 = j * (N / span);
                    let t2 = turn(b2, m2);
                    let t3 = quarter(turn(b3, m2));
                    store(at(0), add(b0, t2));
                    if needed(j + len) {
                        store(at(1), add(b1, t3));
                    }
                    if needed(j + 2 * len) {
                        store(at(2), sub(b0, t2));
                    }
                    if needed(j + 3 * len) {
                        store(at(3), sub(b1, t3));
                    }
                }
            }
            len = span;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tagger::layers::{Affine, TIMBRAL_BANDS};

    /// A block of pseudo-random weights (some batch-norm scales negative,
    /// so the maximum is not simply that of the raw sums).
    fn block(bands: usize) -> ConvBlock {
        let mut state = 0x2545_f491u32 ^ bands as u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32) * 2.0 - 1.0
        };
        let rows = MID_KERNEL * bands;
        ConvBlock {
            kernel: (0..rows * TIMBRAL_FILTERS).map(|_| 0.1 * next()).collect(),
            rows,
            bias: (0..TIMBRAL_FILTERS).map(|_| 0.2 * next()).collect(),
            norm: Affine {
                scale: (0..TIMBRAL_FILTERS).map(|_| next()).collect(),
                shift: (0..TIMBRAL_FILTERS).map(|_| 0.5 * next()).collect(),
            },
        }
    }

    /// The direct convolution, ReLU, batch norm and maximum over positions.
    fn direct(block: &ConvBlock, bands: usize, mel: &[f32], scale: f32, shift: f32) -> Vec<f32> {
        let positions = MELS - bands + 1;
        let input = |t: isize, m: usize| {
            if t < 0 || t >= PATCH_FRAMES as isize {
                0.0
            } else {
                mel[t as usize * MELS + m] as f64 * scale as f64 + shift as f64
            }
        };
        let mut out = vec![0.0f32; PATCH_FRAMES * TIMBRAL_FILTERS];
        for t in 0..PATCH_FRAMES {
            for f in 0..TIMBRAL_FILTERS {
                let mut best = f64::NEG_INFINITY;
                for p in 0..positions {
                    let mut sum = block.bias[f] as f64;
                    for dt in 0..MID_KERNEL {
                        for b in 0..bands {
                            let w = block.kernel[(dt * bands + b) * TIMBRAL_FILTERS + f] as f64;
                            sum += w * input(t as isize + dt as isize - BEFORE as isize, p + b);
                        }
                    }
                    let v = sum.max(0.0) * block.norm.scale[f] as f64 + block.norm.shift[f] as f64;
                    best = best.max(v);
                }
                out[t * TIMBRAL_FILTERS + f] = best as f32;
            }
        }
        out
    }

    #[test]
    fn every_variant_matches_the_direct_convolution() {
        let mel: Vec<f32> = (0..PATCH_FRAMES * MELS)
            .map(|i| 2.0 + (i as f32 * 0.37).sin() + 0.5 * (i as f32 * 0.011).cos())
            .collect();
        let (scale, shift) = (0.8, -1.5);
        let mut input = InputSpectra::default();
        input.compute(&mel, scale, shift);
        for bands in TIMBRAL_BANDS {
            let block = block(bands);
            let expected = direct(&block, bands, &mel, scale, shift);
            let spectra = TimbralSpectra::new(&block, bands);
            let largest = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (level, kernel) in RUN.runnable() {
                let (mut pooled, mut fft) = (Vec::new(), Vec::new());
                spectra.run_variant(kernel, &input, &mut pooled, &mut fft);
                let mut worst = 0.0f32;
                for t in 0..PATCH_FRAMES {
                    for f in 0..TIMBRAL_FILTERS {
                        let got = pooled[t * PADDED_FILTERS + f];
                        worst = worst.max((got - expected[t * TIMBRAL_FILTERS + f]).abs());
                    }
                }
                assert!(
                    worst <= 2e-5 * largest.max(1.0),
                    "{bands} bands, {level:?}: off by {worst} (largest {largest})"
                );
            }
        }
    }

    #[test]
    fn bit_reversal_is_an_involution_over_the_fft() {
        assert_eq!(bit_reversed(1), 64);
        assert_eq!(bit_reversed(3), 96);
        assert!((0..N).all(|k| bit_reversed(bit_reversed(k)) == k));
    }
}
