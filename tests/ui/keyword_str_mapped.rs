use nnx::ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Tagger {
    scale: Param<Array1<f32>>,
}

#[module]
impl Tagger {
    // A `&str` keyword is passed to every example as it is; it cannot be mapped.
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>, #[kw(default = "none")] tag: &str) -> ArrayD<f32> {
        let _ = tag;
        &x * 2.0
    }
}

fn main() {
    let tagger = Tagger { scale: Param::new(Array1::ones(4)) };
    let x = Array2::<f32>::zeros((3, 4));
    // Keywords map on axis 0 unless in_axes says otherwise: this one must say `None`.
    let _ = vmap!(tagger(x.view(), tag = "b"));
}
