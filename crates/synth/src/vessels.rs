//! Pulmonary vessels: branching tubes seen in-plane, and small ones cut end-on as dots.
//!
//! Vessels are what makes a lung crop hard: bright, nodule-dense structures everywhere. A
//! vessel is a tapering tube around a gently curved cubic Bézier, with a blurred edge,
//! partial-volume dimming when it is thin, and a fade where it leaves the slice. Vessels keep
//! clear of the lesion unless the case is about a vessel touching it ([`attached`]).

use super::anatomy::SOFT_TISSUE_HU;
use super::geometry::{
    Point, cubic_bezier, norm, pixel_box, segment_distance, smoothstep, uniform, uniform_int,
    unit_vector,
};
use crate::rng::SeededRng;
use metrics::Mask;

/// Points per vessel curve: a few pixels apart on a 128-pixel crop.
const CURVE_POINTS: usize = 32;

/// A tube: a polyline with a radius and a visibility (1 in the slice, → 0 leaving it) per point.
#[derive(Clone, Debug)]
pub(crate) struct Vessel {
    points: Vec<Point>,
    radii: Vec<f64>,
    visibility: Vec<f64>,
}

impl Vessel {
    /// A tube along a cubic Bézier curve, its radius tapering linearly from `r0` to `r1`; the
    /// far end fades out of the slice over its last `fade` fraction (0: no fade).
    pub(crate) fn along(control: [Point; 4], r0: f64, r1: f64, fade: f64) -> Self {
        let points = cubic_bezier(control, CURVE_POINTS);
        let t = |i: usize| i as f64 / CURVE_POINTS as f64;
        let radii = (0..=CURVE_POINTS).map(|i| r0 + (r1 - r0) * t(i)).collect();
        let visibility = (0..=CURVE_POINTS)
            .map(|i| {
                if fade > 0.0 {
                    1.0 - 0.85 * smoothstep(1.0 - fade, 1.0, t(i))
                } else {
                    1.0
                }
            })
            .collect();
        Self {
            points,
            radii,
            visibility,
        }
    }

    /// The smallest value of `clearance(p) − radius` along the tube: how close it comes to
    /// whatever `clearance` measures the distance to.
    pub(crate) fn min_clearance(&self, clearance: impl Fn(Point) -> f64) -> f64 {
        let mut best = f64::INFINITY;
        for (k, (&p, &r)) in self.points.iter().zip(&self.radii).enumerate() {
            best = best.min(clearance(p) - r);
            if let Some(&q) = self.points.get(k + 1) {
                let mid = (0.5 * (p.0 + q.0), 0.5 * (p.1 + q.1));
                best = best.min(clearance(mid) - r);
            }
        }
        best
    }

    /// Calls `visit(x, y, distance − radius, radius, visibility)` for each pixel near the tube,
    /// once per segment (a pixel may be visited more than once; callers keep the extreme).
    fn for_each_pixel(
        &self,
        width: usize,
        height: usize,
        margin: f64,
        mut visit: impl FnMut(usize, usize, f64, f64, f64),
    ) {
        for k in 0..self.points.len() - 1 {
            let (a, b) = (self.points[k], self.points[k + 1]);
            let (ra, rb) = (self.radii[k], self.radii[k + 1]);
            let (va, vb) = (self.visibility[k], self.visibility[k + 1]);
            let pad = ra.max(rb) + margin;
            let lo = (a.0.min(b.0) - pad, a.1.min(b.1) - pad);
            let hi = (a.0.max(b.0) + pad, a.1.max(b.1) + pad);
            let [x0, x1, y0, y1] = pixel_box(lo, hi, width, height);
            for y in y0..y1 {
                for x in x0..x1 {
                    let (d, t) = segment_distance((x as f64 + 0.5, y as f64 + 0.5), a, b);
                    let r = ra + t * (rb - ra);
                    visit(x, y, d - r, r, va + t * (vb - va));
                }
            }
        }
    }

