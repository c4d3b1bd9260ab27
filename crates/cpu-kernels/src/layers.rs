//! The models' 3×3 layer shapes, on which the kernel choice ([`crate::kernel_for`]) is
//! measured: natively by `cargo bench -p cpu-kernels`, in the browser by the page's benchmark.

/// `(c_in, c_out, side)` of square layers: the paper preset's levels at 128², the small
/// preset's at 64², and the hierarchical model's inner widths (small preset at 64²).
pub const MODEL_LAYERS: [(usize, usize, usize); 21] = [
    (1, 32, 128),
    (32, 32, 128),
    (32, 64, 64),
    (64, 64, 64),
    (64, 128, 32),
    (128, 128, 32),
    (128, 192, 16),
    (192, 192, 16),
    (192, 192, 8),
    (96, 32, 128),
    (16, 16, 64),
    (64, 64, 16),
    (12, 6, 64),
    (6, 6, 64),
    (24, 12, 32),
    (12, 12, 32),
    (48, 24, 16),
    (24, 24, 16),
    (96, 48, 8),
    (48, 48, 8),
    (48, 48, 4),
];
