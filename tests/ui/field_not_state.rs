use ndarray::Array1;
use nnx::prelude::*;

#[module]
struct Block {
    norm: LayerNorm,
    // Configuration must be marked `#[module(skip)]`; a plain array is not trained.
    name: String,
    weights: Array1<f32>,
}

fn main() {}
