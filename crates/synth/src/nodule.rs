//! Nodules: a lobulated outline, a solid or ground-glass density, and an optional halo.
//!
//! The outline is a circle whose radius varies with direction by a few low harmonics
//! (lobulation). `cos kθ` and `sin kθ` come from the complex power `(cos θ + i sin θ)^k` of the
//! unit direction, so no trigonometric function is called (see [`super::seeds`]).
//!
//! Every mask a rater may draw is a level set of one function, [`Shape::edge_distance`]: the
//! tight outline is level 0, the generous one an outer level inside the halo. The image is a
//! smooth function of the same distance, so what a rater draws is always grounded in what the
//! image shows.

use super::geometry::{Point, in_unit_disk, pixel_box, smoothstep};
use crate::rng::SeededRng;
use metrics::Mask;

/// A lobulated outline.
#[derive(Clone, Debug)]
pub(crate) struct Shape {
    pub(crate) centre: Point,
    /// Mean radius, pixels.
    pub(crate) radius: f64,
    /// Complex coefficients of the harmonics k = 2, 3, 4, relative to the radius.
    harmonics: [Point; 3],
}

impl Shape {
    /// A random outline; the harmonics change the radius by at most ±22 %.
    pub(crate) fn random(rng: &mut SeededRng, centre: Point, radius: f64) -> Self {
        let amplitudes = [0.10, 0.07, 0.05];
        let harmonics = amplitudes.map(|a| {
            let (x, y) = in_unit_disk(rng);
            (a * x, a * y)
        });
        Self {
            centre,
            radius,
            harmonics,
        }
    }

    /// The largest radius in any direction.
    pub(crate) fn max_radius(&self) -> f64 {
        let spread: f64 = self
            .harmonics
            .iter()
            .map(|&(a, b)| (a * a + b * b).sqrt())
            .sum();
        self.radius * (1.0 + spread)
    }

    /// Radius of the outline in the direction of the unit vector `(ux, uy)`.
    fn radius_towards(&self, ux: f64, uy: f64) -> f64 {
        let (mut re, mut im) = (ux, uy);
        let mut r = 1.0;
        for &(a, b) in &self.harmonics {
            (re, im) = (re * ux - im * uy, re * uy + im * ux);
            r += a * re + b * im;
        }
        self.radius * r
    }

    /// Signed distance from the outline, measured along the ray from the centre, in pixels:
    /// negative inside, 0 on the outline.
    pub(crate) fn edge_distance(&self, (x, y): Point) -> f64 {
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        let d = (dx * dx + dy * dy).sqrt();
        if d < 1e-9 {
            return -self.radius;
        }
        d - self.radius_towards(dx / d, dy / d)
    }
}

/// What the lesion is made of.
#[derive(Clone, Debug)]
pub(crate) enum Density {
    /// Soft-tissue density that replaces the lung (`hu`, about 0 HU).
    Solid { hu: f64 },
    /// Ground glass: lung density raised by `contrast` HU, the parenchyma's texture showing
    /// through. Faint lesions of this kind are the ones some raters miss.
    GroundGlass { contrast: f64 },
}

/// A ground-glass rim around the outline, fading to nothing `extent` pixels out. Raters disagree
/// whether it belongs to the lesion: the tight outline stops at the core, the generous one at
/// [`Lesion::generous_level`].
#[derive(Clone, Debug)]
pub(crate) struct Halo {
    pub(crate) extent: f64,
    /// Density of the halo next to the core, as a fraction of the core's.
    pub(crate) level: f64,
}

/// A lesion: outline, density, edge blur and an optional halo.
#[derive(Clone, Debug)]
pub(crate) struct Lesion {
    pub(crate) shape: Shape,
    pub(crate) density: Density,
    /// Width of the edge ramp, pixels.
    pub(crate) blur: f64,
    pub(crate) halo: Option<Halo>,
}

impl Lesion {
    /// Farthest distance from the centre at which the lesion (halo included) is visible.
    pub(crate) fn outer_radius(&self) -> f64 {
        self.shape.max_radius() + self.halo.as_ref().map_or(0.0, |h| h.extent) + self.blur
    }

    /// The edge level a generous rater draws at: where the halo has faded to about a sixth of
    /// its density, still visible against the lung. Without a halo, the outline itself.
    pub(crate) fn generous_level(&self) -> f64 {
        self.halo.as_ref().map_or(0.0, |h| 0.7 * h.extent)
    }

    /// How much of the lesion's density is present at `p`, in `[0, 1]`.
    fn fraction(&self, p: Point) -> f64 {
        let e = self.shape.edge_distance(p);
        let core = 1.0 - smoothstep(-0.5 * self.blur, 0.5 * self.blur, e);
        match &self.halo {
            Some(h) => core.max(h.level * (1.0 - smoothstep(0.0, h.extent, e))),
            None => core,
        }
    }

    /// Paints the lesion over `hu`.
    pub(crate) fn render(&self, hu: &mut [f64], width: usize, height: usize) {
        let r = self.outer_radius() + 2.0;
        let (cx, cy) = self.shape.centre;
        let [x0, x1, y0, y1] = pixel_box((cx - r, cy - r), (cx + r, cy + r), width, height);
        for y in y0..y1 {
            for x in x0..x1 {
                let f = self.fraction((x as f64 + 0.5, y as f64 + 0.5));
                let v = &mut hu[y * width + x];
                match self.density {
                    Density::Solid { hu: target } => *v += f * (target - *v),
                    Density::GroundGlass { contrast } => *v += f * contrast,
                }
            }
        }
    }

    /// The pixels whose edge distance is at most `level` (0: the outline; see
    /// [`Self::generous_level`]).
    pub(crate) fn mask(&self, level: f64, width: usize, height: usize) -> Mask {
        Mask::from_fn(width, height, |x, y| {
            self.shape.edge_distance((x as f64 + 0.5, y as f64 + 0.5)) <= level
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_stays_within_its_bounds() {
        let mut rng = SeededRng::new(2);
        let shape = Shape::random(&mut rng, (32.0, 32.0), 10.0);
        assert!(shape.edge_distance((32.0, 32.0)) < 0.0);
        assert!(shape.edge_distance((32.0 + shape.max_radius() + 0.1, 32.0)) > 0.0);
        assert!(shape.edge_distance((32.0, 32.0 + 0.7 * 10.0)) < 0.0);
    }

    #[test]
    fn halo_widens_the_generous_mask() {
        let mut rng = SeededRng::new(5);
        let lesion = Lesion {
            shape: Shape::random(&mut rng, (32.0, 32.0), 8.0),
            density: Density::Solid { hu: 0.0 },
            blur: 1.0,
            halo: Some(Halo {
                extent: 5.0,
                level: 0.4,
            }),
        };
        let tight = lesion.mask(0.0, 64, 64).foreground_count();
        let generous = lesion
            .mask(lesion.generous_level(), 64, 64)
            .foreground_count();
        assert!(
            generous as f64 > 1.5 * tight as f64,
            "{tight} vs {generous}"
        );
    }
}
