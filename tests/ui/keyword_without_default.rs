use ndarray::{Array1, ArrayView1};
use nnx::prelude::*;

#[module]
struct Gate {
    w: Param<Array1<f32>>,
}

#[module]
impl Gate {
    // Omitted keywords take `Default::default()`, which views lack.
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

    // `&str` and `&[T]` default to empty.
    pub fn labelled(&self, x: ArrayView1<'_, f32>, #[kw] label: &str, #[kw] skip: &[usize]) -> Array1<f32> {
        let _ = (label, skip);
        x.to_owned()
    }
}

fn main() {}
