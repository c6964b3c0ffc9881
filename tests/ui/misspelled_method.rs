use ndarray::Array1;
use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let x = Array1::<f32>::zeros(4);
    let _ = call!(ln.fowrard(&x));
}
