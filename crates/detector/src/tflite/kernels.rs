//! The kernels a [`super::CompiledGraph`] runs, over NHWC maps (batch 1):
//! convolutions (plain, 1x1 and depthwise) and max pooling, every inner
//! loop running along the channels, contiguous. Each convolution family is
//! a [`Kernels`] table: the portable loop, and the same loop compiled for
//! AVX2 with FMA and for AVX-512, chosen once.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use melodora_core::simd::Simd128;
#[cfg(target_arch = "x86_64")]
use melodora_core::simd::{Avx2, Avx512};
use melodora_core::simd::{Kernels, Lanes, Portable};

use super::interpret::out_and_pad;
use super::{TfliteError, Window};

/// The geometry of a windowed operator over an NHWC map (batch 1).
#[derive(Debug, Clone, Copy)]
pub(super) struct Geometry {
    pub(super) height: usize,
    pub(super) width: usize,
    pub(super) channels: usize,
    pub(super) out_height: usize,
    pub(super) out_width: usize,
    pub(super) out_channels: usize,
    pub(super) kernel_h: usize,
    pub(super) kernel_w: usize,
    pub(super) stride_h: usize,
    pub(super) stride_w: usize,
    pub(super) pad_top: usize,
    pub(super) pad_left: usize,
}

impl Geometry {
    pub(super) fn new(
        input: &[usize],
        out_channels: usize,
        (kernel_h, kernel_w): (usize, usize),
        window: &Window,
    ) -> Result<Geometry, TfliteError> {
        let [1, height, width, channels] = input[..] else {
            return Err(TfliteError::Unsupported(format!(
                "a map of shape {input:?} (batch 1 is run)"
            )));
        };
        let (out_height, pad_top) =
            out_and_pad(height, kernel_h, window.stride_h, 1, window.padding);
        let (out_width, pad_left) =
            out_and_pad(width, kernel_w, window.stride_w, 1, window.padding);
        Ok(Geometry {
            height,
            width,
            channels,
            out_height,
            out_width,
            out_channels,
            kernel_h,
            kernel_w,
            stride_h: window.stride_h,
            stride_w: window.stride_w,
            pad_top,
            pad_left,
        })
    }

    /// The input rows (or columns) tap `k` of output row `o` reads: `None` in the padding.
    #[inline(always)]
    fn source(o: usize, k: usize, stride: usize, pad: usize, len: usize) -> Option<usize> {
        (o * stride + k).checked_sub(pad).filter(|&i| i < len)
    }
}

/// Output channels one packed panel of weights holds: the width of the
/// register tiles of [`gemm`] and of [`depthwise_tiled`] (one AVX-512
/// register, two AVX2 ones, four of WebAssembly's 128-bit ones).
const PANEL: usize = 16;

/// A convolution's packed weights, bias and fused ReLU, over its geometry.
#[derive(Debug)]
pub(super) struct ConvOp {
    pub(super) g: Geometry,
    /// `[ky][kx][ci][co]` (depthwise: `[ky][kx][c]`).
    pub(super) weights: Vec<f32>,
    pub(super) bias: Vec<f32>,
    /// ReLU on the result (after the residual, if any).
    pub(super) relu: bool,
    /// One filter per channel.
    pub(super) depthwise: bool,
    /// Plain and 1x1 convolutions followed by a residual addition: the
    /// channels of the map added to the result (the first ones; 0: none).
    pub(super) residual_channels: usize,
    /// Plain and 1x1 convolutions: the weights as a `[k][co]` matrix
    /// (`k` = `ky * kx * ci`) cut into panels of [`PANEL`] output channels,
    /// `[panel][k][PANEL]`, the last one padded with zeros; empty for
    /// depthwise ones.
    panels: Vec<f32>,
    /// The bias padded to whole panels.
    panel_bias: Vec<f32>,
    /// Depthwise convolutions: each tap's weights repeated along a run of
    /// pixels (`[tap][repeated_len]`), and the bias so repeated, for the
    /// stride-1 kernel that runs along a whole row's values at once.
    repeated: Vec<f32>,
    repeated_bias: Vec<f32>,
    repeated_len: usize,
}

