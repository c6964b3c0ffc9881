use nnx::prelude::*;

// BatchNorm's forward takes `&mut self`: shared across a batch only when asked for
// (`self = None`), its batching rule then taking statistics over the whole batch.
fn main() {
    let mut bn = BatchNorm::new(4);
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(bn(xs));
}
