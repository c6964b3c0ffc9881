use ndarray::{Array1, Array2};
use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let x = Array1::<f32>::zeros(4);
    let m = Array1::from_elem(4, true);
    let _ = call!(ln(&x, mask2 = &m));
    let xs = Array2::<f32>::zeros((3, 4));
    let ms = Array2::from_elem((3, 4), true);
    let _ = vmap!(ln(xs, maks = ms));
}
