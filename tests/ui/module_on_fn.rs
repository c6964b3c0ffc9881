use nnx::prelude::*;

#[module]
fn forward(x: f32) -> f32 {
    x
}

fn main() {
    let _ = forward(1.0);
}
