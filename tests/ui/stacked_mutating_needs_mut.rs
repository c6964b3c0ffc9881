use nnx::prelude::*;

// BatchNorm's forward updates batch statistics (`&mut self`): each member is mutated,
// so the ensemble must be borrowed mutably.
fn main() {
    let ensemble = Stacked::new(3, |_| BatchNorm::new(4));
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(ensemble(xs), in_axes = (0, self = 0));
}
