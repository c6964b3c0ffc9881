use ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Twice {
    #[module(skip)]
    factor: f32,
}

#[module]
impl Twice {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        &x * self.factor
    }

    #[call]
    pub fn other(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        x.to_owned()
    }
}

fn main() {
    // The first `#[call]` still works: only the duplicate is reported.
    let twice = Twice { factor: 2.0 };
    let x = ArrayD::<f32>::zeros(ndarray::IxDyn(&[4]));
    let _ = call!(twice(&x));
    let _ = call!(twice.other(&x));
    let _ = vmap!(twice(x));
}
