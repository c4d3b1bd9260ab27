//! Tissue densities, the lung window, and the chest wall.
//!
//! The image is painted in Hounsfield units and only then windowed, as a CT viewer does, so
//! the contrasts between lung, vessels, ground glass and soft tissue are those a radiologist
//! (and a model trained on real crops) sees in a lung window.

use super::geometry::{Point, smoothstep, uniform, uniform_int};
use crate::rng::SeededRng;

/// Aerated lung parenchyma.
pub(crate) const LUNG_HU: f64 = -890.0;
/// Blood in vessels and soft tissue (muscle, mediastinum).
pub(crate) const SOFT_TISSUE_HU: f64 = 40.0;
/// Subcutaneous and extrapleural fat.
pub(crate) const FAT_HU: f64 = -100.0;

/// Lung window level and width (the usual L −600 / W 1500).
pub const LUNG_WINDOW: (f64, f64) = (-600.0, 1500.0);

/// Hounsfield units → the `[0, 1]` intensity the model sees (lung window, clipped).
pub fn window(hu: f64) -> f32 {
    let (level, width) = LUNG_WINDOW;
    ((hu - (level - width / 2.0)) / width).clamp(0.0, 1.0) as f32
}

/// The chest wall along one side of the crop: soft tissue with a fat layer beyond it, bounded
/// by a gently curved pleural line. It gives crops a bright, realistic border and teaches the
/// model that bright regions are not necessarily lesions.
#[derive(Clone, Debug)]
pub(crate) struct ChestWall {
    /// 0 left, 1 right, 2 top, 3 bottom.
    side: usize,
    /// Depth of the pleural line from the side at the crop's middle, in pixels.
    depth: f64,
    /// Change of depth across the crop (quadratic bow), in pixels at the far ends.
    bow: f64,
    /// Where along the side the bow is centred, as a fraction.
    centre: f64,
    /// Thickness of the soft-tissue band before the fat, in pixels.
    muscle: f64,
}

impl ChestWall {
    /// A random wall that keeps at least `clear` pixels from `keep`, or `None` when there is no
    /// room (the nodule sits too close to every side) or the dice say "central crop".
    pub(crate) fn random(
        rng: &mut SeededRng,
        width: usize,
        height: usize,
        keep: Point,
        clear: f64,
    ) -> Option<Self> {
        if rng.uniform() >= 0.4 {
            return None;
        }
        let side = uniform_int(rng, 0, 3);
        let room = match side {
            0 => keep.0,
            1 => width as f64 - keep.0,
            2 => keep.1,
            _ => height as f64 - keep.1,
        } - clear;
        let size = width.min(height) as f64;
        let bow = uniform(rng, -0.06, 0.12) * size;
        let max_depth = room - bow.max(0.0);
        if max_depth < 0.06 * size {
            return None;
        }
        Some(Self {
            side,
            depth: uniform(rng, 0.05 * size, max_depth.min(0.22 * size)),
            bow,
            centre: uniform(rng, 0.2, 0.8),
            muscle: uniform(rng, 0.04, 0.09) * size,
        })
    }

    /// How far inside the wall `(x, y)` lies (negative: in the lung), in pixels.
    fn inside(&self, (x, y): Point, width: usize, height: usize) -> f64 {
        let (across, along, span) = match self.side {
            0 => (x, y, height),
            1 => (width as f64 - x, y, height),
            2 => (y, x, width),
            _ => (height as f64 - y, x, width),
        };
        let u = along / span as f64 - self.centre;
        self.depth - 4.0 * self.bow * u * u - across
    }

    /// Paints the wall over `hu` (everything beyond the pleural line is replaced).
    pub(crate) fn render(&self, hu: &mut [f64], width: usize, height: usize) {
        for y in 0..height {
            for x in 0..width {
                let d = self.inside((x as f64 + 0.5, y as f64 + 0.5), width, height);
                if d < -2.0 {
                    continue;
                }
                let tissue = SOFT_TISSUE_HU
                    + (FAT_HU - SOFT_TISSUE_HU)
                        * smoothstep(self.muscle - 1.5, self.muscle + 1.5, d);
                let f = smoothstep(-1.0, 1.0, d);
                let v = &mut hu[y * width + x];
                *v += f * (tissue - *v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_maps_lung_dark_and_tissue_bright() {
        assert_eq!(window(-1350.0), 0.0);
        assert_eq!(window(150.0), 1.0);
        assert!(window(LUNG_HU) < 0.4);
        assert!(window(SOFT_TISSUE_HU) > 0.9);
    }
}