impl ConvOp {
    /// A convolution over `g` with weights laid out as [`ConvOp::weights`]
    /// says (`depthwise`: one filter per channel).
    pub(super) fn new(
        g: Geometry,
        weights: Vec<f32>,
        bias: Vec<f32>,
        relu: bool,
        depthwise: bool,
    ) -> ConvOp {
        let (panels, panel_bias) = if depthwise {
            (Vec::new(), Vec::new())
        } else {
            let n = g.out_channels;
            let k = weights.len() / n;
            let blocks = n.div_ceil(PANEL);
            let mut panels = vec![0f32; blocks * k * PANEL];
            for (i, row) in weights.chunks_exact(n).enumerate() {
                for (o, &w) in row.iter().enumerate() {
                    panels[((o / PANEL) * k + i) * PANEL + o % PANEL] = w;
                }
            }
            let mut panel_bias = bias.clone();
            panel_bias.resize(blocks * PANEL, 0.0);
            (panels, panel_bias)
        };
        let c = g.channels;
        // Enough copies that PANEL values from any channel offset fit.
        let repeated_len = if depthwise {
            (c + PANEL).div_ceil(c) * c
        } else {
            0
        };
        let repeat = |values: &[f32]| -> Vec<f32> {
            values.iter().copied().cycle().take(repeated_len).collect()
        };
        let (repeated, repeated_bias) = if depthwise {
            (
                weights.chunks_exact(c).flat_map(repeat).collect(),
                repeat(&bias),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        ConvOp {
            g,
            weights,
            bias,
            relu,
            depthwise,
            residual_channels: 0,
            panels,
            panel_bias,
            repeated,
            repeated_bias,
            repeated_len,
        }
    }
}

/// The signature of every convolution kernel: the op, its input map, the
/// map added to the result (empty when the op has no residual), its
/// output map. `unsafe` because the SIMD variants need their instructions;
/// each family picks one variant, once, through a [`Kernels`] table.
pub(super) type ConvKernel = unsafe fn(&ConvOp, &[f32], &[f32], &mut [f32]);

#[inline(always)]
pub(super) fn finish(row: &mut [f32], relu: bool) {
    if relu {
        row.iter_mut().for_each(|v| *v = v.max(0.0));
    }
}

/// The kernel families. Each variant is one generic loop over [`Lanes`],
/// instantiated inside a function compiled for its instruction set with
/// the register tile that set holds: `P` pixels of [`PANEL`] channels, `R`
/// vectors each. Every variant is tested against the portable one (`tests`
/// below) and the whole graph against the reference run.
macro_rules! family {
    ($table:ident, $generic:ident, $portable:ident, $simd128:ident, $avx2:ident, $avx512:ident) => {
        #[cfg(target_arch = "x86_64")]
        pub(super) const $table: Kernels<ConvKernel> = Kernels {
            portable: $portable,
            simd128: None,
            avx2: Some($avx2),
            avx512: Some($avx512),
        };
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        pub(super) const $table: Kernels<ConvKernel> = Kernels {
            portable: $portable,
            simd128: Some($simd128),
            avx2: None,
            avx512: None,
        };
        #[cfg(not(any(
            target_arch = "x86_64",
            all(target_arch = "wasm32", target_feature = "simd128")
        )))]
        pub(super) const $table: Kernels<ConvKernel> = Kernels::portable($portable);

        /// Portable: tiles of two pixels.
        fn $portable(op: &ConvOp, x: &[f32], residual: &[f32], out: &mut [f32]) {
            // SAFETY: plain f32 runs everywhere.
            unsafe { $generic::<Portable, 2, PANEL>(op, x, residual, out) }
        }

        /// simd128: tiles of two pixels (eight 128-bit accumulators).
        ///
        /// # Safety
        /// The module must be built with simd128.
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        #[target_feature(enable = "simd128")]
        unsafe fn $simd128(op: &ConvOp, x: &[f32], residual: &[f32], out: &mut [f32]) {
            // SAFETY: the caller's.
            unsafe { $generic::<Simd128, 2, { PANEL / 4 }>(op, x, residual, out) }
        }

        /// AVX2 and FMA: tiles of four pixels (eight 256-bit accumulators).
        ///
        /// # Safety
        /// The CPU must have AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2(op: &ConvOp, x: &[f32], residual: &[f32], out: &mut [f32]) {
            // SAFETY: the caller's.
            unsafe { $generic::<Avx2, 4, { PANEL / 8 }>(op, x, residual, out) }
        }

        /// AVX-512: tiles of eight pixels (eight 512-bit accumulators).
        ///
        /// # Safety
        /// The CPU must have AVX-512 F, BW, DQ and VL.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
        unsafe fn $avx512(op: &ConvOp, x: &[f32], residual: &[f32], out: &mut [f32]) {
            // SAFETY: the caller's.
            unsafe { $generic::<Avx512, 8, { PANEL / 16 }>(op, x, residual, out) }
        }
    };
}

