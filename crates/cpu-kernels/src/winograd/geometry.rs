//! Where a tiling's tiles lie in an image: the split planes the input transform reads and
//! the pixels the output transform writes.

use super::BLOCK_TILES;
use crate::parallel::{for_each_group, planes_per_task};

/// Where tiles and their split rows lie for one image size, tile size and vector width.
#[derive(Clone, Copy)]
pub(super) struct Geometry {
    pub(super) h: usize,
    pub(super) w: usize,
    /// Output tile side (`Tiling::M`).
    pub(super) m: usize,
    /// Tile rows and tile columns (`⌈h/M⌉`, `⌈w/M⌉`).
    pub(super) tile_rows: usize,
    pub(super) tile_cols: usize,
    /// Tile columns rounded up to whole vectors: the stride of a tile row.
    pub(super) tile_stride: usize,
    /// Length of each phase of a split row: one more than `tile_stride`, since tile `tx` also
    /// reads entry `tx + 1`.
    pub(super) phase: usize,
}

impl Geometry {
    pub(super) fn new(h: usize, w: usize, m: usize, lanes: usize) -> Self {
        let (tile_rows, tile_cols) = (h.div_ceil(m), w.div_ceil(m));
        let tile_stride = tile_cols.next_multiple_of(lanes);
        Geometry {
            h,
            w,
            m,
            tile_rows,
            tile_cols,
            tile_stride,
            phase: tile_stride + 1,
        }
    }
    /// A split row: its `m` phases one after the other.
    pub(super) fn row_len(&self) -> usize {
        self.m * self.phase
    }
    /// One channel's split plane: the bordered rows `0 ..= M·tile_rows + 1`.
    pub(super) fn plane_len(&self) -> usize {
        (self.m * self.tile_rows + 2) * self.row_len()
    }
}

/// The image in zero-bordered planes whose rows are split into `M` phases (bordered column
/// `p` at entry `p / M` of phase `p % M`; `M` is `geo.m`, a constant here so the index needs
/// no division).
pub(super) fn split_planes<const M: usize>(image: &[f32], c_in: usize, geo: &Geometry) -> Vec<f32> {
    let (h, w, plane_len) = (geo.h, geo.w, geo.plane_len());
    let mut split = vec![0.0; c_in * plane_len];
    let per_task = planes_per_task(c_in, plane_len);
    for_each_group(&mut split, per_task * plane_len, |g, planes| {
        for (k, plane) in planes.chunks_exact_mut(plane_len).enumerate() {
            let c = g * per_task + k;
            for y in 0..h {
                let row = &mut plane[(y + 1) * geo.row_len()..][..geo.row_len()];
                for (x, &value) in image[(c * h + y) * w..][..w].iter().enumerate() {
                    let p = x + 1;
                    row[(p % M) * geo.phase + p / M] = value;
                }
            }
        }
    });
    split
}

/// Where a register block's tiles write: each tile's top-left output pixel and how many of
/// its columns and rows lie inside the image (`None` for the padding tiles past the last tile
/// column). Found once per block, not per channel: a division per tile would cost as much as
/// its products.
pub(super) struct Corners {
    corners: [Option<(usize, usize, usize)>; BLOCK_TILES],
    count: usize,
}

impl Corners {
    #[inline(always)]
    pub(super) fn of(tiles: std::ops::Range<usize>, geo: &Geometry) -> Self {
        let mut corners = [None; BLOCK_TILES];
        let (mut ty, mut tx) = (tiles.start / geo.tile_stride, tiles.start % geo.tile_stride);
        for corner in corners.iter_mut().take(tiles.len()) {
            if tx < geo.tile_cols {
                let (y, x) = (geo.m * ty, geo.m * tx);
                *corner = Some((y * geo.w + x, geo.m.min(geo.w - x), geo.m.min(geo.h - y)));
            }
            tx += 1;
            if tx == geo.tile_stride {
                (ty, tx) = (ty + 1, 0);
            }
        }
        Corners {
            corners,
            count: tiles.len(),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Option<(usize, usize, usize)>> {
        self.corners[..self.count].iter()
    }
}
