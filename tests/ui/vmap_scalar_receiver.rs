use nnx::prelude::*;

fn main() {
    let weights = Array2::<f32>::zeros((3, 4));
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(weights(xs));
}
