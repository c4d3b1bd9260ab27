//! Host-side exploration of an encoded image: which latents to decode and reading masks back.
//!
//! Everything an interactive front end needs after [`ProbUNet::encode`]: the prior read back
//! to the host ([`HostPrior`]), latents drawn from it ([`HostPrior::draw`]), the paper's latent
//! map ([`HostPrior::grid`]: a 2-D grid over two latent dimensions in units of the prior's σ),
//! and [`decode_masks`], which runs fcomb on a batch of latents and reads the arg-max masks.
//! Reads are async (`into_data_async`) because on WebGPU in the browser they must be.
//!
//! Latents are chosen on the host with [`SeededRng`], so a seed gives the same samples on every
//! backend, and a front end can decode them in chunks (yielding between chunks) without the
//! chunking changing the result.

use burn::tensor::{Tensor, TensorData};

use crate::gaussian_encoder::DiagonalGaussian;
use crate::init::SeededRng;
use crate::model::{Encoded, ProbUNet};
use metrics::Mask;

/// Reading a tensor back from the device failed.
#[derive(Debug, thiserror::Error)]
#[error("reading the model's output back from the device failed: {0}")]
pub struct ReadError(String);

impl ReadError {
    pub(crate) fn new(reason: String) -> Self {
        Self(reason)
    }
}

/// Finishes a future that completes on its first poll, as every read on the CPU backend does,
/// so native code (CLI, tests) can call the async reads without an executor. `None` when the
/// future would have to wait (a GPU read).
pub fn complete_now<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// A tensor's values on the host, row-major (async: on WebGPU in the browser reads must be).
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, ReadError> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|error| ReadError(format!("{error:?}")))?;
    data.convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|error| ReadError(format!("{error:?}")))
}

/// The prior p(z|x) of one image, on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPrior {
    /// μ, one value per latent dimension.
    pub mu: Vec<f32>,
    /// σ = exp(log σ), one value per latent dimension.
    pub sigma: Vec<f32>,
}

impl HostPrior {
    /// Reads image `index`'s prior from an encoding.
    pub async fn read(encoded: &Encoded, index: usize) -> Result<Self, ReadError> {
        Self::of(&encoded.prior, index).await
    }

    /// Reads image `index`'s distribution from a prior net's output ([`ProbUNet::prior_of`]).
    pub async fn of(prior: &DiagonalGaussian, index: usize) -> Result<Self, ReadError> {
        let mu = prior.mu.clone().narrow(0, index, 1);
        let sigma = prior.sigma().narrow(0, index, 1);
        Ok(Self {
            mu: read_f32(mu).await?,
            sigma: read_f32(sigma).await?,
        })
    }

    /// Latent dimension M.
    pub fn dims(&self) -> usize {
        self.mu.len()
    }

    /// `n` draws z = μ + σ ⊙ ε, ε ~ N(0, I) from `rng` (the same ε order as
    /// [`ProbUNet::draw_prior`], so both give the same latents for the same seed).
    pub fn draw(&self, n: usize, rng: &mut SeededRng) -> Vec<Vec<f32>> {
        let m = self.dims();
        let eps = rng.normals(n * m, 1.0);
        eps.chunks(m.max(1)).take(n).map(|e| self.at(e)).collect()
    }

    /// z = μ + σ ⊙ `offset`: a point given in units of the prior's σ per dimension.
    pub fn at(&self, offset: &[f32]) -> Vec<f32> {
        self.mu
            .iter()
            .zip(&self.sigma)
            .zip(offset)
            .map(|((mu, sigma), e)| mu + sigma * e)
            .collect()
    }

    /// Where `z` lies in units of σ from μ (the inverse of [`Self::at`]).
    pub fn standardise(&self, z: &[f32]) -> Vec<f32> {
        self.mu
            .iter()
            .zip(&self.sigma)
            .zip(z)
            .map(|((mu, sigma), z)| (z - mu) / sigma)
            .collect()
    }

    /// Latents stepping one dimension at a time to −`extent` and +`extent` σ (every other at
    /// its mean): 2·M of them, dimension-major (d = 0 at −, d = 0 at +, d = 1 at −, …). Decoded,
    /// they feed [`most_telling_dims`].
    pub fn sweep(&self, extent: f32) -> Vec<Vec<f32>> {
        (0..self.dims())
            .flat_map(|d| {
                [-extent, extent].map(|e| {
                    let mut offset = vec![0.0; self.dims()];
                    offset[d] = e;
                    self.at(&offset)
                })
            })
            .collect()
    }

