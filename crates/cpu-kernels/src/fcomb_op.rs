//! The fused fcomb head ([`crate::fcomb`]) as a burn operation: a backend extension routed to
//! Flex, and burn's own operations everywhere else.

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::{Shape, Slice, Tensor};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::burn_op::{f32_tensor, f32_values};
use crate::fcomb::{FcombHead, fcomb_margins};

static FUSED: AtomicBool = AtomicBool::new(true);

/// Turns the fused head off: models then decode through their layers (probunet's
/// `Fcomb::margins` asks [`fused_fcomb`]), so benchmarks compare both in one run.
pub fn set_fused_fcomb(enabled: bool) {
    FUSED.store(enabled, Ordering::Relaxed);
}

/// Whether models should decode through [`fcomb_head_margins`] (on unless a benchmark turned
/// it off).
pub fn fused_fcomb() -> bool {
    FUSED.load(Ordering::Relaxed)
}

/// The sizes of one call: `samples` latents, `channels` (P) per layer, `layers` hidden 1×1
/// convolutions, `pixels` per image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FcombSizes {
    pub samples: usize,
    pub channels: usize,
    pub layers: usize,
    pub pixels: usize,
}

/// fcomb's per-sample layers with ProbSeg's fused kernel.
#[backend_extension(Flex)]
pub trait FcombBackend: Backend {
    /// Margins `[N, pixels]` of `projection` `[P, pixels]` under `offsets` `[N, P]`, through the
    /// hidden layers `hidden_weights` `[L, P, P]` / `hidden_biases` `[L, P]` (each with ReLU,
    /// and ReLU before the first) and the output's margin row `margin_weight` `[1, P]` /
    /// `margin_bias` `[1, 1]`. The default is burn's own operations ([`margins_by_burn_ops`]).
    fn fcomb_head_margins(
        projection: FloatTensor<Self>,
        offsets: FloatTensor<Self>,
        hidden_weights: FloatTensor<Self>,
        hidden_biases: FloatTensor<Self>,
        margin_weight: FloatTensor<Self>,
        margin_bias: FloatTensor<Self>,
        sizes: FcombSizes,
    ) -> FloatTensor<Self> {
        margins_by_burn_ops::<Self>(
            projection,
            offsets,
            hidden_weights,
            hidden_biases,
            margin_weight,
            margin_bias,
            sizes,
        )
    }
}

/// [`FcombBackend::fcomb_head_margins`] by burn's own operations on any backend `B` (the
/// extension's default; a function of its own so tests can run it on Flex beside the kernel).
pub fn margins_by_burn_ops<B: Backend>(
    projection: FloatTensor<B>,
    offsets: FloatTensor<B>,
    hidden_weights: FloatTensor<B>,
    hidden_biases: FloatTensor<B>,
    margin_weight: FloatTensor<B>,
    margin_bias: FloatTensor<B>,
    sizes: FcombSizes,
) -> FloatTensor<B> {
    let FcombSizes {
        samples: n,
        channels: p,
        layers,
        pixels,
    } = sizes;
    let wide = Shape::new([n, p, pixels]);
    let projection = B::float_expand(
        B::float_reshape(projection, Shape::new([1, p, pixels])),
        wide.clone(),
    );
    let offsets = B::float_expand(
        B::float_reshape(offsets, Shape::new([n, p, 1])),
        wide.clone(),
    );
    let mut h = B::relu(B::float_add(projection, offsets));
    for l in 0..layers {
        let layer = [Slice::from(l..l + 1)];
        let weight = B::float_slice(hidden_weights.clone(), &layer);
        let weight = B::float_expand(weight, Shape::new([n, p, p]));
        let bias = B::float_reshape(
            B::float_slice(hidden_biases.clone(), &layer),
            Shape::new([1, p, 1]),
        );
        let out = B::float_matmul(weight, h);
        h = B::relu(B::float_add(out, B::float_expand(bias, wide.clone())));
    }
    let row = B::float_expand(
        B::float_reshape(margin_weight, Shape::new([1, 1, p])),
        Shape::new([n, 1, p]),
    );
    let margins = B::float_add(
        B::float_matmul(row, h),
        B::float_expand(
            B::float_reshape(margin_bias, Shape::new([1, 1, 1])),
            Shape::new([n, 1, pixels]),
        ),
    );
    B::float_reshape(margins, Shape::new([n, pixels]))
}

