//! Copying a model's parameters to the CPU backend without a blocking read.
//!
//! burn-store serialises with synchronous reads, which WebGPU in the browser cannot do (the
//! main thread may not wait on the GPU). So a model trained on WebGPU is first copied to flex
//! here, one `into_data_async` per parameter, and then saved like any other.
//! [`parameter_values`] is the blocking read for native code and tests.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::explore::ReadError;
use crate::model::ProbUNet;

/// The same model, every parameter read back and placed on `Device::flex()`.
pub async fn copy_to_host(model: &ProbUNet) -> Result<ProbUNet, ReadError> {
    let mut gather = Gather(Vec::new());
    model.visit(&mut gather);
    let mut values = Vec::with_capacity(gather.0.len());
    for tensor in gather.0 {
        let data = tensor
            .into_data_async()
            .await
            .map_err(|error| ReadError::new(format!("{error:?}")))?;
        values.push(data.convert::<f32>());
    }
    let mut place = Place {
        values: values.into_iter(),
        device: Device::flex(),
    };
    Ok(model.clone().map(&mut place))
}

/// Every float parameter of `model`, flattened and concatenated in visiting order: what two
/// models' weights are compared by (tests, the CLI's finiteness check). Reads synchronously, so
/// not for WebGPU tensors in the browser.
pub fn parameter_values<M: Module>(model: &M) -> Result<Vec<f32>, ReadError> {
    let mut gather = Gather(Vec::new());
    model.visit(&mut gather);
    let mut values = Vec::new();
    for tensor in gather.0 {
        let data = tensor.into_data().convert::<f32>();
        let read = data
            .try_to_vec::<f32>()
            .map_err(|error| ReadError::new(format!("{error:?}")))?;
        values.extend(read);
    }
    Ok(values)
}

/// Collects the float parameters, flattened, in visiting order.
struct Gather(Vec<Tensor<1>>);

impl ModuleVisitor for Gather {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().flatten(0, D - 1));
    }
}

/// Replaces each float parameter by the next read-back value, on `device`. Visiting and mapping
/// walk the same module in the same order, so values meet their parameters.
struct Place {
    values: std::vec::IntoIter<TensorData>,
    device: Device,
}

impl ModuleMapper for Place {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let data = self.values.next().expect("one value per visited parameter");
        let device = self.device.clone();
        param.map(|tensor| {
            let shape = tensor.shape();
            Tensor::<1>::from_data(data, &device).reshape(shape)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProbUNetConfig;
    use crate::weights::{Precision, save_weights};

    #[test]
    fn host_copy_saves_the_same_bytes() {
        let device = Device::default();
        let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 3, &device);
        let copy = crate::complete_now(copy_to_host(&model)).unwrap().unwrap();
        assert_eq!(
            save_weights(&copy, Precision::Full).unwrap(),
            save_weights(&model, Precision::Full).unwrap()
        );
    }
}
