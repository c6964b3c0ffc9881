use ndarray::{Array1, ArrayView1};
use nnx::prelude::*;

// `#[module]` on the struct only: its methods are not recorded, so call! cannot reach them.
#[module]
struct Gain {
    g: Param<Array1<f32>>,
}

impl Gain {
    pub fn forward(&self, x: ArrayView1<'_, f32>) -> Array1<f32> {
        &x * &self.g.value
    }
}

fn main() {
    let gain = Gain { g: Param::new(Array1::ones(4)) };
    let x = Array1::<f32>::zeros(4);
    let _ = call!(gain.forward(x.view()));
}
