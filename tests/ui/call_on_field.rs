use nnx::prelude::*;

#[module]
struct Block {
    // `#[call]` marks a method, not a field.
    #[call]
    norm: LayerNorm,
}

fn main() {}
