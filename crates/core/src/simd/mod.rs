//! Which vector instructions this CPU offers, detected once at run time, so
//! one binary runs everywhere and uses AVX-512 where it exists, and
//! [`Kernels`], the one way a kernel family picks its variant from that.
//!
//! Lives in `core` because both hand-vectorised crates (the Haar scanner and
//! the CNN engines) dispatch on it, and write kernels once over [`Lanes`];
//! only `std` is needed.

mod lanes;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use lanes::Simd128;
#[cfg(target_arch = "x86_64")]
pub use lanes::{Avx2, Avx512};
pub use lanes::{Lanes, Portable};

/// Instruction sets Melodora's hand-vectorised kernels (the Haar scanner,
/// the direct CNN) can use, from least to most capable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// Portable Rust only: every architecture, WebAssembly included.
    Generic,
    /// WebAssembly's 128-bit SIMD, chosen when the build enables it
    /// (`-C target-feature=+simd128`, as the browser's build does): a
    /// WebAssembly module cannot ask the browser at run time.
    Simd128,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX-512 F, BW, DQ and VL.
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
    if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        return SimdLevel::Simd128;
    }
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

/// One kernel family's variants, one per instruction set (usually function
/// pointers or a small table of them). A family fills this in once, in one
/// place, and asks [`best`](Self::best) for what to run; the portable
/// variant is the reference every other one is tested against
/// ([`for_level`](Self::for_level) reaches each of them).
///
/// Variants for an instruction set the CPU lacks may be present: they are
/// never chosen, which is what makes calling the chosen `unsafe fn` sound.
#[derive(Debug, Clone, Copy)]
pub struct Kernels<K> {
    /// Runs everywhere; the reference.
    pub portable: K,
    /// Needs [`SimdLevel::Simd128`]; `None` where the family has no such
    /// variant.
    pub simd128: Option<K>,
    /// Needs [`SimdLevel::Avx2`]; `None` where the family has no such variant.
    pub avx2: Option<K>,
    /// Needs [`SimdLevel::Avx512`]; `None` where the family has no such variant.
    pub avx512: Option<K>,
}

impl<K: Copy> Kernels<K> {
    /// Only the portable variant (what every non-x86 build uses).
    pub const fn portable(portable: K) -> Self {
        Self {
            portable,
            simd128: None,
            avx2: None,
            avx512: None,
        }
    }

    /// The most capable variant `level` can run, falling back to lesser ones
    /// (of the same architecture) and finally the portable one.
    pub fn for_level(&self, level: SimdLevel) -> K {
        let chosen = match level {
            SimdLevel::Generic => None,
            SimdLevel::Simd128 => self.simd128,
            SimdLevel::Avx2 => self.avx2,
            SimdLevel::Avx512 => self.avx512.or(self.avx2),
        };
        chosen.unwrap_or(self.portable)
    }

    /// The variant for this CPU ([`simd_level`]).
    pub fn best(&self) -> K {
        self.for_level(simd_level())
    }

    /// Every variant this CPU can run, with the level it needs, portable
    /// first: what tests compare against the reference.
    pub fn runnable(&self) -> Vec<(SimdLevel, K)> {
        let level = simd_level();
        let mut out = vec![(SimdLevel::Generic, self.portable)];
        if level == SimdLevel::Simd128 {
            out.extend(self.simd128.map(|k| (SimdLevel::Simd128, k)));
        }
        if level >= SimdLevel::Avx2 {
            out.extend(self.avx2.map(|k| (SimdLevel::Avx2, k)));
        }
        if level >= SimdLevel::Avx512 {
            out.extend(self.avx512.map(|k| (SimdLevel::Avx512, k)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_fall_back_to_lesser_variants() {
        let all = Kernels {
            portable: 'p',
            simd128: Some('w'),
            avx2: Some('2'),
            avx512: Some('5'),
        };
        assert_eq!(all.for_level(SimdLevel::Simd128), 'w');
        assert_eq!(Kernels::portable('p').for_level(SimdLevel::Simd128), 'p');
        assert_eq!(all.for_level(SimdLevel::Generic), 'p');
        assert_eq!(all.for_level(SimdLevel::Avx2), '2');
        assert_eq!(all.for_level(SimdLevel::Avx512), '5');
        let no_avx2 = Kernels { avx2: None, ..all };
        assert_eq!(no_avx2.for_level(SimdLevel::Avx2), 'p');
        assert_eq!(no_avx2.for_level(SimdLevel::Avx512), '5');
        let only_avx2 = Kernels {
            avx512: None,
            ..all
        };
        assert_eq!(only_avx2.for_level(SimdLevel::Avx512), '2');
        assert_eq!(Kernels::portable('p').for_level(SimdLevel::Avx512), 'p');
    }

    #[test]
    fn runnable_starts_with_the_reference_and_never_exceeds_the_cpu() {
        let all = Kernels {
            portable: 0,
            simd128: Some(3),
            avx2: Some(1),
            avx512: Some(2),
        };
        let runnable = all.runnable();
        assert_eq!(runnable[0], (SimdLevel::Generic, 0));
        assert!(runnable.iter().all(|&(level, _)| level <= simd_level()));
        assert_eq!(runnable.last().unwrap().1, all.best());
    }
}
