use ndarray::{Array1, ArrayD, ArrayViewD};
use nnx::prelude::*;

#[module]
struct Noisy {
    total: BatchStat<Array1<f32>>,
    #[module(skip)]
    rate: f32,
}

#[module]
impl Noisy {
    // A default cannot read the module, a rule cannot serve a `&mut self` method, and
    // `__` names are the generated code's. All three are reported together.
    pub fn scaled(&self, x: ArrayViewD<'_, f32>, #[kw(default = self.rate)] rate: f32) -> ArrayD<f32> {
        &x * rate
    }

    #[batched(accumulate_batched)]
    pub fn accumulate(&mut self, x: ArrayViewD<'_, f32>, #[kw(default = false)] __recv: bool) -> ArrayD<f32> {
        let _ = __recv;
        self.total.value += &x;
        self.total.value.clone().into_dyn()
    }
}

fn main() {}
