use ndarray::{Array1, ArrayView1};
use nnx::prelude::*;

#[module]
struct Scale {
    factor: Param<Array1<f32>>,
}

#[module]
impl Scale {
    #[call]
    pub fn forward(&self, x: ArrayView1<f32>) -> Array1<f32> {
        &x * &*self.factor
    }
}

fn main() {
    let scale = Scale { factor: Param::new(Array1::ones(4)) };
    // One example is 1-D, so a mapped batch must be 2-D.
    let x = Array1::<f32>::zeros(4);
    let _ = vmap!(scale(x));
}
