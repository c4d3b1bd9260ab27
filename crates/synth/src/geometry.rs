//! Small geometric helpers shared by the painters: points, smooth steps, Bézier curves.
//!
//! Everything here is `+ − × ÷ √` only, so results are bit-identical on every platform (see
//! [`super::seeds`]).

use crate::rng::SeededRng;

/// A point in pixel coordinates; pixel `(x, y)` has its centre at `(x + 0.5, y + 0.5)`.
pub(crate) type Point = (f64, f64);

/// Hermite smooth step: 0 below `e0`, 1 above `e1`, C¹ in between. Edges in CT are blurred by
/// the scanner's point-spread function; this is a cheap, trig-free stand-in for its integral.
pub(crate) fn smoothstep(e0: f64, e1: f64, x: f64) -> f64 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// A uniform number in `[lo, hi)`.
pub(crate) fn uniform(rng: &mut SeededRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.uniform()
}

/// A uniform integer in `lo..=hi`.
pub(crate) fn uniform_int(rng: &mut SeededRng, lo: usize, hi: usize) -> usize {
    lo + (rng.uniform() * (hi - lo + 1) as f64) as usize
}

/// A uniform point of the unit disk (rejection sampling: no trigonometry).
pub(crate) fn in_unit_disk(rng: &mut SeededRng) -> Point {
    loop {
        let x = 2.0 * rng.uniform() - 1.0;
        let y = 2.0 * rng.uniform() - 1.0;
        if x * x + y * y <= 1.0 {
            return (x, y);
        }
    }
}

/// A uniformly distributed direction (a unit vector).
pub(crate) fn unit_vector(rng: &mut SeededRng) -> Point {
    loop {
        let (x, y) = in_unit_disk(rng);
        let n = (x * x + y * y).sqrt();
        if n > 0.05 {
            return (x / n, y / n);
        }
    }
}

/// Length of a vector.
pub(crate) fn norm((x, y): Point) -> f64 {
    (x * x + y * y).sqrt()
}

/// `n + 1` points evenly spaced in the parameter of a cubic Bézier curve.
pub(crate) fn cubic_bezier(c: [Point; 4], n: usize) -> Vec<Point> {
    (0..=n)
        .map(|i| {
            let t = i as f64 / n as f64;
            let u = 1.0 - t;
            let (a, b, cc, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            (
                a * c[0].0 + b * c[1].0 + cc * c[2].0 + d * c[3].0,
                a * c[0].1 + b * c[1].1 + cc * c[2].1 + d * c[3].1,
            )
        })
        .collect()
}

/// Distance from `p` to the segment `a–b`, and the parameter `t ∈ [0, 1]` of the nearest point.
pub(crate) fn segment_distance(p: Point, a: Point, b: Point) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
    ((qx * qx + qy * qy).sqrt(), t)
}

/// The pixel rectangle `x0..x1, y0..y1` covering the box `lo–hi`, clipped to the image.
pub(crate) fn pixel_box(lo: Point, hi: Point, width: usize, height: usize) -> [usize; 4] {
    let clip = |v: f64, max: usize| v.floor().clamp(0.0, max as f64) as usize;
    [
        clip(lo.0, width),
        clip(hi.0 + 1.0, width),
        clip(lo.1, height),
        clip(hi.1 + 1.0, height),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothstep_ends() {
        assert_eq!(smoothstep(0.0, 1.0, -1.0), 0.0);
        assert_eq!(smoothstep(0.0, 1.0, 0.5), 0.5);
        assert_eq!(smoothstep(0.0, 1.0, 2.0), 1.0);
    }

    #[test]
    fn bezier_and_segments() {
        let pts = cubic_bezier([(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)], 3);
        assert_eq!(pts, vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]);
        let (d, t) = segment_distance((1.0, 2.0), (0.0, 0.0), (2.0, 0.0));
        assert_eq!((d, t), (2.0, 0.5));
        let mut rng = SeededRng::new(3);
        for _ in 0..100 {
            assert!((norm(unit_vector(&mut rng)) - 1.0).abs() < 1e-12);
            let k = uniform_int(&mut rng, 2, 4);
            assert!((2..=4).contains(&k));
        }
    }
}