    /// The latent map of Kohl et al.'s Fig. 1: a `cells × cells` grid over dimensions `x_dim`
    /// (columns, left to right) and `y_dim` (rows, top to bottom = +extent to −extent) spanning
    /// ±`extent` σ, every other dimension at its mean. Row-major; `None` if a dimension is out
    /// of range, the two are equal, or `cells` < 2.
    pub fn grid(
        &self,
        x_dim: usize,
        y_dim: usize,
        extent: f32,
        cells: usize,
    ) -> Option<Vec<GridCell>> {
        let m = self.dims();
        if x_dim >= m || y_dim >= m || x_dim == y_dim || cells < 2 {
            return None;
        }
        let step = 2.0 * extent / (cells - 1) as f32;
        let mut out = Vec::with_capacity(cells * cells);
        for row in 0..cells {
            for col in 0..cells {
                let mut offset = vec![0.0; m];
                offset[x_dim] = -extent + col as f32 * step;
                offset[y_dim] = extent - row as f32 * step;
                out.push(GridCell {
                    z: self.at(&offset),
                    offset: (offset[x_dim], offset[y_dim]),
                });
            }
        }
        Some(out)
    }
}

/// The two latent dimensions along which this image's mask changes most, larger first: the
/// latent map's default axes. `swept` are the masks decoded from [`HostPrior::sweep`] (two per
/// dimension), `mean` the mask at μ; a dimension's change is the pixels where its two ends
/// differ from the mean mask. Ties keep index order.
///
/// Why: a model uses few of its latent dimensions, and a map over two unused ones shows the
/// same mask in every cell. Measured on the crop rather than read off the weights (σ_d times
/// ‖W_z[:, d]‖, the previous rule) because the decoder's response is nonlinear and depends on
/// the image: a dimension that attaches a vessel matters only where one touches the nodule
/// (the e2e suite checks that the chosen map moves more pixels than one over other dimensions).
/// The sweep costs 2·M + 1 fcomb decodes, fewer than the map's own 49.
pub fn most_telling_dims(swept: &[Mask], mean: &Mask) -> (usize, usize) {
    let change = |d: usize| -> usize {
        swept[2 * d..(2 * d + 2).min(swept.len())]
            .iter()
            .map(|m| {
                m.foreground_count() + mean.foreground_count() - 2 * m.intersection_count(mean)
            })
            .sum()
    };
    let mut order: Vec<usize> = (0..swept.len() / 2).collect();
    order.sort_by(|&a, &b| change(b).cmp(&change(a)).then(a.cmp(&b)));
    match order[..] {
        [first, second, ..] => (first, second),
        _ => (0, 1),
    }
}

/// One cell of the latent map.
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    /// The latent decoded in this cell.
    pub z: Vec<f32>,
    /// (x, y) position in units of the prior's σ.
    pub offset: (f32, f32),
}

/// Decodes latents `zs` (each of length M) against image 0 of `encoded` in one batched fcomb
/// call and reads back the arg-max foreground masks.
pub async fn decode_masks(
    model: &ProbUNet,
    encoded: &Encoded,
    zs: &[Vec<f32>],
) -> Result<Vec<Mask>, ReadError> {
    decode_projected(model, &encoded.projection.clone().narrow(0, 0, 1), zs).await
}

/// [`decode_masks`] from one image's fcomb projection alone (`[1, P, H, W]`,
/// [`ProbUNet::project`]): all a sample needs, so it can be decoded wherever the projection is.
pub async fn decode_projected(
    model: &ProbUNet,
    projection: &Tensor<4>,
    zs: &[Vec<f32>],
) -> Result<Vec<Mask>, ReadError> {
    let n = zs.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let m = zs[0].len();
    let flat: Vec<f32> = zs.iter().flat_map(|z| z.iter().copied()).collect();
    let z = Tensor::<2>::from_data(TensorData::new(flat, [n, m]), &projection.device());
    let [_, _, h, w] = projection.dims();
    read_margin_masks(model.fcomb.margins(projection.clone(), z), w, h).await
}

