use ndarray::{Array1, Array2};
use nnx::prelude::*;

struct Plain;

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
    let plain = Plain;
    let x = Array1::<f32>::zeros(4);
    let _ = call!(plain(&x));
    let _ = vmap!(plain(x));
    let ln = LayerNorm::new(4);
    let _ = call!(ln.backward(&x));
    let encoder = Encoder {
        w: Param::new(Array1::ones(4)),
    };
    let _ = call!(encoder(&x));
    let xs = Array2::<f32>::zeros((3, 4));
    // An ensemble is mapped with `self = 0`, and `self = 0` needs an ensemble.
    let ensemble = Stacked::new(3, |_| LayerNorm::new(4));
    let _ = vmap!(ensemble(xs));
    let _ = vmap!(ln(xs), in_axes = (0, self = 0));
}
