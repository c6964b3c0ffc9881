use nnx::prelude::*;

fn main() {
    let bn = BatchNorm::new(4);
    let x = Array2::<f32>::zeros((3, 4));
    let _ = call!(bn(&x));
}
