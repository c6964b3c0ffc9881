use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(ln(xs), out_axes = None);
}