family!(
    POINTWISE,
    pointwise,
    pointwise_portable,
    pointwise_simd128,
    pointwise_avx2,
    pointwise_avx512
);
family!(
    CONV,
    conv,
    conv_portable,
    conv_simd128,
    conv_avx2,
    conv_avx512
);
family!(
    DEPTHWISE,
    depthwise,
    depthwise_portable,
    depthwise_simd128,
    depthwise_avx2,
    depthwise_avx512
);

/// Writes a tile row's `R` vectors to `out`, the first `valid` values
/// only: plus the first `added` values from `residual`, then ReLU'd if
/// asked.
///
/// # Safety
/// `out` must be writable for `valid` values, `residual` readable for
/// `added` (at most `valid`); the CPU must have `L`.
#[inline(always)]
unsafe fn store_panel<L: Lanes, const R: usize>(
    acc: &[L::V; R],
    relu: bool,
    out: *mut f32,
    valid: usize,
    residual: *const f32,
    added: usize,
) {
    // SAFETY (all below): the caller's; `done` holds R * WIDTH = PANEL values.
    unsafe {
        if valid == PANEL && (added == 0 || added == PANEL) {
            for (r, &v) in acc.iter().enumerate() {
                let v = if added == PANEL {
                    L::add(v, L::load(residual.add(r * L::WIDTH)))
                } else {
                    v
                };
                L::store(out.add(r * L::WIDTH), if relu { L::relu(v) } else { v });
            }
            return;
        }
        let mut done = [0f32; PANEL];
        for (r, &v) in acc.iter().enumerate() {
            L::store(done.as_mut_ptr().add(r * L::WIDTH), v);
        }
        for (j, v) in done.iter_mut().enumerate().take(added) {
            *v += *residual.add(j);
        }
        for (j, &v) in done.iter().enumerate().take(valid) {
            *out.add(j) = if relu { v.max(0.0) } else { v };
        }
    }
}

/// `out = a · panels + bias` (plus the residual's rows, then ReLU if
/// asked): `a` is rows of `k` values, `out` and `residual` the same number
/// of rows of the op's output channels and of its residual channels.
/// Tiles of `P` rows by [`PANEL`] channels are summed in registers over
/// the whole `k`, so each weight vector loaded serves `P` multiply-adds and
/// each input value [`PANEL`].
///
/// # Safety
/// The CPU must have `L`; `R * L::WIDTH == PANEL`.
#[inline(always)]
unsafe fn gemm<L: Lanes, const P: usize, const R: usize>(
    op: &ConvOp,
    a: &[f32],
    k: usize,
    residual: &[f32],
    out: &mut [f32],
) {
    debug_assert_eq!(R * L::WIDTH, PANEL);
    let n = op.g.out_channels;
    let m = a.len() / k;
    let rc = op.residual_channels;
    assert!(
        out.len() >= m * n
            && op.panels.len() >= n.div_ceil(PANEL) * k * PANEL
            && residual.len() >= m * rc
            && rc <= n
    );
    let blocks = n.div_ceil(PANEL);
    let mut m0 = 0;
    while m0 < m {
        let rows = P.min(m - m0);
        for b in 0..blocks {
            // SAFETY (all below): panel `b` holds k * PANEL values, bias
            // PANEL, rows m0..m0 + rows of `a` k each, of `out` n each
            // (checked above); the CPU has `L` (the caller's).
            unsafe {
                let panel = op.panels.as_ptr().add(b * k * PANEL);
                let bias = op.panel_bias.as_ptr().add(b * PANEL);
                let start: [L::V; R] = std::array::from_fn(|r| L::load(bias.add(r * L::WIDTH)));
                let mut acc = [start; P];
                let rows_at: [*const f32; P] =
                    std::array::from_fn(|p| a.as_ptr().add((m0 + p.min(rows - 1)) * k));
                for i in 0..k {
                    let w: [L::V; R] =
                        std::array::from_fn(|r| L::load(panel.add(i * PANEL + r * L::WIDTH)));
                    for p in 0..P {
                        let v = L::splat(*rows_at[p].add(i));
                        for r in 0..R {
                            acc[p][r] = L::madd(v, w[r], acc[p][r]);
                        }
                    }
                }
                let o0 = b * PANEL;
                let valid = PANEL.min(n - o0);
                let added = rc.saturating_sub(o0).min(valid);
                for (p, acc) in acc.iter().enumerate().take(rows) {
                    store_panel::<L, R>(
                        acc,
                        op.relu,
                        out.as_mut_ptr().add((m0 + p) * n + o0),
                        valid,
                        residual
                            .as_ptr()
                            .add(((m0 + p) * rc + o0).min(residual.len())),
                        added,
                    );
                }
            }
        }
        m0 += rows;
    }
}

