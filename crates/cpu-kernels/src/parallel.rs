//! How the kernels share work between threads: natively rayon's pool (as burn-flex), in wasm
//! one task after another (the page's workers each run one instance).

/// Values one task of plane-by-plane work should at least cover: small planes are cheap, and a
/// task per plane would cost more in scheduling than it computes.
const MIN_TASK_VALUES: usize = 16 * 1024;

/// How many channel groups to run as tasks: one per thread natively (at most one per block),
/// one in wasm (the page's workers each run one instance).
pub(crate) fn parallel_groups(blocks: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    return rayon::current_num_threads().clamp(1, blocks.max(1));
    #[cfg(target_arch = "wasm32")]
    {
        let _ = blocks;
        1
    }
}

/// Runs `group(g, chunk)` on consecutive `chunk_len` pieces of `out` (the last may be shorter):
/// in parallel natively, in order in wasm.
pub(crate) fn for_each_group<F>(out: &mut [f32], chunk_len: usize, group: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(chunk_len)
            .enumerate()
            .for_each(|(g, chunk)| group(g, chunk));
    }
    #[cfg(target_arch = "wasm32")]
    for (g, chunk) in out.chunks_mut(chunk_len).enumerate() {
        group(g, chunk);
    }
}

/// How many planes of `plane_len` output values one task takes: every thread gets work, and no
/// task is smaller than [`MIN_TASK_VALUES`] unless the whole output is.
pub(crate) fn planes_per_task(planes: usize, plane_len: usize) -> usize {
    let by_threads = planes.div_ceil(parallel_groups(planes));
    let by_size = MIN_TASK_VALUES.div_ceil(plane_len.max(1));
    by_threads.max(by_size).min(planes).max(1)
}
