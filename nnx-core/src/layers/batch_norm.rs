//! `BatchNorm`, as `flax.nnx.BatchNorm`: normalizes each feature over the batch and
//! keeps running statistics for evaluation.

use ndarray::{Array1, ArrayD, ArrayViewD, Axis, IxDyn};

use crate::axis::resolve_axis;
use crate::batching::{Batch, Slot, VmapError};
use crate::layers::batch_axis::{batch_first, batch_first_mask, move_batch_axis};
use crate::{BatchStat, ForwardError, Mode, Param, module};

/// Flax's constructor options for [`BatchNorm`], with Flax's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormConfig {
    /// The length of the feature axis.
    pub num_features: usize,
    /// The feature axis (default -1); every other axis is reduced.
    pub axis: isize,
    /// The weight of the old running value in each update (default 0.99, Flax's
    /// convention: PyTorch's `momentum = 0.1` is Flax's 0.9). An `f64`, as Flax computes
    /// `1 − momentum` in double precision.
    pub momentum: f64,
    /// Added to the variance before the square root (default 1e-5).
    pub epsilon: f32,
    /// Learn a per-feature bias (default true).
    pub use_bias: bool,
    /// Learn a per-feature scale (default true).
    pub use_scale: bool,
    /// Accepted for compatibility: nnx always computes the variance from centred values.
    pub use_fast_variance: bool,
}

impl BatchNormConfig {
    /// Flax's defaults for `num_features` features.
    pub fn new(num_features: usize) -> Self {
        Self {
            num_features,
            axis: -1,
            momentum: 0.99,
            epsilon: 1e-5,
            use_bias: true,
            use_scale: true,
            use_fast_variance: true,
        }
    }
}

/// Batch normalization. In training mode (a new module's, or after `train()`) a call
/// normalizes with the batch's mean and biased variance over every axis but the
/// feature axis, counting only the elements `mask` keeps, and then moves the running
/// statistics toward them; in evaluation mode (`eval()`) it uses the running
/// statistics, does not change them, and ignores the mask, as Flax does. The call
/// keyword `use_running_average` overrides the mode for one call.
///
/// A feature with no kept element gets NaN statistics, so a NaN output column and NaN
/// running statistics, as in Flax.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// Per-feature scale, ones at first (`use_scale`).
    pub scale: Option<Param<Array1<f32>>>,
    /// Per-feature bias, zeros at first (`use_bias`).
    pub bias: Option<Param<Array1<f32>>>,
    /// The running mean, zeros at first.
    pub mean: BatchStat<Array1<f32>>,
    /// The running variance, ones at first.
    pub var: BatchStat<Array1<f32>>,
    /// Train (batch statistics, updated) or evaluate (running statistics).
    pub mode: Mode,
    /// The options it was built with.
    #[module(skip)]
    pub config: BatchNormConfig,
}

impl BatchNorm {
    /// Flax's defaults, in training mode.
    pub fn new(num_features: usize) -> Self {
        Self::with_config(BatchNormConfig::new(num_features))
    }

    /// Other options; `eval()` gives Flax's `use_running_average=True`.
    pub fn with_config(config: BatchNormConfig) -> Self {
        let n = config.num_features;
        Self {
            scale: config.use_scale.then(|| Param::new(Array1::ones(n))),
            bias: config.use_bias.then(|| Param::new(Array1::zeros(n))),
            mean: BatchStat::new(Array1::zeros(n)),
            var: BatchStat::new(Array1::ones(n)),
            mode: Mode::training(),
            config,
        }
    }

    /// The feature axis of `x`, checked against the configuration.
    /// The feature axis of `x`, whose first `leading` axes are a `vmap!` batch outside
    /// the example (a configured axis counts within the example).
    fn feature_axis(&self, x: &ArrayViewD<'_, f32>, leading: usize) -> Result<Axis, ForwardError> {
        let rank = x.ndim() - leading;
        let axis = resolve_axis(self.config.axis, rank).ok_or(ForwardError::Axis {
            module: "BatchNorm",
            arg: "axis",
            axis: self.config.axis,
            rank,
        })? + leading;
        let parameters = [Some(&*self.mean), Some(&*self.var)]
            .into_iter()
            .chain([self.scale.as_deref(), self.bias.as_deref()])
            .flatten();
        let features = x.len_of(Axis(axis));
        if features != self.config.num_features || parameters.clone().any(|p| p.len() != features) {
            return Err(ForwardError::Shape {
                module: "BatchNorm",
                arg: "x",
                found: x.shape().to_vec(),
                expected: format!(
                    "its axis {} must hold num_features = {} (and so must scale, bias, mean \
                     and var)",
                    self.config.axis, self.config.num_features
                ),
            });
        }
        Ok(Axis(axis))
    }

    /// The batch's mean and biased variance per feature, over the kept elements, in f64
    /// and from centred values (two passes).
    fn batch_stats(
        x: &ArrayViewD<'_, f32>,
        keep: Option<&ArrayViewD<'_, bool>>,
        axis: Axis,
    ) -> (Vec<f64>, Vec<f64>) {
        let features = x.len_of(axis);
        let (mut sum, mut count) = (vec![0.0f64; features], vec![0.0f64; features]);
        for_each_kept(x, keep, axis, |f, v| {
            sum[f] += v;
            count[f] += 1.0;
        });
        let mean: Vec<f64> = sum.iter().zip(&count).map(|(s, n)| s / n).collect();
        let mut squares = vec![0.0f64; features];
        for_each_kept(x, keep, axis, |f, v| squares[f] += (v - mean[f]).powi(2));
        let var = squares.iter().zip(&count).map(|(s, n)| s / n).collect();
        (mean, var)
    }

