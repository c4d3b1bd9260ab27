//! A case's anatomy: where the lesion, its satellite, the vessels and the chest wall are, and
//! how they are painted into a lung-window image.
//!
//! Layout and rendering are separate steps so that the hypotheses (built from the same
//! geometry) and the image can never disagree.

use super::anatomy::{ChestWall, window};
use super::geometry::{Point, uniform, unit_vector};
use super::kind::AmbiguityKind;
use super::nodule::{Density, Halo, Lesion, Shape};
use super::seeds::{Stream, stream};
use super::texture::{add_quantum_noise, parenchyma};
use super::vessels::{self, Vessel};

/// Everything placed in one case.
#[derive(Clone, Debug)]
pub(crate) struct Scene {
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// Pixel size relative to a 128-pixel crop: anatomy keeps its size in millimetres.
    pub(crate) scale: f64,
    pub(crate) lesion: Lesion,
    pub(crate) satellite: Option<Lesion>,
    /// The vessel running through the lesion (vessel kinds only).
    pub(crate) attached: Option<Vessel>,
    /// Other vessels, all clear of the lesion.
    pub(crate) vessels: Vec<Vessel>,
    pub(crate) wall: Option<ChestWall>,
}

impl Scene {
    /// Places the anatomy of case `seed` of kind `kind`.
    pub(crate) fn layout(seed: u64, kind: AmbiguityKind, width: usize, height: usize) -> Self {
        let mut rng = stream(seed, Stream::Layout);
        let scale = width.min(height) as f64 / 128.0;
        let (w, h) = (width as f64, height as f64);
        // Crops are centred on the lesion, give or take, as LIDC crops are.
        let centre = (
            w * (0.5 + uniform(&mut rng, -0.1, 0.1)),
            h * (0.5 + uniform(&mut rng, -0.1, 0.1)),
        );
        let radius = scale
            * if kind.has_halo() {
                uniform(&mut rng, 6.0, 12.0)
            } else {
                uniform(&mut rng, 7.0, 16.0)
            };
        let shape = Shape::random(&mut rng, centre, radius);
        let density = if kind.is_faint() {
            Density::GroundGlass {
                contrast: uniform(&mut rng, 230.0, 320.0),
            }
        } else {
            Density::Solid {
                hu: uniform(&mut rng, -30.0, 50.0),
            }
        };
        let halo = kind.has_halo().then(|| Halo {
            extent: uniform(&mut rng, 0.5, 0.75) * radius + 2.0 * scale,
            level: if kind.is_faint() {
                uniform(&mut rng, 0.5, 0.6)
            } else {
                uniform(&mut rng, 0.36, 0.46)
            },
        });
        let blur = scale * if kind.is_faint() { 1.8 } else { 1.1 };
        let lesion = Lesion {
            shape,
            density,
            blur,
            halo,
        };

        let satellite = kind.has_satellite().then(|| {
            let u = unit_vector(&mut rng);
            let r = uniform(&mut rng, 0.45, 0.6) * radius;
            let gap = uniform(&mut rng, 2.5, 5.0) * scale;
            let d = lesion.shape.max_radius() + gap + 1.1 * r;
            let at = (centre.0 + u.0 * d, centre.1 + u.1 * d);
            Lesion {
                shape: Shape::random(&mut rng, at, r),
                density: Density::Solid {
                    hu: uniform(&mut rng, -80.0, 20.0),
                },
                blur: 1.1 * scale,
                halo: None,
            }
        });
        let attached = kind.has_attached_vessel().then(|| {
            vessels::attached(
                &mut rng,
                centre,
                radius,
                scale,
                0.75 * width.min(height) as f64,
            )
        });
        let reach = satellite
            .as_ref()
            .map_or(0.0, |s| s.outer_radius() + 2.0 * s.shape.radius + 3.0);
        let clear = lesion.outer_radius().max(reach) + 10.0 * scale;
        let wall = ChestWall::random(&mut rng, width, height, centre, clear);

        let mut scene = Self {
            width,
            height,
            scale,
            lesion,
            satellite,
            attached,
            vessels: Vec::new(),
            wall,
        };
        let mut vessel_rng = stream(seed, Stream::Vessels);
        let trees = {
            let distance = |p: Point| scene.lesion_distance(p);
            vessels::random_trees(
                &mut vessel_rng,
                width,
                height,
                scale,
                &distance,
                4.0 * scale,
            )
        };
        scene.vessels = trees;
        scene
    }

    /// Distance (pixels, approximately) from `p` to the nearest visible part of the lesion or
    /// its satellite, halo included: what other structures must keep away from.
    pub(crate) fn lesion_distance(&self, p: Point) -> f64 {
        let halo = self.lesion.halo.as_ref().map_or(0.0, |h| h.extent);
        let mut d = self.lesion.shape.edge_distance(p) - halo - self.lesion.blur;
        if let Some(s) = &self.satellite {
            d = d.min(s.shape.edge_distance(p) - s.blur);
        }
        d
    }

    /// Paints the case: parenchyma, end-on vessels, vessels, lesion, chest wall, then noise,
    /// all in Hounsfield units, and returns the lung-windowed image in `[0, 1]`.
    pub(crate) fn render(&self, seed: u64) -> Vec<f32> {
        let (width, height, scale) = (self.width, self.height, self.scale);
        let mut hu = parenchyma(&mut stream(seed, Stream::Texture), width, height, scale);
        let distance = |p: Point| self.lesion_distance(p);
        let mut dots = stream(seed, Stream::Dots);
        vessels::end_on_dots(
            &mut dots,
            &mut hu,
            width,
            height,
            scale,
            &distance,
            3.0 * scale,
        );
        let blur = 1.2 * scale.max(0.5);
        for vessel in self.vessels.iter().chain(&self.attached) {
            vessel.render(&mut hu, width, height, blur);
        }
        self.lesion.render(&mut hu, width, height);
        if let Some(s) = &self.satellite {
            s.render(&mut hu, width, height);
        }
        if let Some(wall) = &self.wall {
            wall.render(&mut hu, width, height);
        }
        let mut noise = stream(seed, Stream::Noise);
        let std_hu = uniform(&mut noise, 22.0, 36.0);
        add_quantum_noise(&mut noise, &mut hu, width, height, std_hu);
        hu.into_iter().map(window).collect()
    }
}
