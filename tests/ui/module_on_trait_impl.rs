use ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Id;

trait Forward {
    fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32>;
}

#[module]
impl Forward for Id {
    fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        x.to_owned()
    }
}

fn main() {}
