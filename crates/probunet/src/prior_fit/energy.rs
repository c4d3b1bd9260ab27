//! The energy distance between sample masks and annotations, and its score-function weights.

use burn::tensor::Tensor;

/// Smoothing of the IoU in [`jaccard_distances`], in pixels: two empty masks are at distance
/// 0, an empty and a non-empty one at ~1 (exactly `1 − 1/(|A| + 1)`), and no gradient exceeds
/// one per pixel (a tiny ε would make the gradient at two empty masks ~1/ε). It is the IoU of the
/// masks with one extra pixel set in all of them, so still a positive definite kernel and the
/// objective still proper.
pub const IOU_SMOOTHING: f32 = 1.0;

/// 2·mean d(S, Y) − mean_{i≠j} d(S_i, S_j) per image: samples `[B, n, P]`, annotations
/// `[B, K, P]` (P pixels, values in \[0, 1\]) → `[B]`.
pub fn sample_terms(samples: Tensor<3>, annotations: Tensor<3>) -> Tensor<1> {
    let cross = jaccard_distances(samples.clone(), annotations)
        .mean_dim(2)
        .mean_dim(1)
        .flatten::<1>(0, 2);
    cross * 2.0 - off_diagonal_mean(jaccard_distances(samples.clone(), samples))
}

/// Per-sample weights `[B, n]` of the score-function (REINFORCE) gradient of [`sample_terms`]:
/// for samples S_i = f(z_i), z_i ~ p(z|x),
///
/// ```text
/// ∇ E[D] = E[ Σ_i w_i ∇ log p(z_i|x) ],
/// w_i = (2/n)·[(a_i − mean_{j≠i} a_j) − (mean_{j≠i} d_ij − mean_{j≠l; j,l≠i} d_jl)]
/// ```
///
/// with a_i = mean_k d(S_i, Y_k) and d_ij = d(S_i, S_j). Each sample's reward is the part of
/// D it enters (its cross term, and its pairs with the others, which count twice), minus a
/// baseline built from the other samples only — independent of z_i, so the estimate stays
/// unbiased while most of the noise common to all samples cancels. The weights of an image sum
/// to 0; a sample drawn more often than the annotations warrant gets a positive weight, so
/// minimising Σ w_i log p(z_i) moves the prior's mass off it. Needs n ≥ 3.
pub fn score_weights(samples: Tensor<3>, annotations: Tensor<3>) -> Tensor<2> {
    let [b, n, _] = samples.dims();
    assert!(n >= 3, "score-function weights need at least 3 samples");
    let cross = jaccard_distances(samples.clone(), annotations)
        .mean_dim(2)
        .reshape([b, n]);
    let pairs = without_diagonal(jaccard_distances(samples.clone(), samples));
    let row_sums = pairs.sum_dim(2).reshape([b, n]);
    let total = row_sums.clone().sum_dim(1);
    let (n1, n2) = ((n - 1) as f32, (n - 2) as f32);
    let cross_baseline = (cross.clone().sum_dim(1) - cross.clone()) / n1;
    let pairs_baseline = (total - row_sums.clone() * 2.0) / (n1 * n2);
    ((cross - cross_baseline) - (row_sums / n1 - pairs_baseline)) * (2.0 / n as f32)
}

/// 1 − (|A∩B| + s)/(|A∪B| + s) between every row of `a` `[B, n, P]` and of `b` `[B, m, P]`
/// (soft counts; s = [`IOU_SMOOTHING`]) → `[B, n, m]`.
pub fn jaccard_distances(a: Tensor<3>, b: Tensor<3>) -> Tensor<3> {
    let intersection = a.clone().matmul(b.clone().swap_dims(1, 2));
    let size_a = a.sum_dim(2);
    let size_b = b.sum_dim(2).swap_dims(1, 2);
    let union = size_a + size_b - intersection.clone();
    (intersection + IOU_SMOOTHING)
        .div(union + IOU_SMOOTHING)
        .neg()
        + 1.0
}

/// Mean of each `[n, n]` matrix's off-diagonal entries, `[B, n, n]` → `[B]` (n ≥ 2).
pub(super) fn off_diagonal_mean(d: Tensor<3>) -> Tensor<1> {
    let [_, n, _] = d.dims();
    without_diagonal(d).sum_dim(2).sum_dim(1).flatten::<1>(0, 2) / (n * (n - 1)) as f32
}

