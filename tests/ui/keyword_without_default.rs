use ndarray::{Array1, ArrayView1};
use nnx::prelude::*;

#[module]
struct Gate {
    w: Param<Array1<f32>>,
}

#[module]
impl Gate {
    // A keyword that may be omitted needs a value to take then: a view has none.
    #[call]
    pub fn forward(&self, x: ArrayView1<'_, f32>, #[kw] y: ArrayView1<'_, f32>) -> Array1<f32> {
        &x * &y + &self.w.value
    }

    // These are fine: an `Option` defaults to `None`, and a default can be given.
    pub fn masked(&self, x: ArrayView1<'_, f32>, #[kw] y: Option<ArrayView1<'_, f32>>) -> Array1<f32> {
        y.map_or_else(|| x.to_owned(), |y| &x * &y)
    }

    pub fn shifted(&self, x: ArrayView1<'_, f32>, #[kw(default = 1.0)] by: f32) -> Array1<f32> {
        &x + by
    }

    // Nor does a number or a slice fall back on `Default` (no silent `0.0`): each
    // keyword is reported. (A slice cannot be mapped, so these are never vmapped.)
    #[no_vmap]
    pub fn dropped(&self, x: ArrayView1<'_, f32>, #[kw] rate: f32, #[kw] skip: &[usize]) -> Array1<f32> {
        let _ = skip;
        &x * (1.0 - rate)
    }

    #[no_vmap]
    pub fn labelled(&self, x: ArrayView1<'_, f32>, #[kw(default = "")] label: &str) -> Array1<f32> {
        let _ = label;
        x.to_owned()
    }
}

fn main() {}