/// 1x1 convolution of stride 1: a matrix product of the pixels (rows of
/// input channels) and the weights.
///
/// # Safety
/// As [`gemm`].
#[inline(always)]
unsafe fn pointwise<L: Lanes, const P: usize, const R: usize>(
    op: &ConvOp,
    x: &[f32],
    residual: &[f32],
    out: &mut [f32],
) {
    // SAFETY: the caller's.
    unsafe { gemm::<L, P, R>(op, x, op.g.channels, residual, out) }
}

/// Any other convolution: each output row's windows laid out as rows
/// (`im2col`: `[ky][kx][ci]`, zeros in the padding), then the matrix
/// product of [`gemm`].
///
/// # Safety
/// As [`gemm`].
#[inline(always)]
unsafe fn conv<L: Lanes, const P: usize, const R: usize>(
    op: &ConvOp,
    x: &[f32],
    residual: &[f32],
    out: &mut [f32],
) {
    let g = &op.g;
    let (cin, cout) = (g.channels, g.out_channels);
    let k = g.kernel_h * g.kernel_w * cin;
    let mut windows = vec![0f32; g.out_width * k];
    // A window's taps across one input row: `kernel_w * cin` values, one
    // run where the window lies inside the row.
    let across = g.kernel_w * cin;
    for oy in 0..g.out_height {
        for ox in 0..g.out_width {
            let window = &mut windows[ox * k..][..k];
            let left = (ox * g.stride_w).checked_sub(g.pad_left);
            let inside = left.is_some_and(|left| left + g.kernel_w <= g.width);
            for ky in 0..g.kernel_h {
                let taps = &mut window[ky * across..][..across];
                let Some(y) = Geometry::source(oy, ky, g.stride_h, g.pad_top, g.height) else {
                    taps.fill(0.0);
                    continue;
                };
                let row = &x[y * g.width * cin..][..g.width * cin];
                if let (true, Some(left)) = (inside, left) {
                    taps.copy_from_slice(&row[left * cin..][..across]);
                    continue;
                }
                for (kx, tap) in taps.chunks_exact_mut(cin).enumerate() {
                    match Geometry::source(ox, kx, g.stride_w, g.pad_left, g.width) {
                        Some(xx) => tap.copy_from_slice(&row[xx * cin..][..cin]),
                        None => tap.fill(0.0),
                    }
                }
            }
        }
        let row = &mut out[oy * g.out_width * cout..][..g.out_width * cout];
        let pixels = g.out_width * op.residual_channels;
        let residual = residual.get(oy * pixels..(oy + 1) * pixels).unwrap_or(&[]);
        // SAFETY: the caller's.
        unsafe { gemm::<L, P, R>(op, &windows, k, residual, row) };
    }
}

