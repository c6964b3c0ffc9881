//! The layers, as in Flax NNX: `Linear`, `Conv`, `Embed`, the norms (`LayerNorm`, `RmsNorm`,
//! `GroupNorm`, `BatchNorm`), `Dropout`, attention and `Sequential`, each with Flax's options, defaults and
//! state paths.

mod attention;
pub(crate) mod batch_axis;
mod batch_norm;
mod conv;
mod conv_transpose;
mod dropout;
mod embed;
mod group_norm;
mod linear;
mod linear_general;
mod norm;
mod normalize;
mod sequential;

pub use attention::{
    AttentionConfig, MultiHeadAttention, combine_masks, dot_product_attention, make_attention_mask,
    make_causal_mask,
};
pub use batch_norm::{BatchNorm, BatchNormConfig};
pub use conv::{Conv, ConvConfig, Padding};
pub use conv_transpose::{ConvTranspose, ConvTransposeConfig};
pub use dropout::Dropout;
pub use embed::Embed;
pub use group_norm::{GroupNorm, GroupNormConfig};
pub use linear::Linear;
pub use linear_general::LinearGeneral;
pub use norm::{LayerNorm, NormConfig, RmsNorm};
pub use sequential::{Function, Layer, Sequential};