impl FcombBackend for Flex {
    fn fcomb_head_margins(
        projection: FlexTensor,
        offsets: FlexTensor,
        hidden_weights: FlexTensor,
        hidden_biases: FlexTensor,
        margin_weight: FlexTensor,
        margin_bias: FlexTensor,
        sizes: FcombSizes,
    ) -> FlexTensor {
        let (weights, biases) = (f32_values(&hidden_weights), f32_values(&hidden_biases));
        let margin_weight = f32_values(&margin_weight);
        let head = FcombHead {
            channels: sizes.channels,
            hidden_weights: &weights,
            hidden_biases: &biases,
            margin_weight: &margin_weight,
            margin_bias: f32_values(&margin_bias)[0],
        };
        let mut margins = vec![0.0f32; sizes.samples * sizes.pixels];
        fcomb_margins(
            head,
            &f32_values(&projection),
            sizes.pixels,
            &f32_values(&offsets),
            &mut margins,
        );
        f32_tensor(margins, &[sizes.samples, sizes.pixels])
    }
}

/// The tensors of [`fcomb_head_margins`] but the projection and the offsets: a model's fcomb
/// after its first layer.
#[derive(Debug, Clone)]
pub struct FcombHeadTensors {
    /// `[L, P, P]`, L ≥ 1.
    pub hidden_weights: Tensor<3>,
    /// `[L, P]`.
    pub hidden_biases: Tensor<2>,
    /// `[1, P]`.
    pub margin_weight: Tensor<2>,
    /// `[1, 1]`.
    pub margin_bias: Tensor<2>,
}

/// Margins `[N, H·W]` (foreground minus background logit) of `projection` `[1, P, H, W]`
/// under `offsets` `[N, P]`: the fused kernel on the Flex device, burn's operations on any
/// other (WebGPU).
///
/// # Panics
/// For tensors that track gradients: the fused head has no backward pass (training runs the
/// model's layers).
pub fn fcomb_head_margins(
    projection: Tensor<4>,
    offsets: Tensor<2>,
    head: FcombHeadTensors,
) -> Tensor<2> {
    assert!(
        !(projection.is_autodiff() || offsets.is_autodiff() || head.hidden_weights.is_autodiff()),
        "the fused fcomb head has no backward pass"
    );
    let [_, p, h, w] = projection.dims();
    let sizes = FcombSizes {
        samples: offsets.dims()[0],
        channels: p,
        layers: head.hidden_weights.dims()[0],
        pixels: h * w,
    };
    Tensor::from_dispatch(<Dispatch as FcombBackend>::fcomb_head_margins(
        projection.reshape([p, h * w]).into_dispatch(),
        offsets.into_dispatch(),
        head.hidden_weights.into_dispatch(),
        head.hidden_biases.into_dispatch(),
        head.margin_weight.into_dispatch(),
        head.margin_bias.into_dispatch(),
        sizes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fcomb::tests::values;

    /// The kernel Flex runs and the default other backends run give the same margins.
    #[test]
    fn the_kernel_matches_burns_operations() {
        let sizes = FcombSizes {
            samples: 5,
            channels: 12,
            layers: 2,
            pixels: 70,
        };
        let (n, p, l, px) = (sizes.samples, sizes.channels, sizes.layers, sizes.pixels);
        let inputs = || {
            (
                f32_tensor(values(p * px, 1), &[p, px]),
                f32_tensor(values(n * p, 2), &[n, p]),
                f32_tensor(values(l * p * p, 3), &[l, p, p]),
                f32_tensor(values(l * p, 4), &[l, p]),
                f32_tensor(values(p, 5), &[1, p]),
                f32_tensor(vec![-0.125], &[1, 1]),
            )
        };
        let (a, b, c, d, e, f) = inputs();
        let ours = <Flex as FcombBackend>::fcomb_head_margins(a, b, c, d, e, f, sizes);
        let (a, b, c, d, e, f) = inputs();
        let burns = margins_by_burn_ops::<Flex>(a, b, c, d, e, f, sizes);
        let burns = burns.to_contiguous();
        let (ours, burns) = (f32_values(&ours), f32_values(&burns));
        assert_eq!(ours.len(), n * px);
        assert_eq!(burns.len(), n * px);
        let worst = ours
            .iter()
            .zip(burns.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "largest difference {worst}");
    }
}
