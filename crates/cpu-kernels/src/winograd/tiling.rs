//! The two tile sizes: the constants of F(2×2, 3×3) and F(4×4, 3×3) (Lavin & Gray, 2016).
//!
//! A tiling computes an `M×M` output tile from an `ALPHA×ALPHA` input tile (`ALPHA = M + 2`)
//! through `U = G·g·Gᵀ` (weights), `V = Bᵀ·d·B` (input) and `Y = Aᵀ·(U ⊙ V)·A` (output). Each
//! one-dimensional transform is written out by hand, sharing common terms: these run per
//! vector of tiles in the kernel's inner loops. The sides are const parameters, not associated
//! constants, so every array the kernel keeps in registers has exactly a tiling's length
//! (arrays sized for the larger tiling measurably slowed the smaller one).

use crate::vector::Vector;

/// The largest input tile side of any tiling.
pub(crate) const MAX_ALPHA: usize = 6;
/// The largest output tile side of any tiling.
pub(crate) const MAX_M: usize = 4;

/// One Winograd tile size, F(M×M, 3×3) on `A×A` input tiles (`A = M + 2`): its three
/// one-dimensional transforms.
pub(crate) trait Tiling<const A: usize, const M: usize>:
    Copy + Send + Sync + 'static
{
    /// `G·g` for one column `g` of a 3×3 kernel.
    fn weight_column(g: [f32; 3]) -> [f32; A];
    /// `Bᵀ·d` for `A` values along a column (or `d·B` along a row).
    ///
    /// # Safety
    /// `V`'s instruction set must be available.
    unsafe fn input<V: Vector>(d: &[V; A]) -> [V; A];
    /// `Aᵀ·m` for `A` values along a column (or `m·A` along a row).
    ///
    /// # Safety
    /// `V`'s instruction set must be available.
    unsafe fn output<V: Vector>(m: &[V; A]) -> [V; M];
}

/// F(2×2, 3×3): constants 0, ±1 and ½, so its rounding is that of a few more terms per sum.
#[derive(Clone, Copy)]
pub(crate) struct F2;

impl Tiling<4, 2> for F2 {
    /// `G = [[1,0,0], [½,½,½], [½,−½,½], [0,0,1]]`.
    #[inline(always)]
    fn weight_column(g: [f32; 3]) -> [f32; 4] {
        [
            g[0],
            (g[0] + g[1] + g[2]) / 2.0,
            (g[0] - g[1] + g[2]) / 2.0,
            g[2],
        ]
    }

    /// `Bᵀ = [[1,0,−1,0], [0,1,1,0], [0,−1,1,0], [0,1,0,−1]]`.
    #[inline(always)]
    unsafe fn input<V: Vector>(d: &[V; 4]) -> [V; 4] {
        unsafe {
            [
                d[0].sub(d[2]),
                d[1].add(d[2]),
                d[2].sub(d[1]),
                d[1].sub(d[3]),
            ]
        }
    }

    /// `Aᵀ = [[1,1,1,0], [0,1,−1,−1]]`.
    #[inline(always)]
    unsafe fn output<V: Vector>(m: &[V; 4]) -> [V; 2] {
        unsafe { [m[0].add(m[1]).add(m[2]), m[1].sub(m[2]).sub(m[3])] }
    }
}

/// F(4×4, 3×3) on the points 0, ±1, ±2: 36 products per 16 outputs (2.25 per pixel against
/// F(2×2)'s 4 and the direct form's 9), with constants up to 8 and ⅙, so more rounding.
#[derive(Clone, Copy)]
pub(crate) struct F4;

impl Tiling<6, 4> for F4 {
    /// `G = [[¼,0,0], [−⅙,−⅙,−⅙], [−⅙,⅙,−⅙], [1/24,1/12,⅙], [1/24,−1/12,⅙], [0,0,1]]`.
    #[inline(always)]
    fn weight_column(g: [f32; 3]) -> [f32; 6] {
        let (even, odd) = (g[0] + g[2], g[1]);
        let (quarter, half) = (g[0] / 4.0 + g[2], g[1] / 2.0);
        [
            g[0] / 4.0,
            -(even + odd) / 6.0,
            -(even - odd) / 6.0,
            (quarter + half) / 6.0,
            (quarter - half) / 6.0,
            g[2],
        ]
    }