    /// `(x − mean) · scale / sqrt(var + ε) + bias`, per feature along `axis`.
    fn normalize(
        &self,
        x: &ArrayViewD<'_, f32>,
        axis: Axis,
        mean: &[f64],
        var: &[f64],
    ) -> ArrayD<f32> {
        let eps = f64::from(self.config.epsilon);
        let mul: Vec<f64> = var
            .iter()
            .enumerate()
            .map(|(f, v)| {
                let scale = self.scale.as_ref().map_or(1.0, |s| f64::from(s[f]));
                scale / (v + eps).sqrt()
            })
            .collect();
        let add = |f: usize| self.bias.as_ref().map_or(0.0, |b| f64::from(b[f]));
        let mut y = x.to_owned();
        for mut lane in y.lanes_mut(axis) {
            for (f, v) in lane.iter_mut().enumerate() {
                *v = ((f64::from(*v) - mean[f]) * mul[f] + add(f)) as f32;
            }
        }
        y
    }

    /// `running ← momentum · running + (1 − momentum) · batch`, in f32 as Flax does.
    fn update_running(&mut self, mean: &[f64], var: &[f64]) {
        let keep = self.config.momentum as f32;
        let take = (1.0 - self.config.momentum) as f32;
        for (running, batch) in [(&mut self.mean.value, mean), (&mut self.var.value, var)] {
            running
                .iter_mut()
                .zip(batch)
                .for_each(|(r, &b)| *r = keep * *r + take * b as f32);
        }
    }
}

#[module]
impl BatchNorm {
    /// Normalizes `x` (features on the configured axis). `mask`, any shape that
    /// broadcasts to `x`, selects what enters the batch statistics.
    ///
    /// Under `vmap!` with the module shared (`in_axes = (.., self = None)`), its batching
    /// rule runs once on the whole batch: the statistics cover every example and the
    /// running averages are updated once, as Flax's `axis_name` over the vmapped axis
    /// gives. A `Stacked` ensemble (`self = 0`) keeps per-member statistics instead.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(
        &mut self,
        x: ArrayViewD<'_, f32>,
        #[kw] use_running_average: Option<bool>,
        #[kw] mask: Option<ArrayViewD<'_, bool>>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        self.run(x, use_running_average, mask, 0)
    }
}

impl BatchNorm {
    /// The batching rule: the batch axis becomes one more batch axis of `x` (and of a
    /// mapped mask), so the statistics are taken over all of it, once.
    fn forward_batched(
        &mut self,
        x: Slot<ArrayViewD<'_, f32>>,
        use_running_average: Slot<Option<bool>>,
        mask: Slot<Option<ArrayViewD<'_, bool>>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        // A `bool` cannot be mapped: `vmap!` passes it broadcast, one for the batch.
        let Slot::Broadcast(use_running_average) = use_running_average;
        let x = batch_first(x, batch.size);
        let mask = batch_first_mask("BatchNorm", mask, x.shape())?;
        let y = self.run(
            x.view(),
            use_running_average,
            mask.as_ref().map(|m| m.view()),
            1,
        )?;
        move_batch_axis(y, batch.out_axes)
    }

    /// The forward pass on `x` whose first `leading` axes are a `vmap!` batch.
    fn run(
        &mut self,
        x: ArrayViewD<'_, f32>,
        use_running_average: Option<bool>,
        mask: Option<ArrayViewD<'_, bool>>,
        leading: usize,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let axis = self.feature_axis(&x, leading)?;
        if use_running_average.unwrap_or(!self.mode.is_training()) {
            let mean: Vec<f64> = self.mean.iter().map(|&v| f64::from(v)).collect();
            let var: Vec<f64> = self.var.iter().map(|&v| f64::from(v)).collect();
            return Ok(self.normalize(&x, axis, &mean, &var));
        }
        let keep =
            match &mask {
                Some(mask) => Some(mask.broadcast(IxDyn(x.shape())).ok_or_else(|| {
                    ForwardError::MaskShape {
                        module: "BatchNorm",
                        mask: mask.shape().to_vec(),
                        x: x.shape().to_vec(),
                    }
                })?),
                None => None,
            };
        let (mean, var) = Self::batch_stats(&x, keep.as_ref(), axis);
        let y = self.normalize(&x, axis, &mean, &var);
        self.update_running(&mean, &var);
        Ok(y)
    }
}

/// Calls `visit(feature, value)` for every element of `x` that `keep` keeps (all of them
/// without a mask), `feature` being its index along `axis`.
fn for_each_kept(
    x: &ArrayViewD<'_, f32>,
    keep: Option<&ArrayViewD<'_, bool>>,
    axis: Axis,
    mut visit: impl FnMut(usize, f64),
) {
    match keep {
        None => {
            for lane in x.lanes(axis) {
                lane.iter()
                    .enumerate()
                    .for_each(|(f, &v)| visit(f, f64::from(v)));
            }
        }
        Some(keep) => {
            for (lane, kept) in x.lanes(axis).into_iter().zip(keep.lanes(axis)) {
                for (f, (&v, &k)) in lane.iter().zip(kept).enumerate() {
                    if k {
                        visit(f, f64::from(v));
                    }
                }
            }
        }
    }
}
