use ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Dropish {
    #[module(skip)]
    scale: f32,
}

#[module]
impl Dropish {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>, #[kw(default = "0.5")] rate: f32) -> ArrayD<f32> {
        &x * (self.scale * rate)
    }
}

fn main() {
    // Reported once, at the default; the calls are fine.
    let d = Dropish { scale: 1.0 };
    let x = ArrayD::<f32>::zeros(ndarray::IxDyn(&[2, 4]));
    let _ = call!(d(&x));
    let _ = vmap!(d(x));
}
