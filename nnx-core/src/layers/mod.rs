//! The layers, as in Flax NNX: `Linear`, `Embed`, the norms (`LayerNorm`, `RmsNorm`,
//! `GroupNorm`, `BatchNorm`) and `Dropout`, each with Flax's options, defaults and
//! state paths.

mod batch_axis;
mod batch_norm;
mod dropout;
mod embed;
mod group_norm;
mod linear;
mod norm;
mod normalize;

pub use batch_norm::{BatchNorm, BatchNormConfig};
pub use dropout::Dropout;
pub use embed::Embed;
pub use group_norm::{GroupNorm, GroupNormConfig};
pub use linear::Linear;
pub use norm::{LayerNorm, NormConfig, RmsNorm};
