use ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Consumer {
    #[module(skip)]
    k: f32,
}

#[module]
impl Consumer {
    // `self` by value would consume the module at every call.
    #[call]
    pub fn forward(self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        &x * self.k
    }
}

fn main() {}
