use ndarray::{ArrayD, ArrayViewD};

struct Shift {
    by: f32,
}

// No `#[module]` on the impl, so nothing gives `#[kw]` a meaning.
impl Shift {
    pub fn forward(&self, x: ArrayViewD<'_, f32>, #[kw(default = 1.0)] gain: f32) -> ArrayD<f32> {
        (&x + self.by) * gain
    }
}

fn main() {}
