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

use crate::init::SeededRng;
use crate::metrics::Mask;
use crate::model::{Encoded, ProbUNet};

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

async fn read_f32(tensor: Tensor<2>) -> Result<Vec<f32>, ReadError> {
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
        let mu = encoded.prior.mu.clone().narrow(0, index, 1);
        let sigma = encoded.prior.sigma().narrow(0, index, 1);
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

    /// The two dimensions along which one prior σ moves the decoder most, larger first: the
    /// latent map's default axes. The effect of dimension d is σ_d · `weight_norms[d]` (see
    /// [`latent_weight_norms`]): how far a step of one σ along d shifts fcomb's first layer.
    /// Why: a model uses few of its latent dimensions (the shipped one mostly z1 and z6), and a
    /// map over two unused ones shows the same mask in every cell.
    pub fn most_telling_dims(&self, weight_norms: &[f32]) -> (usize, usize) {
        let effect = |d: usize| self.sigma[d] * weight_norms.get(d).copied().unwrap_or(0.0);
        let mut order: Vec<usize> = (0..self.dims()).collect();
        order.sort_by(|&a, &b| effect(b).total_cmp(&effect(a)).then(a.cmp(&b)));
        match order[..] {
            [first, second, ..] => (first, second),
            _ => (0, 1),
        }
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

/// One cell of the latent map.
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    /// The latent decoded in this cell.
    pub z: Vec<f32>,
    /// (x, y) position in units of the prior's σ.
    pub offset: (f32, f32),
}

/// ‖W_z[:, d]‖₂ for every latent dimension d: how strongly fcomb's first layer reads each
/// dimension of z (for [`HostPrior::most_telling_dims`]).
pub async fn latent_weight_norms(model: &ProbUNet) -> Result<Vec<f32>, ReadError> {
    let w_z = model.fcomb.latent_weights(model.config().latent_dim);
    read_f32(w_z.powi_scalar(2).sum_dim(0).sqrt()).await
}

/// Decodes latents `zs` (each of length M) against image 0 of `encoded` in one batched fcomb
/// call and reads back the arg-max foreground masks.
pub async fn decode_masks(
    model: &ProbUNet,
    encoded: &Encoded,
    zs: &[Vec<f32>],
) -> Result<Vec<Mask>, ReadError> {
    let n = zs.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let m = zs[0].len();
    let flat: Vec<f32> = zs.iter().flat_map(|z| z.iter().copied()).collect();
    let device = encoded.projection.device();
    let z = Tensor::<2>::from_data(TensorData::new(flat, [n, m]), &device);
    let projection = encoded.projection.clone().narrow(0, 0, 1);
    let [_, _, h, w] = projection.dims();
    let logits = model.fcomb.forward_projected(projection, z);
    // Foreground where logit₁ > logit₀: the arg-max of two classes, ties to the background.
    let margin = logits.clone().narrow(1, 1, 1) - logits.narrow(1, 0, 1);
    let values = read_f32(margin.reshape([n, h * w])).await?;
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
    fn telling_dims_weigh_sigma_by_the_decoders_weights() {
        let p = prior(); // σ = [2, 0.5, 1]
        assert_eq!(p.most_telling_dims(&[1.0, 1.0, 1.0]), (0, 2));
        assert_eq!(p.most_telling_dims(&[0.1, 1.0, 1.0]), (2, 1));
        assert_eq!(
            p.most_telling_dims(&[0.0, 0.0, 0.0]),
            (0, 1),
            "ties keep index order"
        );
        let one = HostPrior {
            mu: vec![0.0],
            sigma: vec![1.0],
        };
        assert_eq!(one.most_telling_dims(&[1.0]), (0, 1));
    }

    #[test]
    fn weight_norms_are_the_columns_of_w_z() {
        use crate::{ProbUNet, ProbUNetConfig};
        let device = burn::tensor::Device::flex();
        let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 5, &device);
        let norms = complete_now(latent_weight_norms(&model)).unwrap().unwrap();
        let w_z = model
            .fcomb
            .latent_weights(2)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (d, norm) in norms.iter().enumerate() {
            let expected: f32 = w_z
                .iter()
                .skip(d)
                .step_by(2)
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt();
            assert!(
                (norm - expected).abs() < 1e-5,
                "dim {d}: {norm} vs {expected}"
            );
        }
        assert_eq!(norms.len(), 2);
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
