use nnx::ndarray::{Array1, ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Counter {
    total: BatchStat<Array1<f32>>,
}

#[module]
impl Counter {
    // `&mut self` and no batching rule: sharing it across the batch with `self = None`
    // would have every example mutate the one total.
    #[call]
    pub fn add(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        self.total.value += &x;
        Ok(self.total.value.clone().into_dyn())
    }
}

fn main() {
    let mut counter = Counter { total: BatchStat::new(Array1::zeros(4)) };
    let xs = Array2::<f32>::zeros((3, 4));
    let _ = vmap!(counter(xs), in_axes = (0, self = None));
}
