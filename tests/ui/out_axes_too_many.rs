use ndarray::{Array1, ArrayView1};
use nnx::prelude::*;

#[module]
struct Split {
    #[module(skip)]
    at: usize,
}

#[module]
impl Split {
    #[call]
    pub fn forward(&self, x: ArrayView1<'_, f32>) -> (Array1<f32>, Array1<f32>) {
        (x.slice(ndarray::s![..self.at]).to_owned(), x.slice(ndarray::s![self.at..]).to_owned())
    }
}

fn main() {
    let split = Split { at: 2 };
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(split(xs), out_axes = (0, 1, 0));
}
