//! Light, label-preserving augmentation for fine-tuning on a handful of slices: flips, a
//! small rotation and intensity jitter, applied on the host to an image and its mask together.

use crate::init::SeededRng;
use metrics::Mask;

/// How strongly to augment.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augmentation {
    /// Mirror left–right and up–down, each with probability ½.
    pub flips: bool,
    /// Largest rotation, in degrees (uniform in ±this).
    pub max_rotation_deg: f32,
    /// Contrast factor in 1 ± this, and an offset in ± this / 2.
    pub intensity_jitter: f32,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self {
            flips: true,
            max_rotation_deg: 10.0,
            intensity_jitter: 0.1,
        }
    }
}

impl Augmentation {
    /// No change at all (for tests and for evaluation).
    pub fn none() -> Self {
        Self {
            flips: false,
            max_rotation_deg: 0.0,
            intensity_jitter: 0.0,
        }
    }

    /// Applies one random draw to a `side × side` image (values in \[0, 1\]) and its mask. The
    /// image is resampled bilinearly (0 outside), the mask by nearest neighbour, so labels stay
    /// binary and aligned.
    pub fn apply(&self, image: &[f32], mask: &Mask, rng: &mut SeededRng) -> (Vec<f32>, Mask) {
        let (w, h) = mask.shape();
        let flip_x = self.flips && rng.uniform() < 0.5;
        let flip_y = self.flips && rng.uniform() < 0.5;
        let angle = (rng.uniform() * 2.0 - 1.0) as f32 * self.max_rotation_deg.to_radians();
        let gain = 1.0 + (rng.uniform() * 2.0 - 1.0) as f32 * self.intensity_jitter;
        let offset = (rng.uniform() - 0.5) as f32 * self.intensity_jitter;
        let (sin, cos) = angle.sin_cos();
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        // Output pixel centre → source position: undo the flip, then rotate about the centre.
        let source = |x: usize, y: usize| {
            let mut u = x as f32 + 0.5;
            let mut v = y as f32 + 0.5;
            if flip_x {
                u = w as f32 - u;
            }
            if flip_y {
                v = h as f32 - v;
            }
            let (du, dv) = (u - cx, v - cy);
            (cx + cos * du - sin * dv, cy + sin * du + cos * dv)
        };
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let (u, v) = source(x, y);
                out[y * w + x] = (bilinear(image, w, h, u, v) * gain + offset).clamp(0.0, 1.0);
            }
        }
        let mask = Mask::from_fn(w, h, |x, y| {
            let (u, v) = source(x, y);
            let (i, j) = (u.floor(), v.floor());
            i >= 0.0
                && j >= 0.0
                && (i as usize) < w
                && (j as usize) < h
                && mask.get(i as usize, j as usize)
        });
        (out, mask)
    }
}

/// Bilinear sample at continuous position (u, v) (pixel centres at +0.5); 0 outside.
fn bilinear(image: &[f32], w: usize, h: usize, u: f32, v: f32) -> f32 {
    let (x, y) = (u - 0.5, v - 0.5);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |i: f32, j: f32| {
        if i < 0.0 || j < 0.0 || i as usize >= w || j as usize >= h {
            0.0
        } else {
            image[j as usize * w + i as usize]
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> (Vec<f32>, Mask) {
        let mask = Mask::from_fn(16, 16, |x, y| (4..10).contains(&x) && (6..12).contains(&y));
        let image = mask
            .to_bools()
            .iter()
            .map(|&on| if on { 0.8 } else { 0.2 })
            .collect();
        (image, mask)
    }

    #[test]
    fn none_is_the_identity() {
        let (image, mask) = square();
        let (out, out_mask) = Augmentation::none().apply(&image, &mask, &mut SeededRng::new(1));
        assert_eq!(out_mask, mask);
        for (a, b) in out.iter().zip(&image) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn image_and_mask_move_together() {
        let (image, mask) = square();
        let aug = Augmentation::default();
        let mut rng = SeededRng::new(7);
        for _ in 0..20 {
            let (out, out_mask) = aug.apply(&image, &mask, &mut rng);
            let inside: Vec<f32> = out_mask.foreground_indices().map(|i| out[i]).collect();
            assert!(!inside.is_empty());
            let mean = inside.iter().sum::<f32>() / inside.len() as f32;
            assert!(
                mean > 0.6,
                "the mask still covers the bright square: {mean}"
            );
            let ratio = out_mask.foreground_count() as f32 / mask.foreground_count() as f32;
            assert!((0.7..1.3).contains(&ratio), "area kept: {ratio}");
        }
    }
}
