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
    pub fn forward(&self, x: ArrayViewD<'_, f32>, #[kw(defualt = 1.0)] gain: f32) -> ArrayD<f32> {
        (&x + self.by) * gain
    }
}

fn main() {}
