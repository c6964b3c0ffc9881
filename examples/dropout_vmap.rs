//! A model with Dropout, vmapped in training mode without stacking it:
//! `cargo run --example dropout_vmap`.
//!
//! The model is shared across the batch on purpose (`in_axes = (0, self = None)`): its
//! batching rule runs the Linears once on the whole batch and gives every example its
//! own dropout stream, split from the layer's (Flax's `nnx.split_rngs`). The result
//! equals running each example alone with its split stream; no two examples share a
//! mask; the same seed gives the same draws.

use nnx::batching::{Batch, Slot, VmapError, over_leading_axes};
use nnx::ndarray::{Array2, ArrayD, ArrayViewD, Axis};
use nnx::nn;
use nnx::prelude::*;

/// `fc2(dropout(relu(fc1(x))))`.
#[module]
#[derive(Clone)]
struct Mlp {
    fc1: Linear,
    drop: Dropout,
    fc2: Linear,
}

impl Mlp {
    fn new(features: usize, hidden: usize, rate: f32, rngs: &mut Rngs) -> Self {
        Self {
            fc1: Linear::new(features, hidden, rngs),
            drop: Dropout::new(rate, rngs),
            fc2: Linear::new(hidden, features, rngs),
        }
    }

    /// Under `vmap!` with `self = None`: the batch is one more leading axis for the
    /// Linears; Dropout is vmapped over it with its own rule (a stream per example).
    fn forward_batched(
        &mut self,
        x: Slot<ArrayViewD<'_, f32>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        over_leading_axes(x, batch, 1, |xs| {
            let h = nn::relu(&call!((self.fc1)(xs))?);
            let h = vmap!((self.drop)(h.view()), in_axes = (0, self = None))?;
            Ok::<_, VmapError>(call!((self.fc2)(&h))?)
        })
    }
}

#[module]
impl Mlp {
    #[call]
    #[batched(forward_batched)]
    pub fn forward(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        let h = nn::relu(&call!((self.fc1)(x))?);
        let h = call!((self.drop)(&h))?;
        call!((self.fc2)(&h))
    }
}

/// Runs the example (`tests/` runs it too).
pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut model = Mlp::new(8, 32, 0.5, &mut Rngs::new(0));
    let untouched = model.clone();
    let xs = Array2::from_shape_fn((5, 8), |(b, j)| ((b * 8 + j) % 13) as f32 * 0.2 - 1.0);

    let ys = vmap!(model(xs.view()), in_axes = (0, self = None))?;

    // Each example alone, through a copy whose Dropout draws from split stream i.
    let streams = untouched.drop.stream().clone().split(xs.nrows());
    let mut worst = 0.0f32;
    for (i, stream) in streams.into_iter().enumerate() {
        let mut alone = untouched.clone();
        alone.drop = alone.drop.with_stream(stream);
        let y = call!(alone(xs.row(i)))?;
        let gap = (&ys.index_axis(Axis(0), i) - &y).mapv(f32::abs);
        worst = worst.max(gap.fold(0.0, |m, &d| m.max(d)));
    }
    assert!(worst < 1e-5, "{worst}");
    println!(
        "vmap! of a model with Dropout, {} examples: max |vmap - alone with split stream i| = {worst:.1e}",
        xs.nrows()
    );

    // The same input row in every example still gets a different mask per example.
    let same = Array2::from_shape_fn((5, 8), |(_, j)| j as f32 * 0.1);
    let ys = vmap!(model(same.view()), in_axes = (0, self = None))?;
    let rows: Vec<_> = ys.outer_iter().collect();
    let distinct = (1..rows.len()).all(|i| rows[i] != rows[0]);
    println!("identical inputs, distinct outputs across examples: {distinct}");
    assert!(distinct);
    println!(
        "the layer's stream advanced once per call: {} keys drawn",
        model.drop.stream().count()
    );
    Ok(())
}
