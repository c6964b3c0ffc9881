use nnx::prelude::*;

fn main() {
    let scale = 2.0f32;
    let x = Array1::<f32>::zeros(4);
    let _ = call!(scale(&x));
}
