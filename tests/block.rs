//! The pre-LN transformer block of `examples/transformer_block.rs`, written as a user
//! writes it, against Flax's outputs for both GELU forms.

#[path = "../examples/transformer_block.rs"]
mod example;

mod common;

use common::oracle::assert_allclose;
use example::{Block, flax_vectors};
use nnx::prelude::*;

#[test]
fn user_written_block_matches_flax() {
    let mut block = Block::new(48, 6, &mut Rngs::new(0)).unwrap();
    let vectors = flax_vectors();
    assert_eq!(vectors.len(), 2);
    let mut outputs = Vec::new();
    for (state, approximate, x, want) in vectors {
        block.update(&state).unwrap();
        block.gelu_approximate = approximate;
        let y = call!(block(&x)).unwrap();
        // Flax's tolerance is 1e-4; nnx measured 2e-6, so hold it to 1e-5.
        let what = format!("gelu approximate = {approximate}");
        assert_allclose(&what, &y, &want, 1e-5, 1e-5);
        outputs.push(y);
    }
    // The tanh and exact forms give different blocks: the vectors tell them apart.
    let gap = (&outputs[0] - &outputs[1])
        .mapv(f32::abs)
        .fold(0.0f32, |m, &d| m.max(d));
    assert!(gap > 1e-4, "{gap}");
}

/// `vmap!` runs the block's batching rule (one call with the batch as one more leading
/// axis): equal to one call per example, for a batch axis first, in the middle, and for
/// a broadcast input.
#[test]
fn the_block_vmaps_over_a_batch_of_sequences() {
    let block = Block::new(16, 4, &mut Rngs::new(1)).unwrap();
    let xs = nnx::ndarray::Array3::from_shape_fn((3, 5, 16), |(b, t, f)| {
        ((b * 80 + t * 16 + f) as f32 * 0.05).sin()
    });
    let ys = vmap!(block(xs)).unwrap();
    for b in 0..3 {
        assert_eq!(
            ys.index_axis(Axis(0), b),
            call!(block(xs.index_axis(Axis(0), b))).unwrap()
        );
    }
    // And equals the block run on the batch directly (the mask broadcasts over it).
    let direct = call!(block(&xs)).unwrap();
    let gap = (&ys - &direct)
        .mapv(f32::abs)
        .fold(0.0f32, |m, &d| m.max(d));
    assert!(gap < 1e-5, "{gap}");
    // The batch on the middle axis, in and out.
    let middle = xs.view().permuted_axes([1, 0, 2]);
    let ys_middle = vmap!(block(middle), in_axes = 1, out_axes = 1).unwrap();
    assert_eq!(
        ys_middle,
        ys.view().permuted_axes(nnx::ndarray::IxDyn(&[1, 0, 2]))
    );
    // One sequence broadcast to a batch of 2.
    let one = xs.index_axis(Axis(0), 0);
    let twice = vmap!(block(one), in_axes = None, axis_size = 2).unwrap();
    for b in 0..2 {
        assert_eq!(twice.index_axis(Axis(0), b), ys.index_axis(Axis(0), 0));
    }
    // An example without a sequence axis is an error, not a batch axis taken for one.
    let flat = nnx::ndarray::Array2::<f32>::ones((3, 16));
    assert!(vmap!(block(flat)).is_err());
}
