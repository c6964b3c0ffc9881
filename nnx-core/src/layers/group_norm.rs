//! `GroupNorm`, as `flax.nnx.GroupNorm`: the channels (last axis) split into groups,
//! each normalized over its channels and the spatial axes.

use ndarray::{Array1, ArrayD, ArrayViewD, IxDyn};

use crate::axis::resolve_axis;
use crate::batching::{Batch, Slot, VmapError};
use crate::kernels::NormKind;
use crate::layers::batch_axis::{batch_first, batch_first_mask, move_batch_axis};
use crate::layers::normalize::Normalize;
use crate::{ForwardError, Param, module};

/// Flax's constructor options for [`GroupNorm`], with Flax's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNormConfig {
    /// The number of channels, the length of the last axis.
    pub num_features: usize,
    /// How many groups (default 32); give this or `group_size`, not both.
    pub num_groups: Option<usize>,
    /// How many channels per group, instead of `num_groups`.
    pub group_size: Option<usize>,
    /// Added to the variance before the square root (default 1e-6).
    pub epsilon: f32,
    /// Learn a per-channel bias (default true).
    pub use_bias: bool,
    /// Learn a per-channel scale (default true).
    pub use_scale: bool,
    /// The axes reduced besides each group's channels (default: every axis but the
    /// first, the batch). Given explicitly, they must include the channel axis.
    pub reduction_axes: Option<Vec<isize>>,
    /// Accepted for compatibility: nnx always computes the variance from centred values.
    pub use_fast_variance: bool,
}

impl GroupNormConfig {
    /// Flax's defaults for `num_features` channels: 32 groups.
    pub fn new(num_features: usize) -> Self {
        Self {
            num_features,
            num_groups: Some(32),
            group_size: None,
            epsilon: 1e-6,
            use_bias: true,
            use_scale: true,
            reduction_axes: None,
            use_fast_variance: true,
        }
    }

    /// `(groups, channels per group)`, or why the options do not fit.
    pub fn groups(&self) -> Result<(usize, usize), ForwardError> {
        let error = |message: String| ForwardError::Config {
            module: "GroupNorm",
            message,
        };
        let c = self.num_features;
        let (groups, size) = match (self.num_groups, self.group_size) {
            (Some(g), None) if g > 0 && c.is_multiple_of(g) => (g, c / g),
            (None, Some(s)) if s > 0 && c.is_multiple_of(s) => (c / s, s),
            (Some(g), None) => {
                return Err(error(format!(
                    "num_groups = {g} does not divide num_features = {c}"
                )));
            }
            (None, Some(s)) => {
                return Err(error(format!(
                    "group_size = {s} does not divide num_features = {c}"
                )));
            }
            _ => {
                return Err(error(
                    "give exactly one of num_groups and group_size".to_owned(),
                ));
            }
        };
        Ok((groups, size))
    }
}

/// Group normalization: the last axis holds the channels, split into contiguous groups;
/// each group is normalized over its channels and the reduction axes (by default all
/// but the batch axis), like LayerNorm within the group, then scaled and shifted per
/// channel. `mask` (last axis = channels, other axes broadcast) selects what enters the
/// statistics; a group with no kept element becomes NaN, as in Flax.
///
/// Flax gives a different, documented-as-a-bug result when `reduction_axes` leave out
/// a non-batch axis of a rank-3 or higher input; nnx computes group normalization there.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNorm {
    /// Per-channel scale, ones at first (`use_scale`).
    pub scale: Option<Param<Array1<f32>>>,
    /// Per-channel bias, zeros at first (`use_bias`).
    pub bias: Option<Param<Array1<f32>>>,
    /// The options it was built with.
    #[module(skip)]
    pub config: GroupNormConfig,
}

impl GroupNorm {
    /// `num_groups` groups over `num_features` channels, Flax's other defaults. A count
    /// that does not divide the channels is reported at the first call.
    pub fn new(num_features: usize, num_groups: usize) -> Self {
        Self::with_config(GroupNormConfig {
            num_groups: Some(num_groups),
            ..GroupNormConfig::new(num_features)
        })
    }

    /// Any options.
    pub fn with_config(config: GroupNormConfig) -> Self {
        let n = config.num_features;
        Self {
            scale: config.use_scale.then(|| Param::new(Array1::ones(n))),
            bias: config.use_bias.then(|| Param::new(Array1::zeros(n))),
            config,
        }
    }

