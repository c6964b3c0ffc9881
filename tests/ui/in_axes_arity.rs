use ndarray::Array2;
use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let xs = Array2::<f32>::zeros((3, 4));
    let ms = Array2::from_elem((3, 4), true);
    let _ = vmap!(ln(xs, mask = ms), in_axes = (0, 1, mask = 0));
    let _ = vmap!(ln(xs, mask = ms), in_axes = (mask = 0));
}
