//! The host-side exploration path (what the web page uses) agrees with the tensor path.

use metrics::Mask;
use probunet::{HostPrior, ProbUNet, ProbUNetConfig, SeededRng, argmax_masks, decode_masks};

use crate::common::{block_on, device, image};

fn masks_of(labels: Vec<i64>, n: usize, side: usize) -> Vec<Mask> {
    labels
        .chunks(side * side)
        .take(n)
        .map(|plane| Mask::from_fn(side, side, |x, y| plane[y * side + x] == 1))
        .collect()
}

#[test]
fn host_draws_decode_like_sample_n() {
    let device = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 5, &device);
    let encoded = model.encode(image([1, 1, 16, 16], 2, &device));
    let prior = block_on(HostPrior::read(&encoded, 0)).expect("prior reads back");
    assert_eq!(prior.dims(), 2);
    assert!(prior.sigma.iter().all(|s| *s > 0.0));

    let n = 6;
    let zs = prior.draw(n, &mut SeededRng::new(11));
    let samples = model.sample_n(&encoded, n, &mut SeededRng::new(11));
    let z_tensor: Vec<f32> = samples.z.clone().into_data().try_to_vec().unwrap();
    let z_host: Vec<f32> = zs.iter().flatten().copied().collect();
    for (a, b) in z_tensor.iter().zip(&z_host) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    let expected = masks_of(
        argmax_masks(samples.logits)
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap(),
        n,
        16,
    );
    // In chunks, as the page decodes them, and all at once: the same masks.
    let mut chunked = block_on(decode_masks(&model, &encoded, &zs[..4])).unwrap();
    chunked.extend(block_on(decode_masks(&model, &encoded, &zs[4..])).unwrap());
    assert_eq!(chunked, expected);
    assert_eq!(
        block_on(decode_masks(&model, &encoded, &zs)).unwrap(),
        expected
    );
    assert!(
        block_on(decode_masks(&model, &encoded, &[]))
            .unwrap()
            .is_empty()
    );
}
