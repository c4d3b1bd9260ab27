//! The few vector operations the kernels need, once per instruction set: AVX-512F, else AVX2 +
//! FMA on x86-64 (chosen at run time), simd128 in wasm (a compile-time target feature there: the page's
//! build enables it), and plain scalars everywhere else.
//!
//! The kernels are written once, generic over [`Vector`], and instantiated inside a
//! `#[target_feature]` function per instruction set so every call inlines into code compiled
//! for it.

/// A SIMD register of `LANES` f32 values.
///
/// # Safety
/// Implementations may only be used where their instruction set is available (the callers in
/// this crate check at run time or compile time); `load`/`store` read/write `LANES` values at
/// `p`, unaligned, which the caller guarantees are in bounds.
pub(crate) unsafe trait Vector: Copy {
    const LANES: usize;
    unsafe fn splat(v: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    /// `acc + a·b` (fused where the instruction set has it).
    unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self;
    /// `max(x, 0)`, NaN kept as NaN (as burn's ReLU: a diverged input must stay visible).
    unsafe fn relu(self) -> Self;
    unsafe fn add(self, b: Self) -> Self;
    unsafe fn sub(self, b: Self) -> Self;
}

/// One lane: the portable fallback (and the reference the SIMD forms are tested against).
#[derive(Clone, Copy)]
pub(crate) struct Scalar(f32);

unsafe impl Vector for Scalar {
    const LANES: usize = 1;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        Scalar(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Scalar(unsafe { *p })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { *p = self.0 }
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self {
        Scalar(acc.0 + a.0 * b.0)
    }
    #[inline(always)]
    unsafe fn relu(self) -> Self {
        Scalar(if self.0 < 0.0 { 0.0 } else { self.0 })
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        Scalar(self.0 + b.0)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        Scalar(self.0 - b.0)
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::Avx2;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Vector;
    use core::arch::x86_64::*;

    /// Eight lanes of AVX2 with FMA.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(__m256);

    unsafe impl Vector for Avx2 {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Avx2(unsafe { _mm256_set1_ps(v) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self {
            Avx2(unsafe { _mm256_fmadd_ps(a.0, b.0, acc.0) })
        }
        #[inline(always)]
        unsafe fn relu(self) -> Self {
            // maxps returns its second operand where either is NaN.
            Avx2(unsafe { _mm256_max_ps(_mm256_setzero_ps(), self.0) })
        }
        #[inline(always)]
        unsafe fn add(self, b: Self) -> Self {
            Avx2(unsafe { _mm256_add_ps(self.0, b.0) })
        }
        #[inline(always)]
        unsafe fn sub(self, b: Self) -> Self {
            Avx2(unsafe { _mm256_sub_ps(self.0, b.0) })
        }
    }

    /// Whether this CPU runs [`Avx2`].
    pub(crate) fn available() -> bool {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }

    /// Sixteen lanes of AVX-512F (fused multiply-add included).
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512(__m512);

    unsafe impl Vector for Avx512 {
        const LANES: usize = 16;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Avx512(unsafe { _mm512_set1_ps(v) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx512(unsafe { _mm512_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm512_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self {
            Avx512(unsafe { _mm512_fmadd_ps(a.0, b.0, acc.0) })
        }
        #[inline(always)]
        unsafe fn relu(self) -> Self {
            // As for AVX2: NaN in the second operand comes through.
            Avx512(unsafe { _mm512_max_ps(_mm512_setzero_ps(), self.0) })
        }
        #[inline(always)]
        unsafe fn add(self, b: Self) -> Self {
            Avx512(unsafe { _mm512_add_ps(self.0, b.0) })
        }
        #[inline(always)]
        unsafe fn sub(self, b: Self) -> Self {
            Avx512(unsafe { _mm512_sub_ps(self.0, b.0) })
        }
    }

    static AVX512: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

    /// Turns the AVX-512 forms off (the kernels then run their AVX2 forms), so benchmarks and
    /// tests reach both on a CPU that has AVX-512.
    pub fn set_avx512(enabled: bool) {
        AVX512.store(enabled, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the kernels run [`Avx512`]: this CPU has it and it was not turned off.
    pub(crate) fn avx512_chosen() -> bool {
        AVX512.load(std::sync::atomic::Ordering::Relaxed)
            && std::is_x86_feature_detected!("avx512f")
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::available as avx2_available;
#[cfg(target_arch = "x86_64")]
pub use x86::set_avx512;
#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx512, avx512_chosen};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) use wasm::Simd128;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::Vector;
    use core::arch::wasm32::*;

    /// Four lanes of wasm simd128 (no fused multiply-add outside relaxed SIMD).
    #[derive(Clone, Copy)]
    pub(crate) struct Simd128(v128);

    unsafe impl Vector for Simd128 {
        const LANES: usize = 4;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Simd128(f32x4_splat(v))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Simd128(unsafe { v128_load(p as *const v128) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { v128_store(p as *mut v128, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self {
            Simd128(f32x4_add(acc.0, f32x4_mul(a.0, b.0)))
        }
        #[inline(always)]
        unsafe fn relu(self) -> Self {
            // pmax(a, b) is `a < b ? b : a`: a NaN `a` comes through.
            Simd128(f32x4_pmax(self.0, f32x4_splat(0.0)))
        }
        #[inline(always)]
        unsafe fn add(self, b: Self) -> Self {
            Simd128(f32x4_add(self.0, b.0))
        }
        #[inline(always)]
        unsafe fn sub(self, b: Self) -> Self {
            Simd128(f32x4_sub(self.0, b.0))
        }
    }
}
