use ndarray::{Array1, Array2};
use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let x = Array1::<f32>::zeros(4);
    let _ = call!(ln(&x, &x));
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(ln(xs, xs));
}