/// Depthwise convolution: each output pixel's channels, [`PANEL`] at a
/// time, summed in registers over the window's taps (only the taps inside
/// the map: the padding adds nothing).
///
/// # Safety
/// The CPU must have `L`; `R * L::WIDTH == PANEL`.
#[inline(always)]
unsafe fn depthwise<L: Lanes, const P: usize, const R: usize>(
    op: &ConvOp,
    x: &[f32],
    _residual: &[f32],
    out: &mut [f32],
) {
    debug_assert_eq!(
        op.residual_channels, 0,
        "no residual is fused into a depthwise convolution"
    );
    let g = &op.g;
    let c = g.channels;
    let blocks = c / PANEL;
    if g.stride_h == 1 && g.stride_w == 1 && g.out_width == g.width && c > 0 {
        // SAFETY: the caller's.
        return unsafe { depthwise_rows::<L, R>(op, x, out) };
    }
    assert!(
        x.len() >= g.height * g.width * c
            && out.len() >= g.out_height * g.out_width * c
            && op.weights.len() >= g.kernel_h * g.kernel_w * c
            && op.bias.len() >= c
    );
    // The taps of a window at output `o` that fall inside the map.
    let inside = |o: usize, k: usize, stride: usize, pad: usize, len: usize| {
        let first = pad.saturating_sub(o * stride).min(k);
        let last = (len + pad).saturating_sub(o * stride).min(k);
        first..last.max(first)
    };
    for oy in 0..g.out_height {
        let kys = inside(oy, g.kernel_h, g.stride_h, g.pad_top, g.height);
        for ox in 0..g.out_width {
            let kxs = inside(ox, g.kernel_w, g.stride_w, g.pad_left, g.width);
            let o = (oy * g.out_width + ox) * c;
            // Where tap (ky, kx) reads the input, and its weights.
            let at = |ky: usize, kx: usize| {
                let y = oy * g.stride_h + ky - g.pad_top;
                let xx = ox * g.stride_w + kx - g.pad_left;
                ((y * g.width + xx) * c, (ky * g.kernel_w + kx) * c)
            };
            // Whole panels; then, where channels remain, one more panel
            // ending at the last channel (overlapping the one before: the
            // same sums again), or one channel at a time when there are
            // fewer than a panel's.
            let last = (!c.is_multiple_of(PANEL) && c > PANEL).then_some(c - PANEL);
            for c0 in (0..blocks).map(|b| b * PANEL).chain(last) {
                // SAFETY (all below): every offset is of a pixel inside the
                // map (`inside`) plus a channel below `c`, checked above;
                // the CPU has `L` (the caller's).
                unsafe {
                    let bias = op.bias.as_ptr().add(c0);
                    let mut acc: [L::V; R] =
                        std::array::from_fn(|r| L::load(bias.add(r * L::WIDTH)));
                    for ky in kys.clone() {
                        for kx in kxs.clone() {
                            let (xi, wi) = at(ky, kx);
                            let pixel = x.as_ptr().add(xi + c0);
                            let tap = op.weights.as_ptr().add(wi + c0);
                            for (r, acc) in acc.iter_mut().enumerate() {
                                *acc = L::madd(
                                    L::load(pixel.add(r * L::WIDTH)),
                                    L::load(tap.add(r * L::WIDTH)),
                                    *acc,
                                );
                            }
                        }
                    }
                    store_panel::<L, R>(
                        &acc,
                        op.relu,
                        out.as_mut_ptr().add(o + c0),
                        PANEL,
                        std::ptr::null(),
                        0,
                    );
                }
            }
            if c < PANEL {
                let rest = &mut out[o..o + c];
                rest.copy_from_slice(&op.bias[..c]);
                for ky in kys.clone() {
                    for kx in kxs.clone() {
                        let (xi, wi) = at(ky, kx);
                        let pixel = &x[xi..xi + c];
                        let tap = &op.weights[wi..wi + c];
                        for ((v, &a), &w) in rest.iter_mut().zip(pixel).zip(tap) {
                            *v += a * w;
                        }
                    }
                }
                finish(rest, op.relu);
            }
        }
    }
}

