use ndarray::Array1;
use nnx::prelude::*;

struct Plain;

fn main() {
    let plain = Plain;
    let x = Array1::<f32>::zeros(4);
    let _ = call!(plain(&x));
    let _ = vmap!(plain(x));
    let ln = LayerNorm::new(4);
    let _ = call!(ln.backward(&x));
}
