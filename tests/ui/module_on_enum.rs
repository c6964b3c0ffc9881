use nnx::prelude::*;

#[module]
enum Choice {
    Norm(LayerNorm),
    Dense(Linear),
}

fn main() {
    // The enum is still emitted: using it causes no second error.
    let _ = Choice::Norm(LayerNorm::new(4));
}
