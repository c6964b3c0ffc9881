use ndarray::Array1;
use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let x = Array1::<f32>::zeros(4);
    let m = Array1::from_elem(4, true);
    let _ = call!(ln(&x, mask = &m, mask = &m));
}