    /// Paints the tube over `hu` with an edge ramp `blur` pixels wide.
    pub(crate) fn render(&self, hu: &mut [f64], width: usize, height: usize, blur: f64) {
        let mut touched: Vec<(usize, f64)> = Vec::new();
        self.for_each_pixel(width, height, blur + 1.0, |x, y, e, r, vis| {
            // Thin vessels only partly fill the slice thickness (partial-volume effect).
            let partial = (0.35 + r / 3.0).min(1.0);
            let f = (1.0 - smoothstep(-0.5 * blur, 0.5 * blur, e)) * partial * vis;
            if f > 0.0 {
                touched.push((y * width + x, f));
            }
        });
        // Keep the strongest coverage per pixel, then blend once.
        touched.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        touched.dedup_by_key(|t| t.0);
        for (i, f) in touched {
            hu[i] += f * (SOFT_TISSUE_HU - hu[i]);
        }
    }

    /// The pixels inside the tube (distance to the axis at most the radius).
    pub(crate) fn mask(&self, width: usize, height: usize) -> Mask {
        let mut mask = Mask::empty(width, height);
        self.for_each_pixel(width, height, 0.0, |x, y, e, _, _| {
            if e <= 0.0 {
                mask.set(x, y, true);
            }
        });
        mask
    }

    fn tangent_at(&self, k: usize) -> Point {
        let a = self.points[k.saturating_sub(1)];
        let b = self.points[(k + 1).min(CURVE_POINTS)];
        let t = (b.0 - a.0, b.1 - a.1);
        let n = norm(t).max(1e-9);
        (t.0 / n, t.1 / n)
    }
}

/// A gently curved Bézier from `p0` heading along `dir` for `len` pixels: the inner control
/// points sit on the chord, pushed sideways by at most `bend` of the length (no loops).
fn gentle_curve(rng: &mut SeededRng, p0: Point, dir: Point, len: f64, bend: f64) -> [Point; 4] {
    let n = (-dir.1, dir.0);
    let at = |s: f64, side: f64| {
        (
            p0.0 + dir.0 * s * len + n.0 * side * len,
            p0.1 + dir.1 * s * len + n.1 * side * len,
        )
    };
    let (b1, b2, b3) = (
        uniform(rng, -bend, bend),
        uniform(rng, -bend, bend),
        uniform(rng, -bend, bend) * 0.5,
    );
    [p0, at(1.0 / 3.0, b1), at(2.0 / 3.0, b2), at(1.0, b3)]
}

/// A random point inside the crop, `inset` pixels from its edges.
fn interior_point(rng: &mut SeededRng, width: usize, height: usize, inset: f64) -> Point {
    (
        uniform(rng, inset, width as f64 - inset),
        uniform(rng, inset, height as f64 - inset),
    )
}

/// Random vessel trees (a trunk, often with branches), each at least `margin` pixels from the
/// lesion as measured by `lesion_distance`. A candidate that comes too close is redrawn a few
/// times, then dropped, so the lesion's neighbourhood stays unambiguous.
pub(crate) fn random_trees(
    rng: &mut SeededRng,
    width: usize,
    height: usize,
    scale: f64,
    lesion_distance: &dyn Fn(Point) -> f64,
    margin: f64,
) -> Vec<Vessel> {
    let mut vessels = Vec::new();
    let trunks = uniform_int(rng, 2, 5);
    for _ in 0..trunks {
        for _attempt in 0..12 {
            let p0 = interior_point(rng, width, height, -6.0 * scale);
            let dir = unit_vector(rng);
            let len = uniform(rng, 40.0, 110.0) * scale;
            let r0 = uniform(rng, 0.9, 2.3) * scale;
            let control = gentle_curve(rng, p0, dir, len, 0.18);
            let trunk = Vessel::along(control, r0, r0 * uniform(rng, 0.45, 0.7), 0.25);
            if trunk.min_clearance(lesion_distance) < margin {
                continue;
            }
            let branches = uniform_int(rng, 0, 3);
            let mut children = Vec::new();
            for _ in 0..branches {
                let k = uniform_int(rng, CURVE_POINTS / 6, 3 * CURVE_POINTS / 4);
                let start = trunk.points[k];
                let t = trunk.tangent_at(k);
                let side = if rng.uniform() < 0.5 { 1.0 } else { -1.0 };
                // Leave the trunk at roughly 25–60°: a mix of its tangent and its normal.
                let mix = uniform(rng, 0.45, 1.7);
                let dir = (t.0 - side * mix * t.1, t.1 + side * mix * t.0);
                let n = norm(dir);
                let len = uniform(rng, 18.0, 50.0) * scale;
                let control = gentle_curve(rng, start, (dir.0 / n, dir.1 / n), len, 0.15);
                let rb = trunk.radii[k] * uniform(rng, 0.55, 0.8);
                let child = Vessel::along(control, rb, rb * 0.6, 0.35);
                if child.min_clearance(lesion_distance) >= margin {
                    children.push(child);
                }
            }
            vessels.push(trunk);
            vessels.extend(children);
            break;
        }
    }
    vessels
}

