//! The viewer's mapping between image pixels and canvas pixels: fit, zoom about a point, pan.

/// Screen = image · `scale` + `offset` (canvas pixels; image pixel (c, r) covers
/// \[c, c+1) × \[r, r+1)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub scale: f64,
    pub offset: (f64, f64),
}

/// Zoom is kept between a quarter of the fitted size and 32 canvas pixels per image pixel.
const MAX_SCALE: f64 = 32.0;

impl Viewport {
    /// The whole image, centred, as large as fits in a `side × side` canvas.
    pub fn fit(image: (u32, u32), side: f64) -> Self {
        let (w, h) = (f64::from(image.0.max(1)), f64::from(image.1.max(1)));
        let scale = side / w.max(h);
        Self {
            scale,
            offset: ((side - w * scale) / 2.0, (side - h * scale) / 2.0),
        }
    }

    pub fn to_screen(&self, x: f64, y: f64) -> (f64, f64) {
        (
            x * self.scale + self.offset.0,
            y * self.scale + self.offset.1,
        )
    }

    pub fn to_image(&self, sx: f64, sy: f64) -> (f64, f64) {
        (
            (sx - self.offset.0) / self.scale,
            (sy - self.offset.1) / self.scale,
        )
    }

    /// Zooms by `factor` keeping the image point under (sx, sy) in place; `fitted` is the
    /// scale of [`Self::fit`], which bounds zooming out.
    pub fn zoom_at(&self, factor: f64, sx: f64, sy: f64, fitted: f64) -> Self {
        let scale = (self.scale * factor).clamp(fitted / 4.0, MAX_SCALE.max(fitted));
        let (ix, iy) = self.to_image(sx, sy);
        Self {
            scale,
            offset: (sx - ix * scale, sy - iy * scale),
        }
    }

    pub fn pan(&self, dx: f64, dy: f64) -> Self {
        Self {
            scale: self.scale,
            offset: (self.offset.0 + dx, self.offset.1 + dy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn fit_centres_and_round_trips() {
        let vp = Viewport::fit((128, 64), 512.0);
        assert_eq!(vp.scale, 4.0);
        assert_eq!(vp.to_screen(0.0, 0.0), (0.0, 128.0));
        assert_eq!(vp.to_image(256.0, 256.0), (64.0, 32.0));
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let vp = Viewport::fit((100, 100), 500.0);
        let zoomed = vp.zoom_at(2.0, 120.0, 310.0, vp.scale);
        assert_eq!(zoomed.scale, 10.0);
        let before = vp.to_image(120.0, 310.0);
        let after = zoomed.to_image(120.0, 310.0);
        assert!((before.0 - after.0).abs() < 1e-9 && (before.1 - after.1).abs() < 1e-9);
        assert_eq!(vp.zoom_at(0.001, 0.0, 0.0, vp.scale).scale, vp.scale / 4.0);
    }
}
