use nnx::ndarray::{ArrayD, ArrayViewD};
use nnx::prelude::*;

// A layer whose output (a pair) cannot be the next member's input.
#[module]
struct Split {
    scale: Param<Array1<f32>>,
}

#[module]
impl Split {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<(ArrayD<f32>, ArrayD<f32>), ForwardError> {
        Ok((x.to_owned(), x.to_owned()))
    }
}

fn main() {
    let layers = Stacked::new(2, |_| Split { scale: Param::new(Array1::ones(4)) });
    let x = Array2::<f32>::zeros((3, 4));
    let _ = scan!(layers(&x));
}
