//! `LayerNorm` and `RmsNorm`, with Flax's constructor options and mask semantics.

use ndarray::{Array1, ArrayD, ArrayViewD, ArrayViewMutD};

use crate::batching::{Batch, Slot, VmapError};
use crate::kernels::NormKind;
use crate::layers::normalize::Normalize;
use crate::{ForwardError, Param, module};

/// Flax's constructor options for `LayerNorm` and `RMSNorm`, with Flax's defaults.
///
/// `use_fast_variance` is accepted for compatibility and changes nothing: nnx always
/// computes the variance from centred values (see [`crate::kernels`]: two passes, or
/// on AVX-512 one pass shifted by an element of the row, repeated around the mean when
/// that element is far from it), which equals Flax's `use_fast_variance=False` result
/// and is exact where Flax's default `E[x²] − E[x]²` cancels catastrophically (rows
/// with a large mean).
#[derive(Clone, Debug, PartialEq)]
pub struct NormConfig {
    /// The length of `scale` and `bias`: the number of elements along the feature axes.
    pub num_features: usize,
    /// Added to the variance (the mean square, for `RmsNorm`) before the square root.
    pub epsilon: f32,
    /// Whether the layer has a learned `bias` (ignored by `RmsNorm`).
    pub use_bias: bool,
    /// Whether the layer has a learned `scale`.
    pub use_scale: bool,
    /// The axes the statistics are taken over (negative counts from the end).
    pub reduction_axes: Vec<isize>,
    /// The axes `scale` and `bias` run along (negative counts from the end).
    pub feature_axes: Vec<isize>,
    /// Accepted for compatibility with Flax; it changes nothing (see [`NormConfig`]).
    pub use_fast_variance: bool,
}

impl NormConfig {
    /// Flax's defaults: ε = 1e-6, scale and bias, the last axis for both the
    /// reduction and the features.
    pub fn new(num_features: usize) -> Self {
        Self {
            num_features,
            epsilon: 1e-6,
            use_bias: true,
            use_scale: true,
            reduction_axes: vec![-1],
            feature_axes: vec![-1],
            use_fast_variance: true,
        }
    }
}

/// Layer normalization (`flax.nnx.LayerNorm`): `(x − mean) / sqrt(var + ε) · scale + bias`
/// over the reduction axes. Call it with `call!(ln(x))`, `call!(ln(x, mask = m))`, or
/// vectorize it with `vmap!(ln(xs, mask = ms))`, which runs the kernel once on the batch.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    /// The learned scale, `[num_features]`, starting at ones; `None` without `use_scale`.
    pub scale: Option<Param<Array1<f32>>>,
    /// The learned bias, `[num_features]`, starting at zeros; `None` without `use_bias`.
    pub bias: Option<Param<Array1<f32>>>,
    /// The options it was built with.
    #[module(skip)]
    pub config: NormConfig,
}

/// Root-mean-square normalization (`flax.nnx.RMSNorm`): `x / sqrt(mean(x²) + ε) · scale`.
/// Flax's RMSNorm has no bias; `use_bias` is ignored.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct RmsNorm {
    /// The learned scale, `[num_features]`, starting at ones; `None` without `use_scale`.
    pub scale: Option<Param<Array1<f32>>>,
    /// The options it was built with.
    #[module(skip)]
    pub config: NormConfig,
}

impl NormConfig {
    fn numerics<'p>(
        &'p self,
        module: &'static str,
        kind: NormKind,
        scale: &'p Option<Param<Array1<f32>>>,
        bias: &'p Option<Param<Array1<f32>>>,
    ) -> Normalize<'p> {
        Normalize {
            module,
            kind,
            epsilon: self.epsilon,
            num_features: self.num_features,
            reduction_axes: &self.reduction_axes,
            feature_axes: &self.feature_axes,
            scale: scale.as_deref(),
            bias: bias.as_deref(),
        }
    }
}

fn scale_param(config: &NormConfig) -> Option<Param<Array1<f32>>> {
    config
        .use_scale
        .then(|| Param::new(Array1::ones(config.num_features)))
}

impl LayerNorm {
    /// Flax's defaults: ε = 1e-6, scale and bias, normalized over the last axis.
    pub fn new(num_features: usize) -> Self {
        Self::with_config(NormConfig::new(num_features))
    }

    /// A layer with explicit options, as Flax's constructor arguments.
    pub fn with_config(config: NormConfig) -> Self {
        Self {
            scale: scale_param(&config),
            bias: config
                .use_bias
                .then(|| Param::new(Array1::zeros(config.num_features))),
            config,
        }
    }

    /// [`LayerNorm::forward`] into `out`, which has `x`'s shape: no allocation, for a caller
    /// that reuses its buffers. With the default axes and row-major `x`, `mask` and `out`
    /// the kernel writes `out` directly; other layouts are computed aside and copied.
    pub fn forward_into(
        &self,
        x: ArrayViewD<'_, f32>,
        mask: Option<ArrayViewD<'_, bool>>,
        out: ArrayViewMutD<'_, f32>,
    ) -> Result<(), ForwardError> {
        self.numerics().forward_into(x, mask, out)
    }

    fn numerics(&self) -> Normalize<'_> {
        self.config
            .numerics("LayerNorm", NormKind::LayerNorm, &self.scale, &self.bias)
    }

    fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        mask: Slot<Option<ArrayViewD<'_, bool>>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        self.numerics().forward_batched(x, mask, batch)
    }
}

#[module]
impl LayerNorm {
    /// Normalizes `x`. `mask` (any shape that broadcasts to `x`) selects the elements
    /// that enter the mean and variance; every element is normalized, and a group with
    /// no selected element becomes NaN, as in Flax.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(
        &self,
        x: ArrayViewD<'_, f32>,
        #[kw] mask: Option<ArrayViewD<'_, bool>>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        self.numerics().forward(x, mask)
    }
}

impl RmsNorm {
    /// Flax's defaults: ε = 1e-6, scale, normalized over the last axis.
    pub fn new(num_features: usize) -> Self {
        Self::with_config(NormConfig::new(num_features))
    }

    /// A layer with explicit options, as Flax's constructor arguments.
    pub fn with_config(config: NormConfig) -> Self {
        Self {
            scale: scale_param(&config),
            config,
        }
    }

    /// [`RmsNorm::forward`] into `out`, which has `x`'s shape: no allocation, for a caller
    /// that reuses its buffers. With the default axes and row-major `x`, `mask` and `out`
    /// the kernel writes `out` directly; other layouts are computed aside and copied.
    pub fn forward_into(
        &self,
        x: ArrayViewD<'_, f32>,
        mask: Option<ArrayViewD<'_, bool>>,
        out: ArrayViewMutD<'_, f32>,
    ) -> Result<(), ForwardError> {
        self.numerics().forward_into(x, mask, out)
    }

    fn numerics(&self) -> Normalize<'_> {
        self.config
            .numerics("RmsNorm", NormKind::RmsNorm, &self.scale, &None)
    }

    fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        mask: Slot<Option<ArrayViewD<'_, bool>>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        self.numerics().forward_batched(x, mask, batch)
    }
}

#[module]
impl RmsNorm {
    /// Normalizes `x` by its root mean square; `mask` as for [`LayerNorm::forward`].
    #[call]
    #[batched(forward_batched)]
    pub fn forward(
        &self,
        x: ArrayViewD<'_, f32>,
        #[kw] mask: Option<ArrayViewD<'_, bool>>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        self.numerics().forward(x, mask)
    }
}
