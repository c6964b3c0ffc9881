use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let _ = call!(ln);
}
