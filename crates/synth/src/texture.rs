//! Lung parenchyma: the background every case is painted on.
//!
//! A flat background would let a model find the nodule by thresholding; real lung in a lung
//! window is mottled. Three things make it so here: a smooth gravity-dependent density gradient,
//! multi-octave value noise (patchy perfusion and partial volume of small structures), and
//! spatially correlated quantum noise added last over everything, as the scanner does.

use super::anatomy::LUNG_HU;
use super::geometry::{in_unit_disk, smoothstep, uniform};
use crate::rng::SeededRng;

/// The parenchyma in Hounsfield units, row-major `width × height`; `scale` is the pixel size
/// relative to a 128-pixel crop (texture features keep their anatomical size).
pub(crate) fn parenchyma(rng: &mut SeededRng, width: usize, height: usize, scale: f64) -> Vec<f64> {
    let base = LUNG_HU + uniform(rng, -30.0, 30.0);
    let (gx, gy) = in_unit_disk(rng);
    let gradient = 45.0;
    let octaves = [(26.0, 25.0), (11.0, 16.0), (4.5, 12.0), (2.2, 10.0)];
    let fields: Vec<(Vec<f64>, f64)> = octaves
        .iter()
        .map(|&(spacing, amplitude)| (value_noise(rng, width, height, spacing * scale), amplitude))
        .collect();
    let (w, h) = (width as f64, height as f64);
    let mut hu = vec![0.0; width * height];
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            let mut v = base
                + gradient
                    * (gx * ((x as f64 + 0.5) / w - 0.5) + gy * ((y as f64 + 0.5) / h - 0.5));
            for (field, amplitude) in &fields {
                v += amplitude * field[i];
            }
            hu[i] = v;
        }
    }
    hu
}

/// Value noise in `[-1, 1]`: random values on a lattice of the given spacing (pixels), smoothly
/// interpolated. Trig-free, so bit-identical everywhere, unlike gradient noise built on `sin`.
fn value_noise(rng: &mut SeededRng, width: usize, height: usize, spacing: f64) -> Vec<f64> {
    let spacing = spacing.max(1.0);
    let nx = (width as f64 / spacing).floor() as usize + 2;
    let ny = (height as f64 / spacing).floor() as usize + 2;
    let lattice: Vec<f64> = (0..nx * ny).map(|_| 2.0 * rng.uniform() - 1.0).collect();
    let mut out = vec![0.0; width * height];
    for y in 0..height {
        let fy = (y as f64 + 0.5) / spacing;
        let (iy, ty) = (fy.floor() as usize, smoothstep(0.0, 1.0, fy - fy.floor()));
        for x in 0..width {
            let fx = (x as f64 + 0.5) / spacing;
            let (ix, tx) = (fx.floor() as usize, smoothstep(0.0, 1.0, fx - fx.floor()));
            let at = |i: usize, j: usize| lattice[j * nx + i];
            let top = at(ix, iy) + tx * (at(ix + 1, iy) - at(ix, iy));
            let bottom = at(ix, iy + 1) + tx * (at(ix + 1, iy + 1) - at(ix, iy + 1));
            out[y * width + x] = top + ty * (bottom - top);
        }
    }
    out
}

/// Adds correlated Gaussian noise of standard deviation `std_hu` (white noise blurred twice by
/// `[1 2 1]/4` in each direction, about one pixel of correlation, like reconstructed CT noise).
pub(crate) fn add_quantum_noise(
    rng: &mut SeededRng,
    hu: &mut [f64],
    width: usize,
    height: usize,
    std_hu: f64,
) {
    let mut noise: Vec<f64> = (0..width * height).map(|_| rng.normal()).collect();
    for _ in 0..2 {
        noise = blur_121(&noise, width, height);
    }
    // Each [1 2 1]/4 pass in one direction keeps sqrt(6/16) of the standard deviation; two
    // passes in two directions keep (70/256) of it (the 5-tap kernel [1 4 6 4 1]/16, squared).
    let gain = std_hu / (70.0 / 256.0);
    for (v, n) in hu.iter_mut().zip(&noise) {
        *v += gain * n;
    }
}

/// One `[1 2 1]/4` pass horizontally and one vertically, edges clamped.
fn blur_121(src: &[f64], width: usize, height: usize) -> Vec<f64> {
    let mut tmp = vec![0.0; src.len()];
    for y in 0..height {
        for x in 0..width {
            let l = src[y * width + x.saturating_sub(1)];
            let r = src[y * width + (x + 1).min(width - 1)];
            tmp[y * width + x] = 0.25 * l + 0.5 * src[y * width + x] + 0.25 * r;
        }
    }
    let mut out = vec![0.0; src.len()];
    for y in 0..height {
        for x in 0..width {
            let u = tmp[y.saturating_sub(1) * width + x];
            let d = tmp[(y + 1).min(height - 1) * width + x];
            out[y * width + x] = 0.25 * u + 0.5 * tmp[y * width + x] + 0.25 * d;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std(v: &[f64]) -> f64 {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn quantum_noise_has_the_asked_spread() {
        // Clamped edges slightly raise the spread; the interior follows the analytic gain.
        let mut rng = SeededRng::new(9);
        let mut hu = vec![0.0; 96 * 96];
        add_quantum_noise(&mut rng, &mut hu, 96, 96, 20.0);
        let s = std(&hu);
        assert!((16.0..24.0).contains(&s), "std {s}");
    }

    #[test]
    fn parenchyma_is_textured_lung() {
        let mut rng = SeededRng::new(4);
        let hu = parenchyma(&mut rng, 64, 64, 0.5);
        let mean = hu.iter().sum::<f64>() / hu.len() as f64;
        assert!((-950.0..-750.0).contains(&mean), "mean {mean}");
        assert!(std(&hu) > 8.0);
    }
}
