//! Training through our 3×3 kernel: the convolution extension's form for burn's autodiff
//! backend, with a backward pass of its own.
//!
//! Why: a training step spends most of its time in convolutions, three per layer (forward,
//! the input's gradient, the weights' gradient), and burn-flex's are the generic im2col path
//! our kernel replaced at inference. The input's gradient of a 3×3 "same" convolution is itself
//! one: the output's gradient convolved with the kernel rotated by 180° and its channel axes
//! swapped. So the forward pass and the input's gradient both run our kernel, the weights'
//! gradient (a reduction over pixels) its own ([`crate::weight_grad`]); the bias's stays burn's.
//! A fused ReLU gates the gradient by the output it kept, as burn's `relu` does.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, TensorMetadata};
use burn::tensor::Shape;

use crate::burn_op::Conv3x3Backend;

/// The backward step of [`Conv3x3Backend::conv3x3_bias_act`].
#[derive(Debug)]
struct Conv3x3BiasAct;

/// What the backward step keeps: the input, weight and bias (checkpointed), and the output
/// when ReLU was fused (where it is zero, no gradient passes).
type State<B> = (NodeId, NodeId, NodeId, Option<FloatTensor<B>>);

impl<B: Conv3x3Backend> Backward<B, 3> for Conv3x3BiasAct {
    type State = State<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, bias_state, output) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_state);
        let weight: FloatTensor<B> = checkpointer.retrieve_node_output(weight_state);
        let bias: FloatTensor<B> = checkpointer.retrieve_node_output(bias_state);
        let grad = match output {
            Some(output) => B::relu_backward(output, grad),
            None => grad,
        };
        if let Some(node) = node_x {
            let grad_x = input_gradient::<B>(weight.clone(), grad.clone());
            grads.register::<B>(node.id, grad_x);
        }
        if let Some(node) = node_weight {
            let grad_weight = B::conv3x3_weight_grad(x.clone(), weight, grad.clone());
            grads.register::<B>(node.id, grad_weight);
        }
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, B::conv2d_bias_backward(x, bias, grad));
        }
    }
}

/// The input's gradient: `grad` convolved ("same", no bias) with `weight` `[c_out, c_in, 3, 3]`
/// turned into `[c_in, c_out, 3, 3]`, each kernel rotated by 180°.
fn input_gradient<B: Conv3x3Backend>(
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
) -> FloatTensor<B> {
    let c_in = weight.shape().dims::<4>()[1];
    let turned = B::float_flip(B::float_swap_dims(weight, 0, 1), &[2, 3]);
    let zero = B::float_zeros(Shape::new([c_in]), &grad.device(), grad.dtype().into());
    B::conv3x3_bias_act(grad, turned, zero, false)
}

impl<B: Conv3x3Backend, C: CheckpointStrategy> Conv3x3Backend for Autodiff<B, C> {
    fn conv3x3_bias_act(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let prepared = Conv3x3BiasAct
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        match prepared {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let bias_state = prep.checkpoint(&bias);
                let out = B::conv3x3_bias_act(
                    x.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                    relu,
                );
                let kept = relu.then(|| out.clone());
                prep.finish((x_state, weight_state, bias_state, kept), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv3x3_bias_act(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                relu,
            )),
        }
    }
}