/// `d` `[B, n, n]` with each matrix's diagonal set to 0.
fn without_diagonal(d: Tensor<3>) -> Tensor<3> {
    let [b, n, _] = d.dims();
    let diagonal = Tensor::<2>::eye(n, &d.device())
        .unsqueeze_dim::<3>(0)
        .expand([b, n, n]);
    d * (diagonal.neg() + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn masks(rows: &[&[f32]], device: &Device) -> Tensor<3> {
        let p = rows[0].len();
        let data: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_data(TensorData::new(data, [1, rows.len(), p]), device)
    }

    const LEFT: &[f32] = &[1.0, 1.0, 0.0, 0.0];
    const RIGHT: &[f32] = &[0.0, 0.0, 1.0, 1.0];

    #[test]
    fn distances_follow_the_empty_mask_rules_up_to_the_smoothing() {
        let device = Device::flex();
        let a = masks(&[&[1.0, 1.0, 0.0, 0.0], &[0.0; 4]], &device);
        let b = masks(&[&[0.0, 1.0, 1.0, 0.0], &[0.0; 4]], &device);
        let d = jaccard_distances(a, b)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // {0,1} vs {1,2}: 1 − 2/4; vs empty: 1 − 1/3; empty vs {1,2}: 1 − 1/3; empty vs empty: 0.
        let expected = [0.5, 2.0 / 3.0, 2.0 / 3.0, 0.0];
        for (got, want) in d.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{d:?}");
        }
    }

    #[test]
    fn the_objective_is_lowest_when_samples_match_the_annotations() {
        let device = Device::flex();
        let annotations = || masks(&[LEFT, RIGHT, LEFT, RIGHT], &device);
        let score = |rows: &[&[f32]]| -> f32 {
            sample_terms(masks(rows, &device), annotations()).into_scalar::<f32>()
        };
        let matched = score(&[LEFT, RIGHT, LEFT, RIGHT]);
        let collapsed = score(&[LEFT, LEFT, LEFT, LEFT]);
        let skewed = score(&[LEFT, LEFT, LEFT, RIGHT]);
        assert!(
            matched < skewed && skewed < collapsed,
            "{matched} {skewed} {collapsed}"
        );
    }

    fn weights(samples: &[&[f32]], annotations: &[&[f32]]) -> Vec<f32> {
        let device = Device::flex();
        score_weights(masks(samples, &device), masks(annotations, &device))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn score_weights_push_mass_from_the_over_drawn_hypothesis_to_the_under_drawn_one() {
        // Annotations are half LEFT, half RIGHT; the samples are three quarters LEFT.
        let w = weights(&[LEFT, LEFT, LEFT, RIGHT], &[LEFT, RIGHT, LEFT, RIGHT]);
        assert!(w[..3].iter().all(|&v| v > 0.0) && w[3] < 0.0, "{w:?}");
        assert!(w.iter().sum::<f32>().abs() < 1e-6, "{w:?}");
        // Samples already in the annotations' proportions: nothing to move.
        let w = weights(&[LEFT, RIGHT, LEFT, RIGHT], &[LEFT, RIGHT, LEFT, RIGHT]);
        assert!(w.iter().all(|v| v.abs() < 1e-6), "{w:?}");
    }

    /// The weights against a brute-force evaluation of their definition.
    #[test]
    fn score_weights_follow_their_definition() {
        let empty: &[f32] = &[0.0; 4];
        let mid: &[f32] = &[0.0, 1.0, 1.0, 0.0];
        let samples = [LEFT, mid, empty, RIGHT, LEFT];
        let annotations = [LEFT, RIGHT, RIGHT];
        let got = weights(&samples, &annotations);
        let d = |a: &[f32], b: &[f32]| {
            let i: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            let u: f32 = a.iter().sum::<f32>() + b.iter().sum::<f32>() - i;
            1.0 - (i + IOU_SMOOTHING) / (u + IOU_SMOOTHING)
        };
        let n = samples.len();
        let a: Vec<f32> = samples
            .iter()
            .map(|s| annotations.iter().map(|y| d(s, y)).sum::<f32>() / 3.0)
            .collect();
        let mean = |v: Vec<f32>| v.iter().sum::<f32>() / v.len() as f32;
        for i in 0..n {
            let others = || (0..n).filter(move |&j| j != i);
            let a_base = mean(others().map(|j| a[j]).collect());
            let row = mean(others().map(|j| d(samples[i], samples[j])).collect());
            let pair_base = mean(
                others()
                    .flat_map(|j| others().filter(move |&l| l != j).map(move |l| (j, l)))
                    .map(|(j, l)| d(samples[j], samples[l]))
                    .collect(),
            );
            let want = 2.0 / n as f32 * ((a[i] - a_base) - (row - pair_base));
            assert!((got[i] - want).abs() < 1e-5, "{i}: {got:?} vs {want}");
        }
    }
}
