//! Binary segmentation masks as packed bitsets.
//!
//! Every metric here is a function of pairwise foreground intersections, so a mask is stored as
//! `u64` words (pixel `(x, y)` is bit `y · width + x`, row-major, little-endian within a word)
//! and an intersection is an AND plus a popcount: 128×128 is 256 words, and the 5,050 distinct
//! pairs of GED₁₀₀'s sample set cost about 1.3 M word operations. Bits past the last pixel are
//! always zero, so popcounts need no masking.

use super::error::{MetricsError, Result};

const WORD_BITS: usize = 64;

/// A binary mask: `width × height` pixels, each foreground (`true`) or background.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mask {
    width: usize,
    height: usize,
    words: Vec<u64>,
}

impl Mask {
    /// An all-background mask.
    pub fn empty(width: usize, height: usize) -> Self {
        let pixels = width * height;
        Self {
            width,
            height,
            words: vec![0; pixels.div_ceil(WORD_BITS)],
        }
    }

    /// A mask whose pixel `(x, y)` is `f(x, y)`.
    pub fn from_fn(width: usize, height: usize, mut f: impl FnMut(usize, usize) -> bool) -> Self {
        let mut mask = Self::empty(width, height);
        for y in 0..height {
            for x in 0..width {
                if f(x, y) {
                    mask.set_index(y * width + x);
                }
            }
        }
        mask
    }

    /// A mask from row-major booleans (`true` = foreground).
    pub fn from_bools(width: usize, height: usize, data: &[bool]) -> Result<Self> {
        Self::from_predicate(width, height, data, |&v| v)
    }

    /// A mask from row-major bytes: foreground where `value > threshold`.
    ///
    /// Use `threshold = 0` for 0/1 label maps and `127` for 0/255 images.
    pub fn from_u8(width: usize, height: usize, data: &[u8], threshold: u8) -> Result<Self> {
        Self::from_predicate(width, height, data, |&v| v > threshold)
    }

    /// A mask from row-major foreground probabilities: foreground where `p > threshold`.
    ///
    /// The comparison is strict so that `threshold = 0.5` gives the same mask as the arg-max of
    /// the model's two logits (a tie goes to the background, class 0). NaN is background.
    pub fn from_probabilities(
        width: usize,
        height: usize,
        data: &[f32],
        threshold: f32,
    ) -> Result<Self> {
        Self::from_predicate(width, height, data, |&p| p > threshold)
    }

    /// A mask from a string of `0` and `1` characters, row-major; white space is skipped.
    ///
    /// This is the compact form of the committed test vectors and handy in doc tests.
    pub fn parse_bits(width: usize, height: usize, bits: &str) -> Result<Self> {
        let mut values = Vec::with_capacity(width * height);
        for c in bits.chars().filter(|c| !c.is_whitespace()) {
            match c {
                '0' => values.push(false),
                '1' => values.push(true),
                other => return Err(MetricsError::InvalidBit(other)),
            }
        }
        Self::from_bools(width, height, &values)
    }

    fn from_predicate<T>(
        width: usize,
        height: usize,
        data: &[T],
        is_foreground: impl Fn(&T) -> bool,
    ) -> Result<Self> {
        let expected = width * height;
        if data.len() != expected {
            return Err(MetricsError::DataLength {
                width,
                height,
                expected,
                got: data.len(),
            });
        }
        let mut mask = Self::empty(width, height);
        for (i, value) in data.iter().enumerate() {
            if is_foreground(value) {
                mask.set_index(i);
            }
        }
        Ok(mask)
    }

