use nnx::prelude::*;

fn main() {
    let layers = Stacked::new(2, |_| LayerNorm::new(4));
    let x = Array2::<f32>::zeros((3, 4));
    let _ = scan!(layers(&x), out_axes = 0);
}