/// Depthwise convolution of stride 1, a row at a time: for the pixels
/// whose window lies inside the map across (all but the edges), the row's
/// values are one run, [`PANEL`] of them summed at once over the taps
/// (each tap's weights repeated along the run, so a panel may span
/// pixels); the edge pixels as [`depthwise`] does them, one by one.
///
/// # Safety
/// The CPU must have `L`; `R * L::WIDTH == PANEL`.
#[inline(always)]
unsafe fn depthwise_rows<L: Lanes, const R: usize>(op: &ConvOp, x: &[f32], out: &mut [f32]) {
    let g = &op.g;
    let c = g.channels;
    let (w, kw) = (g.width, g.kernel_w);
    assert!(
        x.len() >= g.height * w * c
            && out.len() >= g.out_height * w * c
            && op.repeated.len() >= g.kernel_h * kw * op.repeated_len
            && op.repeated_bias.len() >= op.repeated_len
            && op.repeated_len >= c + PANEL - 1
            && g.pad_left < kw
    );
    // Output pixels whose every tap across is inside the row.
    let first = g.pad_left.min(w);
    let last = (w + g.pad_left + 1).saturating_sub(kw).clamp(first, w);
    let (run_start, run_end) = (first * c, last * c);
    let whole_end = run_start + (run_end - run_start) / PANEL * PANEL;
    for oy in 0..g.out_height {
        let first_ky = g.pad_top.saturating_sub(oy).min(g.kernel_h);
        let last_ky = (g.height + g.pad_top).saturating_sub(oy).min(g.kernel_h);
        let row_out = oy * w * c;
        // The row's run, PANEL values at a time, four panels at once
        // where it has them (four chains of multiply-adds in flight).
        let kys = first_ky..last_ky;
        let mut j = run_start;
        // SAFETY (both calls): `j + kx * c - pad_left * c` stays inside the
        // input row for pixels first..last (their taps are inside the
        // row); repeated weights hold `phase + PANEL` values from each
        // tap's start; `out` holds the row; checked above. The CPU has `L`
        // (the caller's).
        while j + 4 * PANEL <= whole_end {
            unsafe { depthwise_run::<L, R, 4>(op, x, out, oy, kys.clone(), j) };
            j += 4 * PANEL;
        }
        while j < whole_end {
            unsafe { depthwise_run::<L, R, 1>(op, x, out, oy, kys.clone(), j) };
            j += PANEL;
        }
        // The run's last values, one at a time.
        for j in whole_end..run_end {
            let ch = j % c;
            let mut v = op.bias[ch];
            for ky in first_ky..last_ky {
                let y = oy + ky - g.pad_top;
                for kx in 0..kw {
                    let xi = y * w * c + j + kx * c - g.pad_left * c;
                    v += x[xi] * op.weights[(ky * kw + kx) * c + ch];
                }
            }
            out[row_out + j] = if op.relu { v.max(0.0) } else { v };
        }
        // The edge pixels, whose windows reach past the row.
        for ox in (0..first).chain(last..w) {
            let o = row_out + ox * c;
            let pixel_out = &mut out[o..o + c];
            pixel_out.copy_from_slice(&op.bias[..c]);
            let first_kx = g.pad_left.saturating_sub(ox).min(kw);
            let last_kx = (w + g.pad_left).saturating_sub(ox).min(kw);
            for ky in first_ky..last_ky {
                let y = oy + ky - g.pad_top;
                for kx in first_kx..last_kx {
                    let xx = ox + kx - g.pad_left;
                    let pixel = &x[(y * w + xx) * c..][..c];
                    let tap = &op.weights[(ky * kw + kx) * c..][..c];
                    for ((v, &a), &t) in pixel_out.iter_mut().zip(pixel).zip(tap) {
                        *v += a * t;
                    }
                }
            }
            finish(pixel_out, op.relu);
        }
    }
}

/// `Q` panels of output row `oy`'s run from value `j` (see
/// [`depthwise_rows`]): their sums over the taps of rows `kys`.
///
/// # Safety
/// As in [`depthwise_rows`], for values `j..j + Q * PANEL` of the run.
#[inline(always)]
unsafe fn depthwise_run<L: Lanes, const R: usize, const Q: usize>(
    op: &ConvOp,
    x: &[f32],
    out: &mut [f32],
    oy: usize,
    kys: std::ops::Range<usize>,
    j: usize,
) {
    let g = &op.g;
    let (c, w, kw) = (g.channels, g.width, g.kernel_w);
    let phases: [usize; Q] = std::array::from_fn(|q| (j + q * PANEL) % c);
    // SAFETY (all below): the caller's.
    unsafe {
        let bias = op.repeated_bias.as_ptr();
        let mut acc: [[L::V; R]; Q] = std::array::from_fn(|q| {
            std::array::from_fn(|r| L::load(bias.add(phases[q] + r * L::WIDTH)))
        });
        for ky in kys {
            let y = oy + ky - g.pad_top;
            let row_in = x.as_ptr().add(y * w * c + j - g.pad_left * c);
            for kx in 0..kw {
                let pixels = row_in.add(kx * c);
                let taps = op.repeated.as_ptr().add((ky * kw + kx) * op.repeated_len);
                for (q, (acc, &phase)) in acc.iter_mut().zip(&phases).enumerate() {
                    for (r, acc) in acc.iter_mut().enumerate() {
                        *acc = L::madd(
                            L::load(pixels.add(q * PANEL + r * L::WIDTH)),
                            L::load(taps.add(phase + r * L::WIDTH)),
                            *acc,
                        );
                    }
                }
            }
        }
        for (q, acc) in acc.iter().enumerate() {
            store_panel::<L, R>(
                acc,
                op.relu,
                out.as_mut_ptr().add(oy * w * c + j + q * PANEL),
                PANEL,
                std::ptr::null(),
                0,
            );
        }
    }
}

