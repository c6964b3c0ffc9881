use ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Scale {
    #[module(skip)]
    k: f32,
}

#[module]
impl Scale {
    // A keyword's type cannot depend on the method's own type parameters.
    #[call]
    pub fn forward<T: Into<f32> + Copy>(&self, x: ArrayViewD<'_, f32>, #[kw] by: Option<T>) -> ArrayD<f32> {
        &x * by.map_or(self.k, Into::into)
    }
}

fn main() {}
