//! The first layers: `Linear`, `LayerNorm` and `RmsNorm`, as in Flax NNX.

mod batch_axis;
mod linear;
mod norm;
mod normalize;

pub use linear::Linear;
pub use norm::{LayerNorm, NormConfig, RmsNorm};
