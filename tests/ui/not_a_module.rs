use ndarray::{Array1, Array2};
use nnx::prelude::*;

struct Plain;

fn main() {
    // A type without `#[module]`, called and vmapped: one message each, at the receiver.
    let plain = Plain;
    let x = Array1::<f32>::zeros(4);
    let _ = call!(plain(&x));
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(plain(xs));
}
