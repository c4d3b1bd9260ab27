//! fcomb's per-sample layers in one pass: for each sample, the latent's offset on the projection,
//! ReLU, the hidden 1×1 convolutions with their ReLUs and the two-class output reduced to its
//! margin (foreground logit minus background logit: positive where the mask is drawn).
//!
//! Why fused: through burn, each of those steps writes and reads a whole `[N, P, H, W]` tensor —
//! at 128² and 16 samples 32 MB per step for a few multiply-adds per value, so sampling is bound
//! by memory, not arithmetic. Here a block of pixels keeps its activations in a few kilobytes
//! of scratch (L1) from the projection to the margin, every sample of the block is decoded
//! while its projection is in cache, and only the margins are written.

use crate::parallel::{for_each_group, parallel_groups};
use crate::vector::{Scalar, Vector};

/// fcomb after its first layer's image part, as plain slices (see probunet's `fcomb.rs` for the
/// split of the first layer into the per-image projection and the per-sample offset).
#[derive(Debug, Clone, Copy)]
pub struct FcombHead<'a> {
    /// Channels of the projection and of every hidden layer (P).
    pub channels: usize,
    /// The hidden 1×1 convolutions, `[L, P, P]` (output channel, input channel), row-major.
    pub hidden_weights: &'a [f32],
    /// Their biases, `[L, P]`.
    pub hidden_biases: &'a [f32],
    /// The output layer's foreground row minus its background row, `[P]`.
    pub margin_weight: &'a [f32],
    /// The output layer's foreground bias minus its background bias.
    pub margin_bias: f32,
}

impl FcombHead<'_> {
    fn layers(&self) -> usize {
        self.hidden_biases.len() / self.channels.max(1)
    }

    fn check(&self) {
        let p = self.channels;
        assert!(p > 0, "fcomb needs at least one channel");
        assert_eq!(self.hidden_biases.len() % p, 0, "hidden biases length");
        assert_eq!(
            self.hidden_weights.len(),
            self.layers() * p * p,
            "hidden weights length"
        );
        assert_eq!(self.margin_weight.len(), p, "margin weight length");
    }
}

/// For each sample `s` (a row of `offsets`, `[N, P]`) and pixel `x` of `projection`
/// (`[P, pixels]`): `margins[s·pixels + x]` = the margin of
/// `head(relu(projection[·, x] + offsets[s]))`.
///
/// # Panics
/// If a slice's length does not fit `head.channels`, `pixels` and the number of samples.
pub fn fcomb_margins(
    head: FcombHead<'_>,
    projection: &[f32],
    pixels: usize,
    offsets: &[f32],
    margins: &mut [f32],
) {
    let job = Job::checked(head, projection, pixels, offsets, margins);
    if margins.is_empty() {
        return;
    }
    let p = head.channels;
    let samples = offsets.len() / p;
    // Natively the samples are split between threads (each reads the whole projection: the
    // arithmetic per value read is high enough that this costs nothing measurable).
    let per_group = samples.div_ceil(parallel_groups(samples));
    for_each_group(margins, per_group * pixels, |g, out| {
        let first = g * per_group;
        let count = out.len() / pixels;
        let offsets = &offsets[first * p..(first + count) * p];
        Job { offsets, ..job }.decode(out);
    });
}

/// The portable form, and the reference the SIMD forms are tested against.
pub fn fcomb_margins_scalar(
    head: FcombHead<'_>,
    projection: &[f32],
    pixels: usize,
    offsets: &[f32],
    margins: &mut [f32],
) {
    Job::checked(head, projection, pixels, offsets, margins).tail(0, margins);
}

/// Two activation buffers of `P × width` values: one layer's input and output.
struct Scratch {
    input: Vec<f32>,
    output: Vec<f32>,
}

impl Scratch {
    fn new(channels: usize, width: usize) -> Self {
        Self {
            input: vec![0.0; channels * width],
            output: vec![0.0; channels * width],
        }
    }
}

/// What every block of one call reads: the head, the projection (`[P, pixels]`) and the
/// samples' offsets (`[N, P]`); the margins (`[N, pixels]`) are written beside it.
#[derive(Clone, Copy)]
struct Job<'a> {
    head: FcombHead<'a>,
    projection: &'a [f32],
    pixels: usize,
    offsets: &'a [f32],
}

impl<'a> Job<'a> {
    /// The slices must be exactly as long as `head` and `pixels` say: the kernels read by
    /// pointer.
    fn checked(
        head: FcombHead<'a>,
        projection: &'a [f32],
        pixels: usize,
        offsets: &'a [f32],
        margins: &[f32],
    ) -> Self {
        head.check();
        let p = head.channels;
        assert_eq!(projection.len(), p * pixels, "projection length");
        assert_eq!(offsets.len() % p, 0, "offsets length");
        assert_eq!(margins.len(), offsets.len() / p * pixels, "margins length");
        Self {
            head,
            projection,
            pixels,
            offsets,
        }
    }