    /// `Bᵀ = [[4,0,−5,0,1,0], [0,−4,−4,1,1,0], [0,4,−4,−1,1,0], [0,−2,−1,2,1,0],
    /// [0,2,−1,−2,1,0], [0,4,0,−5,0,1]]`.
    #[inline(always)]
    unsafe fn input<V: Vector>(d: &[V; 6]) -> [V; 6] {
        unsafe {
            let (four, minus_four, minus_five) = (V::splat(4.0), V::splat(-4.0), V::splat(-5.0));
            let a = V::mul_add(minus_four, d[2], d[4]);
            let b = V::mul_add(minus_four, d[1], d[3]);
            let c = d[4].sub(d[2]);
            let diff = d[3].sub(d[1]);
            let e = diff.add(diff);
            [
                V::mul_add(four, d[0], V::mul_add(minus_five, d[2], d[4])),
                a.add(b),
                a.sub(b),
                c.add(e),
                c.sub(e),
                V::mul_add(four, d[1], V::mul_add(minus_five, d[3], d[5])),
            ]
        }
    }

    /// `Aᵀ = [[1,1,1,1,1,0], [0,1,−1,2,−2,0], [0,1,1,4,4,0], [0,1,−1,8,−8,1]]`.
    #[inline(always)]
    unsafe fn output<V: Vector>(m: &[V; 6]) -> [V; 4] {
        unsafe {
            let (p, q) = (m[1].add(m[2]), m[1].sub(m[2]));
            let (s, t) = (m[3].add(m[4]), m[3].sub(m[4]));
            [
                m[0].add(p).add(s),
                V::mul_add(V::splat(2.0), t, q),
                V::mul_add(V::splat(4.0), s, p),
                V::mul_add(V::splat(8.0), t, q).add(m[5]),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::Scalar;

    /// 1-D Winograd identity: for every signal d (ALPHA values) and kernel g (3),
    /// `Aᵀ·((G·g) ⊙ (Bᵀ·d))` is the valid correlation of d with g (M values).
    fn check<T: Tiling<A, M>, const A: usize, const M: usize>() {
        for trial in 0..20 {
            let value = |i: usize| ((trial * 7 + i * 13) % 11) as f32 - 5.0;
            let d: Vec<f32> = (0..A).map(value).collect();
            let g = [value(17), value(19), value(23)];
            let u = T::weight_column(g);
            let mut dv = [unsafe { Scalar::splat(0.0) }; A];
            for (slot, &x) in dv.iter_mut().zip(&d) {
                *slot = unsafe { Scalar::splat(x) };
            }
            let v = unsafe { T::input(&dv) };
            let mut m = [unsafe { Scalar::splat(0.0) }; A];
            for (k, product) in m.iter_mut().enumerate() {
                *product =
                    unsafe { Scalar::mul_add(Scalar::splat(u[k]), v[k], Scalar::splat(0.0)) };
            }
            let y = unsafe { T::output(&m) };
            for (i, yi) in y.iter().enumerate() {
                let expected: f32 = (0..3).map(|k| d[i + k] * g[k]).sum();
                let got = scalar_value(*yi);
                assert!(
                    (got - expected).abs() < 1e-4 * expected.abs().max(1.0),
                    "M = {M}: output {i} is {got}, expected {expected}"
                );
            }
        }
    }

    fn scalar_value(v: Scalar) -> f32 {
        let mut out = 0.0;
        unsafe { v.store(&mut out) };
        out
    }

    #[test]
    fn both_tilings_compute_the_one_dimensional_correlation() {
        check::<F2, 4, 2>();
        check::<F4, 6, 4>();
    }
}