    fn set_index(&mut self, i: usize) {
        self.words[i / WORD_BITS] |= 1 << (i % WORD_BITS);
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// `(width, height)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Number of pixels, `width · height`.
    pub fn pixel_count(&self) -> usize {
        self.width * self.height
    }

    /// Number of foreground pixels.
    pub fn foreground_count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the mask has no foreground pixel.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Pixel `(x, y)`. Panics when out of bounds.
    pub fn get(&self, x: usize, y: usize) -> bool {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) out of bounds"
        );
        let i = y * self.width + x;
        self.words[i / WORD_BITS] >> (i % WORD_BITS) & 1 == 1
    }

    /// Whether `(x, y)` is a foreground pixel on the mask's outline: a 4-neighbour is
    /// background or outside the image. Panics when out of bounds.
    pub fn is_boundary(&self, x: usize, y: usize) -> bool {
        self.get(x, y)
            && (x == 0
                || y == 0
                || x + 1 == self.width
                || y + 1 == self.height
                || !self.get(x - 1, y)
                || !self.get(x + 1, y)
                || !self.get(x, y - 1)
                || !self.get(x, y + 1))
    }

    /// Sets pixel `(x, y)`. Panics when out of bounds.
    pub fn set(&mut self, x: usize, y: usize, foreground: bool) {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) out of bounds"
        );
        let i = y * self.width + x;
        let bit = 1 << (i % WORD_BITS);
        if foreground {
            self.words[i / WORD_BITS] |= bit;
        } else {
            self.words[i / WORD_BITS] &= !bit;
        }
    }

    /// Number of pixels that are foreground in both masks. Panics when the shapes differ (the
    /// set-level functions check shapes first and return [`MetricsError::ShapeMismatch`]).
    pub fn intersection_count(&self, other: &Mask) -> usize {
        assert_eq!(self.shape(), other.shape(), "mask shapes differ");
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    /// Row-major indices of the foreground pixels, in increasing order.
    pub fn foreground_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(k, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    k * WORD_BITS + bit
                })
            })
        })
    }

    /// Row-major booleans.
    pub fn to_bools(&self) -> Vec<bool> {
        let mut out = vec![false; self.pixel_count()];
        for i in self.foreground_indices() {
            out[i] = true;
        }
        out
    }

    /// The packed words (see the module doc for the layout).
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}

impl std::fmt::Debug for Mask {
    /// Prints the shape, the foreground count and, for small masks, the bits row by row.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Mask({}×{}, {} foreground",
            self.width,
            self.height,
            self.foreground_count()
        )?;
        if self.pixel_count() <= 256 {
            for y in 0..self.height {
                f.write_str(if y == 0 { ": " } else { "/" })?;
                for x in 0..self.width {
                    f.write_str(if self.get(x, y) { "1" } else { "0" })?;
                }
            }
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_is_the_outline_of_the_foreground() {
        let mask = Mask::parse_bits(5, 4, "01110\n01110\n01110\n00000").unwrap();
        assert!(
            mask.is_boundary(1, 0) && mask.is_boundary(2, 0),
            "image edge"
        );
        assert!(mask.is_boundary(1, 1), "left neighbour is background");
        assert!(
            !mask.is_boundary(2, 1),
            "all four neighbours are foreground"
        );
        assert!(!mask.is_boundary(0, 0), "background is never boundary");
    }

    #[test]
    fn constructors_agree() {
        let bools = [true, false, false, true, true, false];
        let a = Mask::from_bools(3, 2, &bools).unwrap();
        let b = Mask::from_u8(3, 2, &[255, 0, 3, 200, 128, 127], 127).unwrap();
        let c = Mask::from_probabilities(3, 2, &[0.9, 0.5, f32::NAN, 0.51, 1.0, 0.0], 0.5).unwrap();
        let d = Mask::parse_bits(3, 2, "100\n110").unwrap();
        let e = Mask::from_fn(3, 2, |x, y| bools[y * 3 + x]);
        assert_eq!(a.to_bools(), bools);
        for other in [&b, &c, &d, &e] {
            assert_eq!(&a, other);
        }
        assert_eq!(a.foreground_count(), 3);
        assert!(a.get(0, 1) && !a.get(2, 1));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            Mask::from_bools(2, 2, &[true]),
            Err(MetricsError::DataLength {
                expected: 4,
                got: 1,
                ..
            })
        ));
        assert_eq!(
            Mask::parse_bits(2, 1, "1x"),
            Err(MetricsError::InvalidBit('x'))
        );
    }

    #[test]
    fn word_boundaries() {
        // 13×11 = 143 pixels: three words, the last one partly used.
        let mut m = Mask::from_fn(13, 11, |x, y| (x * 7 + y * 3) % 5 == 0);
        let expected = (0..143).filter(|i| (i % 13 * 7 + i / 13 * 3) % 5 == 0);
        assert!(m.foreground_indices().eq(expected));
        m.set(12, 10, true);
        assert!(m.get(12, 10));
        m.set(12, 10, false);
        assert!(!m.get(12, 10));
        assert_eq!(m.words().len(), 3);
        assert_eq!(Mask::empty(13, 11).foreground_count(), 0);
        assert!(Mask::empty(0, 0).is_empty());
    }
}