/// A vessel that runs through the lesion at `centre` (radius `radius`), entering and leaving it
/// on roughly opposite sides: the "is the touching vessel part of the nodule?" ambiguity.
pub(crate) fn attached(
    rng: &mut SeededRng,
    centre: Point,
    radius: f64,
    scale: f64,
    span: f64,
) -> Vessel {
    let u = unit_vector(rng);
    let n = (-u.1, u.0);
    let off = uniform(rng, -0.25, 0.25) * radius;
    let c = (centre.0 + n.0 * off, centre.1 + n.1 * off);
    let mut bend = || uniform(rng, -0.2, 0.2) * span;
    let (b0, b3) = (bend(), bend());
    let p0 = (c.0 - u.0 * span + n.0 * b0, c.1 - u.1 * span + n.1 * b0);
    let p3 = (c.0 + u.0 * span + n.0 * b3, c.1 + u.1 * span + n.1 * b3);
    // Inner control points off the chord by a little: a gently curved vessel, still passing
    // within a quarter radius of the centre's line.
    let (b1, b2) = (bend() * 0.3, bend() * 0.3);
    let p1 = (
        c.0 - u.0 * span / 3.0 + n.0 * b1,
        c.1 - u.1 * span / 3.0 + n.1 * b1,
    );
    let p2 = (
        c.0 + u.0 * span / 3.0 + n.0 * b2,
        c.1 + u.1 * span / 3.0 + n.1 * b2,
    );
    // Shift the curve so that its middle (t = ½) is exactly `c`: it always crosses the lesion.
    let mid = (
        (p0.0 + 3.0 * p1.0 + 3.0 * p2.0 + p3.0) / 8.0,
        (p0.1 + 3.0 * p1.1 + 3.0 * p2.1 + p3.1) / 8.0,
    );
    let shift = |p: Point| (p.0 + c.0 - mid.0, p.1 + c.1 - mid.1);
    let control = [shift(p0), shift(p1), shift(p2), shift(p3)];
    let r = uniform(rng, 0.17, 0.22) * radius.max(8.0 * scale);
    let (r0, r1) = (r * uniform(rng, 1.0, 1.2), r * uniform(rng, 0.75, 0.95));
    Vessel::along(control, r0, r1, 0.0)
}

/// Small vessels cut across, seen as faint dots scattered over the lung, kept `margin` pixels
/// from the lesion.
pub(crate) fn end_on_dots(
    rng: &mut SeededRng,
    hu: &mut [f64],
    width: usize,
    height: usize,
    scale: f64,
    lesion_distance: &dyn Fn(Point) -> f64,
    margin: f64,
) {
    let area = (width * height) as f64 / (128.0 * 128.0);
    let count = (uniform(rng, 15.0, 35.0) * area) as usize;
    for _ in 0..count {
        let p = interior_point(rng, width, height, 0.0);
        let r = uniform(rng, 0.4, 1.3) * scale;
        if lesion_distance(p) - r < margin {
            continue;
        }
        let dot = Vessel {
            points: vec![p, p],
            radii: vec![r, r],
            visibility: vec![uniform(rng, 0.3, 0.65); 2],
        };
        dot.render(hu, width, height, 1.2 * scale.max(0.5));
    }
}
