use nnx::prelude::*;

fn main() {
    let mut ensemble = Stacked::new(3, |_| LayerNorm::new(4));
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(ensemble(xs), in_axes = (0, self = 1));
}
