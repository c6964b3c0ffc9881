use ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Shift {
    #[module(skip)]
    by: f32,
}

#[module]
impl Shift {
    #[call]
    pub fn forward(&self, #[batched(forward_all)] x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        &x + self.by
    }
}

fn main() {}
