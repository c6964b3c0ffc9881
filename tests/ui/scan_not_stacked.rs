use nnx::prelude::*;

fn main() {
    let mut ln = LayerNorm::new(4);
    let x = Array2::<f32>::zeros((3, 4));
    let _ = scan!(ln(&x));
}
