//! VOI windowing: calibrated values to display/model intensities in \[0, 1\].
//!
//! The DICOM "LINEAR" VOI function (PS3.3 C.11.2.1.2.1) is used, so a window read from a
//! file renders exactly as on a workstation; presets are the usual chest/head CT settings.

/// A window centre/width pair in the slice's units (HU for CT).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Window centre (level).
    pub center: f32,
    /// Window width, at least 1.
    pub width: f32,
}

/// Named CT windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Lung parenchyma and nodules: L −600, W 1500.
    Lung,
    /// Mediastinum / soft tissue: L 40, W 400.
    Mediastinum,
    /// Bone: L 480, W 2500.
    Bone,
    /// Brain: L 40, W 80.
    Brain,
}

impl Preset {
    /// All presets, for a UI menu.
    pub const ALL: [Preset; 4] = [
        Preset::Lung,
        Preset::Mediastinum,
        Preset::Bone,
        Preset::Brain,
    ];

    /// The window in HU.
    pub fn window(self) -> Window {
        let (center, width) = match self {
            Preset::Lung => (-600.0, 1500.0),
            Preset::Mediastinum => (40.0, 400.0),
            Preset::Bone => (480.0, 2500.0),
            Preset::Brain => (40.0, 80.0),
        };
        Window { center, width }
    }

    /// Name for the UI.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Lung => "lung",
            Preset::Mediastinum => "mediastinum",
            Preset::Bone => "bone",
            Preset::Brain => "brain",
        }
    }
}

impl Window {
    /// A window that maps `lo` to exactly 0 and `hi` to exactly 1 under the LINEAR function,
    /// used when a file has no VOI and no preset applies (PNG grey levels, MR).
    pub fn full_range(lo: f32, hi: f32) -> Window {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        Window {
            center: (lo + hi) / 2.0 + 0.5,
            width: (hi - lo + 1.0).max(1.0),
        }
    }

    /// DICOM LINEAR VOI: value → \[0, 1\]. NaN maps to 0 so it never reaches the model.
    pub fn apply(&self, x: f32) -> f32 {
        let w = self.width.max(1.0);
        if w <= 1.0 {
            // PS3.3: width 1 is a threshold at the centre.
            return if x < self.center - 0.5 { 0.0 } else { 1.0 };
        }
        let y = (x - (self.center - 0.5)) / (w - 1.0) + 0.5;
        if y.is_nan() { 0.0 } else { y.clamp(0.0, 1.0) }
    }

    /// [`Window::apply`], then inverted for MONOCHROME1 (inversion comes after VOI, per PS3.4).
    pub fn apply_polarity(&self, x: f32, invert: bool) -> f32 {
        let y = self.apply(x);
        if invert { 1.0 - y } else { y }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_range_hits_ends() {
        let w = Window::full_range(0.0, 255.0);
        assert_eq!(w.apply(0.0), 0.0);
        assert_eq!(w.apply(255.0), 1.0);
        assert!((w.apply(127.5) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn lung_preset_matches_linear_formula() {
        let w = Preset::Lung.window();
        assert_eq!(w.apply(-1400.0), 0.0);
        assert_eq!(w.apply(200.0), 1.0);
        assert!((w.apply(-600.5) - 0.5).abs() < 1e-6);
        assert_eq!(w.apply(f32::NAN), 0.0);
    }

    #[test]
    fn monochrome1_inverts_after_voi() {
        let w = Preset::Mediastinum.window();
        assert_eq!(w.apply_polarity(-1000.0, true), 1.0);
        assert_eq!(w.apply_polarity(1000.0, true), 0.0);
    }

    #[test]
    fn narrow_width_is_a_threshold() {
        let w = Window {
            center: 10.0,
            width: 0.0,
        };
        assert_eq!(w.apply(9.0), 0.0);
        assert_eq!(w.apply(10.0), 1.0);
    }
}