    /// Every pixel: whole vector blocks by the instruction set's kernel, the rest one by one.
    fn decode(self, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if crate::vector::avx512_chosen() {
            #[target_feature(enable = "avx512f")]
            unsafe fn blocks_avx512(job: Job<'_>, out: &mut [f32]) -> usize {
                // 4 output channels × 2 vectors of 16 pixels.
                unsafe { job.blocks::<crate::vector::Avx512, 2>(out) }
            }
            // SAFETY: AVX-512F was just detected.
            let done = unsafe { blocks_avx512(self, out) };
            return self.tail(done, out);
        }
        #[cfg(target_arch = "x86_64")]
        if crate::vector::avx2_available() {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn blocks_avx2(job: Job<'_>, out: &mut [f32]) -> usize {
                // 4 output channels × 2 vectors of 8 pixels: 8 accumulators.
                unsafe { job.blocks::<crate::vector::Avx2, 2>(out) }
            }
            // SAFETY: AVX2 and FMA were just detected.
            let done = unsafe { blocks_avx2(self, out) };
            return self.tail(done, out);
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            // 4 output channels × 2 vectors of 4 pixels: 8 accumulators, 2 activations and a
            // weight in the 15 registers V8 leaves to wasm on x64.
            // SAFETY: simd128 is a compile-time feature of this build.
            let done = unsafe { self.blocks::<crate::vector::Simd128, 2>(out) };
            return self.tail(done, out);
        }
        #[allow(unreachable_code)]
        self.tail(0, out)
    }

    /// Pixels from `from` on, one at a time.
    fn tail(self, from: usize, out: &mut [f32]) {
        let mut scratch = Scratch::new(self.head.channels, 1);
        for x in from..self.pixels {
            // SAFETY: lengths checked by `checked`; one pixel per block.
            unsafe { self.block::<Scalar, 1>(x, out, &mut scratch) };
        }
    }

    /// Every whole block of `XB·LANES` pixels; returns the first pixel not done.
    ///
    /// # Safety
    /// `V`'s instruction set must be available.
    #[inline(always)]
    unsafe fn blocks<V: Vector, const XB: usize>(self, out: &mut [f32]) -> usize {
        let width = XB * V::LANES;
        let whole = self.pixels / width * width;
        let mut scratch = Scratch::new(self.head.channels, width);
        for x in (0..whole).step_by(width) {
            unsafe { self.block::<V, XB>(x, out, &mut scratch) };
        }
        whole
    }
    /// Every sample of the `XB·LANES` pixels from `x0`.
    ///
    /// # Safety
    /// `V`'s instruction set must be available; `x0 + XB·LANES ≤ pixels`; `scratch` sized for
    /// `XB·LANES` pixels.
    #[inline(always)]
    unsafe fn block<V: Vector, const XB: usize>(
        self,
        x0: usize,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        let Job {
            head,
            projection,
            pixels,
            offsets,
        } = self;
        let p = head.channels;
        let lanes = V::LANES;
        let width = XB * lanes;
        for (s, offset) in offsets.chunks_exact(p).enumerate() {
            let h = scratch.input.as_mut_ptr();
            for (c, &off) in offset.iter().enumerate() {
                let from = unsafe { projection.as_ptr().add(c * pixels + x0) };
                for x in 0..XB {
                    unsafe {
                        let v = V::load(from.add(x * lanes)).add(V::splat(off)).relu();
                        v.store(h.add(c * width + x * lanes));
                    }
                }
            }
            for l in 0..head.layers() {
                let weights = &head.hidden_weights[l * p * p..(l + 1) * p * p];
                let biases = &head.hidden_biases[l * p..(l + 1) * p];
                let (input, output) = (scratch.input.as_ptr(), scratch.output.as_mut_ptr());
                let mut o = 0;
                while o + 4 <= p {
                    unsafe { rows::<V, XB, 4>(weights, biases, p, o, input, output) };
                    o += 4;
                }
                while o < p {
                    unsafe { rows::<V, XB, 1>(weights, biases, p, o, input, output) };
                    o += 1;
                }
                std::mem::swap(&mut scratch.input, &mut scratch.output);
            }
            let h = scratch.input.as_ptr();
            let mut acc = [unsafe { V::splat(head.margin_bias) }; XB];
            for (c, &w) in head.margin_weight.iter().enumerate() {
                let w = unsafe { V::splat(w) };
                for (x, a) in acc.iter_mut().enumerate() {
                    *a = unsafe { V::mul_add(w, V::load(h.add(c * width + x * lanes)), *a) };
                }
            }
            for (x, a) in acc.into_iter().enumerate() {
                unsafe { a.store(out.as_mut_ptr().add(s * pixels + x0 + x * lanes)) };
            }
        }
    }
}

