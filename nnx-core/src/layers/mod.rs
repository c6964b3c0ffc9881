//! The first layers: `Linear`, `LayerNorm` and `RmsNorm`, as in Flax NNX.

mod batch_axis;
mod embed;
mod linear;
mod norm;
mod normalize;

pub use embed::Embed;
pub use linear::Linear;
pub use norm::{LayerNorm, NormConfig, RmsNorm};
