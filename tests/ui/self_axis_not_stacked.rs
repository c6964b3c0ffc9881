use nnx::prelude::*;

fn main() {
    let mut ln = LayerNorm::new(4);
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(ln(xs), in_axes = (0, self = 0));
}
