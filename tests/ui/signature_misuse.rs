use ndarray::{ArrayD, ArrayViewD, Dimension};
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

    pub fn shaped<D: Dimension>(&self, x: ArrayViewD<'_, f32>, #[kw] like: Option<D>) -> ArrayD<f32> {
        let _ = like;
        x.to_owned()
    }

    #[batched(forward)]
    pub fn build(factor: f32) -> Self {
        Self { factor }
    }
}

fn main() {}
