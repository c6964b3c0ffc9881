use ndarray::Array2;
use nnx::prelude::*;

#[module]
struct Scaler {
    w: Param<Array1<f32>>,
}

#[module]
impl Scaler {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>, #[kw(default = 1.0)] rate: f32) -> ArrayD<f32> {
        (&x * &self.w.value) * rate
    }
}

fn main() {
    let scaler = Scaler {
        w: Param::new(Array1::ones(3)),
    };
    let xs = Array2::<f32>::zeros((4, 3));
    // A scalar is mapped on axis 0 unless in_axes gives it None.
    let _ = vmap!(scaler(xs, rate = 0.5));
    let _ = vmap!(scaler(xs, rate = 0.5f32));
    // The fix.
    let _ = vmap!(scaler(xs, rate = 0.5), in_axes = (0, rate = None));
}
