use ndarray::Array1;
use nnx::prelude::*;

// Both mistakes are reported in one build.
#[module]
struct Block {
    #[module(skp)]
    name: String,
    #[module(frozen)]
    scale: Param<Array1<f32>>,
}

#[module(crate = ::nnx, strict)]
struct Other {
    norm: LayerNorm,
}

fn main() {}
