//! Editing a mask by hand: a round brush, an eraser and a flood fill, on row-major booleans.

/// Sets every pixel within `radius` of (cx, cy) to `value`.
pub fn paint_disk(mask: &mut [bool], side: usize, cx: f64, cy: f64, radius: f64, value: bool) {
    let r = radius.max(0.5);
    let (x0, x1) = (
        (cx - r).floor().max(0.0) as usize,
        (cx + r).ceil().max(0.0) as usize,
    );
    let (y0, y1) = (
        (cy - r).floor().max(0.0) as usize,
        (cy + r).ceil().max(0.0) as usize,
    );
    for y in y0..y1.min(side) {
        for x in x0..x1.min(side) {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            if dx * dx + dy * dy <= r * r {
                mask[y * side + x] = value;
            }
        }
    }
}

/// Fills the 4-connected background region around (x, y) with foreground (nothing when the
/// pixel is already foreground): closes an outline drawn with the brush.
pub fn flood_fill(mask: &mut [bool], side: usize, x: usize, y: usize) {
    if x >= side || y >= side || mask[y * side + x] {
        return;
    }
    let mut stack = vec![(x, y)];
    while let Some((x, y)) = stack.pop() {
        if mask[y * side + x] {
            continue;
        }
        mask[y * side + x] = true;
        if x > 0 {
            stack.push((x - 1, y));
        }
        if y > 0 {
            stack.push((x, y - 1));
        }
        if x + 1 < side {
            stack.push((x + 1, y));
        }
        if y + 1 < side {
            stack.push((x, y + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn brush_paints_a_disk_and_eraser_clears_it() {
        let mut mask = vec![false; 16 * 16];
        paint_disk(&mut mask, 16, 8.0, 8.0, 2.0, true);
        let painted = mask.iter().filter(|&&v| v).count();
        assert!((10..=16).contains(&painted), "{painted}");
        assert!(mask[8 * 16 + 8] && !mask[0]);
        paint_disk(&mut mask, 16, 8.0, 8.0, 3.0, false);
        assert!(mask.iter().all(|&v| !v));
        paint_disk(&mut mask, 16, -5.0, 20.0, 2.0, true);
        assert!(mask.iter().all(|&v| !v), "off the canvas: nothing");
    }

    #[test]
    fn fill_stays_inside_a_closed_outline() {
        let side = 8;
        let mut mask = vec![false; side * side];
        for i in 2..6 {
            for (x, y) in [(i, 2), (i, 5), (2, i), (5, i)] {
                mask[y * side + x] = true;
            }
        }
        flood_fill(&mut mask, side, 3, 3);
        assert_eq!(
            mask.iter().filter(|&&v| v).count(),
            16,
            "the 4×4 square, filled"
        );
        assert!(!mask[0]);
    }
}
