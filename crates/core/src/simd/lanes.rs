//! The vector operations kernels are written in, once per instruction set:
//! plain `f32` (portable), AVX2 with FMA, AVX-512 and WebAssembly's
//! simd128. A kernel generic over [`Lanes`] holds its tile of accumulators
//! as an array of `Lanes::V`, which the compiler keeps in registers; each
//! variant instantiates it inside a function compiled for its instructions
//! (`#[target_feature]`), where these methods inline. BlazeFace's kernels
//! (melodora-detector), the emotion network's Winograd convolution
//! (melodora-emotion) and the tagger's frequency-domain timbral
//! convolutions (melodora-audio) are written this way.
//!
//! The portable and simd128 lanes multiply and add apart (the same
//! rounding); AVX2 and AVX-512 fuse them (kernels test them within a
//! tolerance).
//!
//! The one module of `core` with `unsafe`: intrinsics are `unsafe` to call,
//! and every method's safety is its caller's.
#![allow(unsafe_code)]

/// One instruction set's vector of `f32`.
pub trait Lanes {
    /// Values in a vector.
    const WIDTH: usize;
    /// The vector.
    type V: Copy;

    /// `WIDTH` values from `p`.
    ///
    /// # Safety
    /// `p` must be readable for `WIDTH` values, and the CPU must have the
    /// instruction set.
    unsafe fn load(p: *const f32) -> Self::V;
    /// Writes `v` at `p`.
    ///
    /// # Safety
    /// `p` must be writable for `WIDTH` values, and the CPU must have the
    /// instruction set.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `x` in every lane.
    ///
    /// # Safety
    /// The CPU must have the instruction set.
    unsafe fn splat(x: f32) -> Self::V;
    /// `a + b`, lane by lane.
    ///
    /// # Safety
    /// The CPU must have the instruction set.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`, lane by lane.
    ///
    /// # Safety
    /// The CPU must have the instruction set.
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`, lane by lane.
    ///
    /// # Safety
    /// The CPU must have the instruction set.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// The larger of `a` and `b`, lane by lane.
    ///
    /// # Safety
    /// The CPU must have the instruction set.
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// `acc + a * b`, lane by lane.
    ///
    /// # Safety
    /// The CPU must have the instruction set.
    unsafe fn madd(a: Self::V, b: Self::V, acc: Self::V) -> Self::V;
    /// `max(v, 0)`, lane by lane.
    ///
    /// # Safety
    /// The CPU must have the instruction set.
    unsafe fn relu(v: Self::V) -> Self::V;
}

/// Plain `f32`: runs everywhere, the reference.
pub struct Portable;

impl Lanes for Portable {
    const WIDTH: usize = 1;
    type V = f32;

    #[inline(always)]
    unsafe fn load(p: *const f32) -> f32 {
        // SAFETY: the caller's.
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: f32) {
        // SAFETY: the caller's.
        unsafe { *p = v }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> f32 {
        x
    }
    #[inline(always)]
    unsafe fn add(a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    unsafe fn sub(a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    unsafe fn mul(a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    unsafe fn max(a: f32, b: f32) -> f32 {
        a.max(b)
    }
    #[inline(always)]
    unsafe fn madd(a: f32, b: f32, acc: f32) -> f32 {
        acc + a * b
    }
    #[inline(always)]
    unsafe fn relu(v: f32) -> f32 {
        v.max(0.0)
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// Eight lanes, AVX2 with FMA.
    pub struct Avx2;

    impl Lanes for Avx2 {
        const WIDTH: usize = 8;
        type V = __m256;

        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            // SAFETY: the caller's.
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            // SAFETY: the caller's.
            unsafe { _mm256_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> __m256 {
            // SAFETY: the caller's (AVX).
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            // SAFETY: the caller's (AVX).
            unsafe { _mm256_add_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn sub(a: __m256, b: __m256) -> __m256 {
            // SAFETY: the caller's (AVX).
            unsafe { _mm256_sub_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn mul(a: __m256, b: __m256) -> __m256 {
            // SAFETY: the caller's (AVX).
            unsafe { _mm256_mul_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn max(a: __m256, b: __m256) -> __m256 {
            // SAFETY: the caller's (AVX).
            unsafe { _mm256_max_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn madd(a: __m256, b: __m256, acc: __m256) -> __m256 {
            // SAFETY: the caller's (FMA).
            unsafe { _mm256_fmadd_ps(a, b, acc) }
        }
        #[inline(always)]
        unsafe fn relu(v: __m256) -> __m256 {
            // SAFETY: the caller's (AVX).
            unsafe { _mm256_max_ps(v, _mm256_setzero_ps()) }
        }
    }

    /// Sixteen lanes, AVX-512.
    pub struct Avx512;

    impl Lanes for Avx512 {
        const WIDTH: usize = 16;
        type V = __m512;

        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m512 {
            // SAFETY: the caller's.
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512) {
            // SAFETY: the caller's.
            unsafe { _mm512_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> __m512 {
            // SAFETY: the caller's (AVX-512 F).
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn add(a: __m512, b: __m512) -> __m512 {
            // SAFETY: the caller's (AVX-512 F).
            unsafe { _mm512_add_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn sub(a: __m512, b: __m512) -> __m512 {
            // SAFETY: the caller's (AVX-512 F).
            unsafe { _mm512_sub_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn mul(a: __m512, b: __m512) -> __m512 {
            // SAFETY: the caller's (AVX-512 F).
            unsafe { _mm512_mul_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn max(a: __m512, b: __m512) -> __m512 {
            // SAFETY: the caller's (AVX-512 F).
            unsafe { _mm512_max_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn madd(a: __m512, b: __m512, acc: __m512) -> __m512 {
            // SAFETY: the caller's (AVX-512 F).
            unsafe { _mm512_fmadd_ps(a, b, acc) }
        }
        #[inline(always)]
        unsafe fn relu(v: __m512) -> __m512 {
            // SAFETY: the caller's (AVX-512 F).
            unsafe { _mm512_max_ps(v, _mm512_setzero_ps()) }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use wasm::Simd128;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use std::arch::wasm32::*;

    use super::Lanes;

    /// Four lanes, WebAssembly's simd128 (no fused multiply-add: the
    /// portable rounding).
    pub struct Simd128;

    impl Lanes for Simd128 {
        const WIDTH: usize = 4;
        type V = v128;

        #[inline(always)]
        unsafe fn load(p: *const f32) -> v128 {
            // SAFETY: the caller's.
            unsafe { v128_load(p.cast()) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: v128) {
            // SAFETY: the caller's.
            unsafe { v128_store(p.cast(), v) }
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> v128 {
            f32x4_splat(x)
        }
        #[inline(always)]
        unsafe fn add(a: v128, b: v128) -> v128 {
            f32x4_add(a, b)
        }
        #[inline(always)]
        unsafe fn sub(a: v128, b: v128) -> v128 {
            f32x4_sub(a, b)
        }
        #[inline(always)]
        unsafe fn mul(a: v128, b: v128) -> v128 {
            f32x4_mul(a, b)
        }
        #[inline(always)]
        unsafe fn max(a: v128, b: v128) -> v128 {
            f32x4_max(a, b)
        }
        #[inline(always)]
        unsafe fn madd(a: v128, b: v128, acc: v128) -> v128 {
            f32x4_add(acc, f32x4_mul(a, b))
        }
        #[inline(always)]
        unsafe fn relu(v: v128) -> v128 {
            f32x4_max(v, f32x4_splat(0.0))
        }
    }
}
