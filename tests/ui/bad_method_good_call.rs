use ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Pair {
    #[module(skip)]
    factor: f32,
}

#[module]
impl Pair {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        &x * self.factor
    }

    // One mistake in another method: `forward` stays callable, with no error at the call.
    pub fn scaled(&self, x: ArrayViewD<'_, f32>, #[kw] by: f32) -> ArrayD<f32> {
        &x * by
    }
}

fn main() {
    let pair = Pair { factor: 2.0 };
    let x = ArrayD::<f32>::zeros(ndarray::IxDyn(&[4]));
    let _ = call!(pair(&x));
    let _ = vmap!(pair(x));
}
