use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let x = vec![0.0f32; 4];
    let _ = call!(ln(&x));
}
