use ndarray::{Array1, ArrayView1};
use nnx::prelude::*;

#[module]
struct Encoder {
    w: Param<Array1<f32>>,
}

// No `#[call]` method: only named calls work.
#[module]
impl Encoder {
    pub fn encode(&self, x: ArrayView1<'_, f32>) -> Array1<f32> {
        &x * &self.w.value
    }
}

fn main() {
    let encoder = Encoder { w: Param::new(Array1::ones(4)) };
    let x = Array1::<f32>::zeros(4);
    let _ = call!(encoder(&x));
}
