use nnx::prelude::*;

// Dropout draws from its own stream (`&mut self`) and has no batching rule: sharing
// it across the batch with `self = None` would have every example advance one stream.
fn main() {
    let mut drop = Dropout::new(0.5, &mut Rngs::new(0));
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(drop(xs), in_axes = (0, self = None));
}
