//! The first layers: `Linear`, `LayerNorm` and `RmsNorm`, as in Flax NNX.

mod batching;
mod linear;
mod norm;
mod normalize;

pub use linear::Linear;
pub use norm::{LayerNorm, NormConfig, RmsNorm};