/// Reads the arg-max foreground masks of two-class logits `[N, 2, H, W]` back to the host.
pub(crate) async fn read_masks(logits: Tensor<4>) -> Result<Vec<Mask>, ReadError> {
    let [n, _, h, w] = logits.dims();
    let margin = logits.clone().narrow(1, 1, 1) - logits.narrow(1, 0, 1);
    read_margin_masks(margin.reshape([n, h * w]), w, h).await
}

/// Masks of `w`×`h` from margins `[N, H·W]` (foreground minus background logit).
async fn read_margin_masks(margins: Tensor<2>, w: usize, h: usize) -> Result<Vec<Mask>, ReadError> {
    // Foreground where logit₁ > logit₀: the arg-max of two classes, ties to the background.
    let values = read_f32(margins).await?;
    Ok(values
        .chunks(h * w)
        .map(|plane| Mask::from_fn(w, h, |x, y| plane[y * w + x] > 0.0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prior() -> HostPrior {
        HostPrior {
            mu: vec![0.5, -1.0, 2.0],
            sigma: vec![2.0, 0.5, 1.0],
        }
    }

    #[test]
    fn at_and_standardise_are_inverse() {
        let p = prior();
        let z = p.at(&[1.0, -2.0, 0.0]);
        assert_eq!(z, vec![2.5, -2.0, 2.0]);
        assert_eq!(p.standardise(&z), vec![1.0, -2.0, 0.0]);
    }

    #[test]
    fn grid_spans_the_extent_with_y_up() {
        let p = prior();
        let cells = p.grid(0, 1, 2.0, 5).expect("valid grid");
        assert_eq!(cells.len(), 25);
        assert_eq!(cells[0].offset, (-2.0, 2.0));
        assert_eq!(cells[24].offset, (2.0, -2.0));
        assert_eq!(cells[12].z, p.mu, "the centre cell is the prior mean");
        assert_eq!(cells[4].z, vec![0.5 + 2.0 * 2.0, -1.0 + 0.5 * 2.0, 2.0]);
        assert!(p.grid(0, 0, 2.0, 5).is_none());
        assert!(p.grid(0, 3, 2.0, 5).is_none());
        assert!(p.grid(0, 1, 2.0, 1).is_none());
    }

    #[test]
    fn sweep_steps_one_dimension_at_a_time() {
        let p = prior(); // μ = [0.5, -1, 2], σ = [2, 0.5, 1]
        let zs = p.sweep(3.0);
        assert_eq!(zs.len(), 6);
        assert_eq!(zs[0], vec![0.5 - 6.0, -1.0, 2.0]);
        assert_eq!(zs[1], vec![0.5 + 6.0, -1.0, 2.0]);
        assert_eq!(zs[3], vec![0.5, -1.0 + 1.5, 2.0]);
        assert_eq!(zs[4], vec![0.5, -1.0, 2.0 - 3.0]);
    }

    #[test]
    fn telling_dims_are_where_the_mask_changes_most() {
        let disc = |r: usize| {
            Mask::from_fn(8, 8, |x, y| {
                x.abs_diff(4).pow(2) + y.abs_diff(4).pow(2) <= r * r
            })
        };
        let mean = disc(2);
        // Dimension 0 leaves the mask alone, 1 shrinks and grows it a little, 2 a lot.
        let swept = [disc(2), disc(2), disc(1), disc(3), disc(0), disc(4)];
        assert_eq!(most_telling_dims(&swept, &mean), (2, 1));
        let still = [disc(2), disc(2), disc(2), disc(2)];
        assert_eq!(
            most_telling_dims(&still, &mean),
            (0, 1),
            "ties keep index order"
        );
        assert_eq!(
            most_telling_dims(&swept[..2], &mean),
            (0, 1),
            "one dimension"
        );
    }

    #[test]
    fn draws_are_seeded() {
        let p = prior();
        let a = p.draw(4, &mut SeededRng::new(9));
        let b = p.draw(4, &mut SeededRng::new(9));
        assert_eq!(a, b);
        assert_eq!(a.len(), 4);
        assert!(a.iter().all(|z| z.len() == 3));
        assert_ne!(a[0], a[1]);
    }
}
