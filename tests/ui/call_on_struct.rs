use nnx::prelude::*;

// `#[call]` marks a method of the `#[module] impl`, not the struct.
#[module]
#[call]
struct Block {
    norm: LayerNorm,
}

fn main() {}
