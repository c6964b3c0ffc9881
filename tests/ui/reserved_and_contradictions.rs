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
    // A default cannot read the module, and `__` names are the generated code's. Both
    // are reported together. (A rule may serve a `&mut self` method: `vmap!` runs it
    // when the module is shared with `self = None`.)
    pub fn scaled(&self, x: ArrayViewD<'_, f32>, #[kw(default = self.rate)] rate: f32) -> ArrayD<f32> {
        &x * rate
    }

    pub fn accumulate(&mut self, x: ArrayViewD<'_, f32>, #[kw(default = false)] __recv: bool) -> ArrayD<f32> {
        let _ = __recv;
        self.total.value += &x;
        self.total.value.clone().into_dyn()
    }
}

fn main() {}
