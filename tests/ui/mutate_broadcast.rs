use ndarray::{Array1, Array2, ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Counter {
    total: BatchStat<Array1<f32>>,
}

#[module]
impl Counter {
    pub fn add(&mut self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        self.total.value += &x;
        self.total.value.clone().into_dyn()
    }
}

fn main() {
    let mut counter = Counter { total: BatchStat::new(Array1::zeros(2)) };
    let xs = Array2::<f32>::zeros((3, 2));
    let _ = vmap!(counter.add(xs));
}