/// Output channels `o .. o + OB` of one hidden layer for a block: `relu(W · input + b)`.
///
/// # Safety
/// `input`/`output` hold `P × XB·LANES` values; `o + OB ≤ P`; `V`'s instruction set available.
#[inline(always)]
unsafe fn rows<V: Vector, const XB: usize, const OB: usize>(
    weights: &[f32],
    biases: &[f32],
    p: usize,
    o: usize,
    input: *const f32,
    output: *mut f32,
) {
    let lanes = V::LANES;
    let width = XB * lanes;
    let mut acc = [[unsafe { V::splat(0.0) }; XB]; OB];
    for (r, row) in acc.iter_mut().enumerate() {
        *row = [unsafe { V::splat(biases[o + r]) }; XB];
    }
    let w = weights.as_ptr();
    for i in 0..p {
        let mut v = [unsafe { V::splat(0.0) }; XB];
        for (x, v) in v.iter_mut().enumerate() {
            *v = unsafe { V::load(input.add(i * width + x * lanes)) };
        }
        for (r, row) in acc.iter_mut().enumerate() {
            let weight = unsafe { V::splat(*w.add((o + r) * p + i)) };
            for (x, a) in row.iter_mut().enumerate() {
                *a = unsafe { V::mul_add(weight, v[x], *a) };
            }
        }
    }
    for (r, row) in acc.into_iter().enumerate() {
        for (x, a) in row.into_iter().enumerate() {
            unsafe { a.relu().store(output.add((o + r) * width + x * lanes)) };
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence in [-1, 1).
    pub(crate) fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// The definition written out, one value at a time in f64.
    fn reference(
        head: FcombHead<'_>,
        projection: &[f32],
        pixels: usize,
        offsets: &[f32],
    ) -> Vec<f32> {
        let p = head.channels;
        let mut margins = Vec::new();
        for offset in offsets.chunks(p) {
            for x in 0..pixels {
                let mut h: Vec<f64> = (0..p)
                    .map(|c| f64::from(projection[c * pixels + x] + offset[c]).max(0.0))
                    .collect();
                for l in 0..head.layers() {
                    h = (0..p)
                        .map(|o| {
                            let sum: f64 = (0..p)
                                .map(|i| f64::from(head.hidden_weights[(l * p + o) * p + i]) * h[i])
                                .sum();
                            (sum + f64::from(head.hidden_biases[l * p + o])).max(0.0)
                        })
                        .collect();
                }
                let m: f64 = (0..p)
                    .map(|c| f64::from(head.margin_weight[c]) * h[c])
                    .sum();
                margins.push((m + f64::from(head.margin_bias)) as f32);
            }
        }
        margins
    }

    /// Channel counts that do and do not fill the 4-row blocks, no hidden layer to two, pixel
    /// counts with and without a tail after the vector blocks, one sample to several groups;
    /// on a CPU with AVX-512 both its form and the AVX2 one.
    #[test]
    fn fused_margins_match_the_definition() {
        #[cfg(target_arch = "x86_64")]
        for avx512 in [true, false] {
            crate::set_avx512(avx512);
            margins_match_the_definition();
        }
        #[cfg(target_arch = "x86_64")]
        crate::set_avx512(true);
        #[cfg(not(target_arch = "x86_64"))]
        margins_match_the_definition();
    }

    fn margins_match_the_definition() {
        for (seed, (p, layers, pixels, samples)) in [
            (32, 2, 256, 16),
            (6, 1, 37, 3),
            (5, 0, 16, 1),
            (16, 2, 9, 5),
            (3, 1, 1, 2),
        ]
        .into_iter()
        .enumerate()
        {
            let seed = seed as u64 * 10;
            let weights = values(layers * p * p, seed + 1);
            let biases = values(layers * p, seed + 2);
            let margin_weight = values(p, seed + 3);
            let head = FcombHead {
                channels: p,
                hidden_weights: &weights,
                hidden_biases: &biases,
                margin_weight: &margin_weight,
                margin_bias: 0.25,
            };
            let projection = values(p * pixels, seed + 4);
            let offsets = values(samples * p, seed + 5);
            let expected = reference(head, &projection, pixels, &offsets);
            let mut fast = vec![f32::NAN; samples * pixels];
            fcomb_margins(head, &projection, pixels, &offsets, &mut fast);
            let mut scalar = vec![f32::NAN; samples * pixels];
            fcomb_margins_scalar(head, &projection, pixels, &offsets, &mut scalar);
            for (got, name) in [(&fast, "fused"), (&scalar, "scalar")] {
                let worst = got
                    .iter()
                    .zip(&expected)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst < 1e-4,
                    "{name} p={p} layers={layers} pixels={pixels}: {worst}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "margins length")]
    fn a_short_output_is_refused() {
        let w = [0.0; 4];
        let head = FcombHead {
            channels: 2,
            hidden_weights: &w,
            hidden_biases: &w[..2],
            margin_weight: &w[..2],
            margin_bias: 0.0,
        };
        fcomb_margins(head, &[0.0; 8], 4, &[0.0; 4], &mut [0.0; 7]);
    }
}