pub(super) fn max_pool(x: &[f32], out: &mut [f32], g: &Geometry) {
    let c = g.channels;
    for oy in 0..g.out_height {
        for ox in 0..g.out_width {
            let row = &mut out[(oy * g.out_width + ox) * c..][..c];
            row.fill(f32::NEG_INFINITY);
            for ky in 0..g.kernel_h {
                let Some(y) = Geometry::source(oy, ky, g.stride_h, g.pad_top, g.height) else {
                    continue;
                };
                for kx in 0..g.kernel_w {
                    let Some(xx) = Geometry::source(ox, kx, g.stride_w, g.pad_left, g.width) else {
                        continue;
                    };
                    for (v, &a) in row.iter_mut().zip(&x[(y * g.width + xx) * c..][..c]) {
                        *v = v.max(a);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tflite::Padding;

    /// A small op with every channel count odd (no variant may assume
    /// whole vectors) and weights from a simple generator.
    fn op(
        kernel: usize,
        stride: usize,
        cin: usize,
        cout: usize,
        depthwise: bool,
    ) -> (ConvOp, Vec<f32>) {
        let window = Window {
            stride_h: stride,
            stride_w: stride,
            padding: Padding::Same,
            filter_h: 0,
            filter_w: 0,
        };
        let g = Geometry::new(&[1, 9, 11, cin], cout, (kernel, kernel), &window).unwrap();
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let weights = (0..kernel * kernel * cin * if depthwise { 1 } else { cout })
            .map(|_| next())
            .collect();
        let bias = (0..cout).map(|_| next()).collect();
        let input = (0..9 * 11 * cin).map(|_| next()).collect();
        (ConvOp::new(g, weights, bias, true, depthwise), input)
    }

    /// Every variant this CPU runs gives the portable kernel's result
    /// (within FMA's rounding).
    #[test]
    fn every_variant_matches_the_portable_kernel() {
        for (table, (kernel, stride, cin, cout, dw), residual_channels) in [
            (POINTWISE, (1, 1, 13, 19, false), 0),
            (POINTWISE, (1, 1, 13, 40, false), 0),
            (POINTWISE, (1, 1, 13, 40, false), 23),
            (POINTWISE, (1, 1, 7, 32, false), 32),
            (CONV, (5, 2, 3, 11, false), 0),
            (CONV, (3, 1, 7, 5, false), 0),
            (CONV, (3, 1, 7, 21, false), 17),
            (DEPTHWISE, (3, 2, 17, 17, true), 0),
            (DEPTHWISE, (5, 1, 9, 9, true), 0),
            (DEPTHWISE, (3, 1, 37, 37, true), 0),
        ] {
            let (mut op, input) = op(kernel, stride, cin, cout, dw);
            let pixels = op.g.out_height * op.g.out_width;
            let len = pixels * op.g.out_channels;
            let residual: Vec<f32> = (0..pixels * residual_channels)
                .map(|i| (i % 7) as f32 * 0.25 - 0.75)
                .collect();
            op.residual_channels = residual_channels;
            let mut expected = vec![0f32; len];
            // SAFETY: the portable variant runs everywhere.
            unsafe { (table.portable)(&op, &input, &residual, &mut expected) };
            if residual_channels > 0 {
                // The residual is added before the ReLU.
                op.residual_channels = 0;
                op.relu = false;
                let mut alone = vec![0f32; len];
                // SAFETY: as above.
                unsafe { (table.portable)(&op, &input, &[], &mut alone) };
                for (i, v) in alone.iter_mut().enumerate() {
                    let (p, c) = (i / cout, i % cout);
                    if c < residual_channels {
                        *v += residual[p * residual_channels + c];
                    }
                }
                for (a, b) in alone.iter().zip(&expected) {
                    assert!((a.max(0.0) - b).abs() <= 1e-6, "{a} then ReLU vs {b}");
                }
                op.residual_channels = residual_channels;
                op.relu = true;
            }
            for (level, variant) in table.runnable() {
                let mut got = vec![0f32; len];
                // SAFETY: `runnable` lists only what this CPU can run.
                unsafe { variant(&op, &input, &residual, &mut got) };
                for (a, b) in got.iter().zip(&expected) {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{level:?} {kernel}x{kernel} {cin}->{cout}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
