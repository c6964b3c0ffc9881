use nnx::prelude::*;

// `BatchNorm::forward` updates running statistics, so it needs the module mutably.
fn step(bn: &BatchNorm, x: &Array2<f32>) {
    let _ = call!(bn(x));
}

fn main() {
    let bn = BatchNorm::new(4);
    step(&bn, &Array2::zeros((3, 4)));
}
