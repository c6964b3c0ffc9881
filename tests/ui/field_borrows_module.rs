use nnx::prelude::*;

// A module owns its submodules: a borrowed one is not state.
#[module]
struct Head<'a> {
    norm: &'a LayerNorm,
}

fn main() {}
