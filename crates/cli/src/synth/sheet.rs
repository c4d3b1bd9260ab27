//! The contact sheet of `probunet synth --contact-sheet`: every case of a run at a glance, so a
//! person can check that images look like lung CT and that the hypotheses are plausible.

use std::path::Path;

use anyhow::Result;
use metrics::Mask;
use synth::Case;

use crate::png::write_rgb;

/// Rows (cases) on one sheet.
pub const MAX_ROWS: usize = 12;
/// Columns of hypotheses (the largest table has four).
const HYPOTHESIS_COLUMNS: usize = 4;
/// Pixels between tiles.
const GAP: usize = 4;
/// Height of the probability bar under a hypothesis tile.
const BAR: usize = 5;

const BACKGROUND: [u8; 3] = [24, 24, 32];
const HYPOTHESIS: [u8; 3] = [255, 60, 40];
const RATER: [u8; 3] = [60, 140, 255];
const PROBABILITY: [u8; 3] = [60, 220, 90];

/// Writes the sheet: per row the image, the hypotheses (red, with a green probability bar) and
/// the raters (blue). A "missed" (empty) hypothesis shows the image darkened.
pub fn write(path: &Path, rows: &[(Case, Vec<usize>)]) -> Result<()> {
    let Some((first, _)) = rows.first() else {
        return Ok(());
    };
    let (tw, th) = (first.width, first.height);
    let raters = rows.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    let columns = 1 + HYPOTHESIS_COLUMNS + raters;
    let width = GAP + columns * (tw + GAP);
    let height = GAP + rows.len() * (th + BAR + 2 + GAP);
    let mut canvas = Canvas {
        width,
        pixels: BACKGROUND.repeat(width * height),
    };
    for (row, (case, rater_draws)) in rows.iter().enumerate() {
        let y = GAP + row * (th + BAR + 2 + GAP);
        let tile = |col: usize| GAP + col * (tw + GAP);
        canvas.tile(tile(0), y, case, None, [0; 3]);
        for (k, h) in case.hypotheses.iter().enumerate().take(HYPOTHESIS_COLUMNS) {
            canvas.tile(tile(1 + k), y, case, Some(&h.mask), HYPOTHESIS);
            let len = (h.probability * tw as f64).round() as usize;
            canvas.fill(tile(1 + k), y + th + 2, len, BAR, PROBABILITY);
        }
        for (r, &k) in rater_draws.iter().enumerate() {
            let col = tile(1 + HYPOTHESIS_COLUMNS + r);
            canvas.tile(col, y, case, Some(&case.hypotheses[k].mask), RATER);
        }
    }
    write_rgb(path, width, height, canvas.pixels)
}

struct Canvas {
    width: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn put(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        let i = 3 * (y * self.width + x);
        self.pixels[i..i + 3].copy_from_slice(&rgb);
    }

    fn fill(&mut self, x0: usize, y0: usize, w: usize, h: usize, rgb: [u8; 3]) {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                self.put(x, y, rgb);
            }
        }
    }

    /// The case image at `(x0, y0)`, with `mask` outlined and lightly tinted in `colour`.
    fn tile(&mut self, x0: usize, y0: usize, case: &Case, mask: Option<&Mask>, colour: [u8; 3]) {
        let grey = case.image_u8();
        let (w, h) = (case.width, case.height);
        let missed = mask.is_some_and(Mask::is_empty);
        for y in 0..h {
            for x in 0..w {
                let g = grey[y * w + x];
                let g = if missed { g / 2 } else { g };
                let mut rgb = [g; 3];
                if let Some(m) = mask.filter(|m| m.get(x, y)) {
                    rgb = if m.is_boundary(x, y) {
                        colour
                    } else {
                        std::array::from_fn(|c| ((3 * g as u16 + colour[c] as u16) / 4) as u8)
                    };
                }
                self.put(x0 + x, y0 + y, rgb);
            }
        }
    }
}