    /// The reduced axes of the grouped input `[leading.., example.., groups, size]`, for
    /// an example of rank `rank` (the configured axes are the example's).
    fn grouped_reduction(&self, rank: usize, leading: usize) -> Result<Vec<isize>, ForwardError> {
        let axis_error = |axis| ForwardError::Axis {
            module: "GroupNorm",
            arg: "reduction_axes",
            axis,
            rank,
        };
        let given: Vec<usize> = match &self.config.reduction_axes {
            None => (1..rank).collect(),
            Some(axes) => axes
                .iter()
                .map(|&a| resolve_axis(a, rank).ok_or(axis_error(a)))
                .collect::<Result<_, _>>()?,
        };
        if !given.contains(&(rank - 1)) {
            return Err(ForwardError::Config {
                module: "GroupNorm",
                message: format!(
                    "reduction_axes {:?} leave out the channel axis; a group is always \
                     reduced over its channels",
                    self.config.reduction_axes
                ),
            });
        }
        // The channel axis becomes (groups, size): only `size` is reduced.
        Ok(given
            .into_iter()
            .map(|a| (if a == rank - 1 { rank } else { a } + leading) as isize)
            .collect())
    }

    /// Group-normalizes `x`, whose first `leading` axes are batch axes outside the
    /// signature (a `vmap!` batch); `mask`, when present, has `x`'s shape.
    fn normalize(
        &self,
        x: ArrayViewD<'_, f32>,
        mask: Option<ArrayViewD<'_, bool>>,
        leading: usize,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let (groups, size) = self.config.groups()?;
        let rank = x.ndim() - leading;
        if rank < 2 || x.shape().last() != Some(&self.config.num_features) {
            return Err(ForwardError::Shape {
                module: "GroupNorm",
                arg: "x",
                found: x.shape()[leading..].to_vec(),
                expected: format!(
                    "GroupNorm expects [batch, .., {}] (num_features channels last)",
                    self.config.num_features
                ),
            });
        }
        let mut grouped_shape = x.shape()[..x.ndim() - 1].to_vec();
        grouped_shape.extend([groups, size]);
        let grouped = x
            .to_shape(IxDyn(&grouped_shape))
            .expect("the channels split into groups × size");
        let mask = mask.map(|m| {
            m.to_shape(IxDyn(&grouped_shape))
                .expect("the mask has x's shape")
                .into_owned()
        });
        let reduction_axes = self.grouped_reduction(rank, leading)?;
        let numerics = Normalize {
            module: "GroupNorm",
            kind: NormKind::LayerNorm,
            epsilon: self.config.epsilon,
            num_features: self.config.num_features,
            reduction_axes: &reduction_axes,
            feature_axes: &[-2, -1],
            scale: self.scale.as_deref(),
            bias: self.bias.as_deref(),
        };
        let y = numerics.forward(grouped.view(), mask.as_ref().map(|m| m.view()))?;
        // A copy only where the statistics' permutation left `y` out of row-major order.
        Ok(y.into_shape_clone(x.raw_dim())
            .expect("groups × size is the channels"))
    }

    /// The batching rule: every example's groups in one kernel call.
    fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        mask: Slot<Option<ArrayViewD<'_, bool>>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        let x = batch_first(x, batch.size);
        let mask = batch_first_mask("GroupNorm", mask, x.shape())?;
        let y = self.normalize(x.view(), mask.as_ref().map(|m| m.view()), 1)?;
        move_batch_axis(y, batch.out_axes)
    }
}

#[module]
impl GroupNorm {
    /// Normalizes `x` of shape `[batch, .., channels]` (rank 2 or more). Under `vmap!`
    /// the whole batch goes through one kernel call.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(
        &self,
        x: ArrayViewD<'_, f32>,
        #[kw] mask: Option<ArrayViewD<'_, bool>>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let mask = match &mask {
            Some(m) => Some(
                m.broadcast(x.raw_dim())
                    .ok_or_else(|| ForwardError::MaskShape {
                        module: "GroupNorm",
                        mask: m.shape().to_vec(),
                        x: x.shape().to_vec(),
                    })?,
            ),
            None => None,
        };
        self.normalize(x.view(), mask, 0)
    }
}
