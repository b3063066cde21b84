//! Which vector instructions this CPU offers, detected once at run time, so
//! one binary runs everywhere and uses AVX-512 where it exists.

/// Instruction sets Melodora's hand-vectorised kernels (the Haar scanner,
/// the direct CNN) can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    Generic,
    Avx2,
    Avx512,
}

/// The best instruction set this CPU supports, capped by the environment
/// variable `MELODORA_SIMD` (`generic`, `avx2` or `avx512`) so that the
/// kernels can be compared on one machine. Detected once.
pub fn simd_level() -> SimdLevel {
    static LEVEL: std::sync::OnceLock<SimdLevel> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        let detected = detect_simd();
        let cap = match std::env::var("MELODORA_SIMD").as_deref() {
            Ok("generic") => SimdLevel::Generic,
            Ok("avx2") => SimdLevel::Avx2,
            _ => SimdLevel::Avx512,
        };
        detected.min(cap)
    })
}

fn detect_simd() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512dq") && has!("avx512vl") {
            return SimdLevel::Avx512;
        }
        if has!("avx2") && has!("fma") {
            return SimdLevel::Avx2;
        }
    }
    SimdLevel::Generic
}
