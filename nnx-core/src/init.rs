//! Initializers, as `jax.nn.initializers` (which Flax's layers take as `kernel_init`,
//! `bias_init`, ...): constants, normal and uniform draws, the variance-scaling family
//! (Glorot/Xavier, He/Kaiming, LeCun) and orthogonal matrices.

use ndarray::{ArrayD, IxDyn};
use rand_chacha::rand_core::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::Key;

/// Makes a parameter's first value from a shape and a key.
pub trait Initializer {
    /// An array of `shape`, drawing any randomness from `key`.
    fn init(&self, key: &mut Key, shape: &[usize]) -> ArrayD<f32>;
}

/// All zeros, `jax.nn.initializers.zeros` (Flax's default bias initializer).
#[derive(Clone, Copy, Debug)]
pub struct Zeros;

/// All ones, `jax.nn.initializers.ones`.
#[derive(Clone, Copy, Debug)]
pub struct Ones;

/// N(0, stddev²), `jax.nn.initializers.normal` (Flax's default stddev is 0.01).
#[derive(Clone, Copy, Debug)]
pub struct Normal {
    /// The standard deviation.
    pub stddev: f32,
}

/// U[0, scale), `jax.nn.initializers.uniform` (default scale 0.01).
#[derive(Clone, Copy, Debug)]
pub struct Uniform {
    /// The upper bound, excluded.
    pub scale: f32,
}

/// The [`Zeros`] initializer.
pub fn zeros() -> Zeros {
    Zeros
}

/// The [`Ones`] initializer.
pub fn ones() -> Ones {
    Ones
}

/// A [`Normal`] initializer: N(0, stddev²).
pub fn normal(stddev: f32) -> Normal {
    Normal { stddev }
}

/// A [`Uniform`] initializer: U[0, scale).
pub fn uniform(scale: f32) -> Uniform {
    Uniform { scale }
}

/// LeCun normal, `jax.nn.initializers.lecun_normal` (Flax's default for `Linear`
/// kernels): truncated normal with variance 1 / fan_in.
pub fn lecun_normal() -> VarianceScaling {
    variance_scaling(1.0, FanMode::FanIn, ScalingDistribution::TruncatedNormal)
}

/// Every element `value`, `jax.nn.initializers.constant`.
#[derive(Clone, Copy, Debug)]
pub struct Constant {
    /// The value.
    pub value: f32,
}

/// A [`Constant`] initializer.
pub fn constant(value: f32) -> Constant {
    Constant { value }
}

/// N(0, stddev²) conditioned on [-2·stddev, 2·stddev], `jax.nn.initializers.truncated_normal`
/// (JAX's default stddev is 0.01). As in JAX, `stddev` is that of the normal before
/// truncation.
#[derive(Clone, Copy, Debug)]
pub struct TruncatedNormal {
    /// The standard deviation of the normal before truncation.
    pub stddev: f32,
}

/// A [`TruncatedNormal`] initializer.
pub fn truncated_normal(stddev: f32) -> TruncatedNormal {
    TruncatedNormal { stddev }
}

/// Which fan [`VarianceScaling`] divides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// The inputs' fan (`"fan_in"`).
    FanIn,
    /// The outputs' fan (`"fan_out"`).
    FanOut,
    /// Their mean (`"fan_avg"`).
    FanAvg,
}

/// What [`VarianceScaling`] draws from (JAX's `distribution` argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingDistribution {
    /// A normal truncated to two standard deviations, rescaled to keep the variance
    /// (`"truncated_normal"`).
    TruncatedNormal,
    /// A normal (`"normal"`).
    Normal,
    /// A uniform on `[-limit, limit)` (`"uniform"`).
    Uniform,
}

/// `jax.nn.initializers.variance_scaling`: draws with variance `scale / fan`, the fans
/// computed as JAX does (the receptive field is every axis but `in_axis` and `out_axis`).
/// [`glorot_uniform`], [`he_normal`], [`lecun_uniform`] and the others are its presets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarianceScaling {
    /// The variance before dividing by the fan.
    pub scale: f32,
    /// Which fan to divide by.
    pub mode: FanMode,
    /// What to draw from.
    pub distribution: ScalingDistribution,
    /// The inputs' axis (JAX's default: -2).
    pub in_axis: isize,
    /// The outputs' axis (JAX's default: -1).
    pub out_axis: isize,
}

/// A [`VarianceScaling`] initializer over the default axes (`[.., in, out]` kernels).
pub fn variance_scaling(
    scale: f32,
    mode: FanMode,
    distribution: ScalingDistribution,
) -> VarianceScaling {
    VarianceScaling {
        scale,
        mode,
        distribution,
        in_axis: -2,
        out_axis: -1,
    }
}

/// Glorot (Xavier) uniform: variance 1 / fan_avg.
pub fn glorot_uniform() -> VarianceScaling {
    variance_scaling(1.0, FanMode::FanAvg, ScalingDistribution::Uniform)
}

/// Glorot (Xavier) normal: variance 1 / fan_avg, truncated normal.
pub fn glorot_normal() -> VarianceScaling {
    variance_scaling(1.0, FanMode::FanAvg, ScalingDistribution::TruncatedNormal)
}

/// The same as [`glorot_uniform`], under its other name (JAX's alias; PyTorch's
/// `torch.nn.init` function of this name fans over its `[out, in]` layout).
pub fn xavier_uniform() -> VarianceScaling {
    glorot_uniform()
}

/// The same as [`glorot_normal`], under its other name (JAX's alias).
/// `torch.nn.init`'s function of this name draws an untruncated normal instead, and
/// fans over PyTorch's `[out, in]` layout.
pub fn xavier_normal() -> VarianceScaling {
    glorot_normal()
}

/// He (Kaiming) uniform: variance 2 / fan_in.
pub fn he_uniform() -> VarianceScaling {
    variance_scaling(2.0, FanMode::FanIn, ScalingDistribution::Uniform)
}

/// He (Kaiming) normal: variance 2 / fan_in, truncated normal.
pub fn he_normal() -> VarianceScaling {
    variance_scaling(2.0, FanMode::FanIn, ScalingDistribution::TruncatedNormal)
}

/// The same as [`he_uniform`], under its other name (JAX's alias; PyTorch's
/// `torch.nn.init` function of this name fans over its `[out, in]` layout).
pub fn kaiming_uniform() -> VarianceScaling {
    he_uniform()
}

/// The same as [`he_normal`], under its other name (JAX's alias).
/// `torch.nn.init`'s function of this name draws an untruncated normal instead, and
/// fans over PyTorch's `[out, in]` layout.
pub fn kaiming_normal() -> VarianceScaling {
    he_normal()
}

/// LeCun uniform: variance 1 / fan_in.
pub fn lecun_uniform() -> VarianceScaling {
    variance_scaling(1.0, FanMode::FanIn, ScalingDistribution::Uniform)
}

/// Flax's `default_embed_init` for [`Embed`](crate::layers::Embed): variance 1 over the
/// fan-in of a `[num_embeddings, features]` table, which is `features`.
pub fn variance_scaling_embed() -> VarianceScaling {
    VarianceScaling {
        in_axis: -1,
        out_axis: 0,
        ..variance_scaling(1.0, FanMode::FanIn, ScalingDistribution::Normal)
    }
}

/// A matrix with orthonormal rows or columns (whichever are fewer), scaled by `scale`,
/// `jax.nn.initializers.orthogonal`: the last axis is the columns, the others the rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Orthogonal {
    /// Multiplies the orthonormal matrix.
    pub scale: f32,
}

/// An [`Orthogonal`] initializer.
pub fn orthogonal(scale: f32) -> Orthogonal {
    Orthogonal { scale }
}

impl Initializer for Zeros {
    fn init(&self, _: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        ArrayD::zeros(IxDyn(shape))
    }
}

impl Initializer for Ones {
    fn init(&self, _: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        ArrayD::ones(IxDyn(shape))
    }
}

impl Initializer for Normal {
    fn init(&self, key: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || {
            let z: f32 = StandardNormal.sample(key);
            z * self.stddev
        })
    }
}

impl Initializer for Uniform {
    fn init(&self, key: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || unit_interval(key) * self.scale)
    }
}

impl Initializer for Constant {
    fn init(&self, _: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        ArrayD::from_elem(IxDyn(shape), self.value)
    }
}

impl Initializer for TruncatedNormal {
    fn init(&self, key: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || truncated_normal_draw(key) * self.stddev)
    }
}

impl VarianceScaling {
    /// `(fan_in, fan_out)` for `shape`, as JAX's `_compute_fans`: the receptive field
    /// is every element over `shape[in_axis] · shape[out_axis]`. Axes out of range for the
    /// shape (a rank-1 shape with the default axes, which JAX refuses) count every
    /// element as both fans.
    pub fn fans(&self, shape: &[usize]) -> (f64, f64) {
        let rank = shape.len();
        let total = shape.iter().product::<usize>() as f64;
        let axis = |a: isize| crate::axis::resolve_axis(a, rank);
        match (axis(self.in_axis), axis(self.out_axis)) {
            (Some(i), Some(o)) => {
                let (in_size, out_size) = (shape[i] as f64, shape[o] as f64);
                let receptive = total / in_size / out_size;
                (in_size * receptive, out_size * receptive)
            }
            _ => (total, total),
        }
    }
}

impl Initializer for VarianceScaling {
    fn init(&self, key: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        let (fan_in, fan_out) = self.fans(shape);
        let fan = match self.mode {
            FanMode::FanIn => fan_in,
            FanMode::FanOut => fan_out,
            FanMode::FanAvg => (fan_in + fan_out) / 2.0,
        };
        let variance = f64::from(self.scale) / fan.max(1.0);
        let stddev = variance.sqrt() as f32;
        let truncated_stddev = (variance.sqrt() / TRUNCATED_STDDEV) as f32;
        let limit = (3.0 * variance).sqrt() as f32;
        ArrayD::from_shape_simple_fn(IxDyn(shape), || match self.distribution {
            ScalingDistribution::TruncatedNormal => truncated_normal_draw(key) * truncated_stddev,
            ScalingDistribution::Normal => {
                let z: f32 = StandardNormal.sample(key);
                z * stddev
            }
            ScalingDistribution::Uniform => (2.0 * unit_interval(key) - 1.0) * limit,
        })
    }
}

impl Initializer for Orthogonal {
    /// Gram-Schmidt (twice, in f64) on a normal matrix of the taller orientation, each
    /// column's sign fixed as JAX fixes it from R's diagonal, so the result is uniform
    /// over orthogonal matrices.
    fn init(&self, key: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        let cols = shape.last().copied().unwrap_or(1);
        let rows: usize = shape[..shape.len().saturating_sub(1)].iter().product();
        let (tall, short) = (rows.max(cols), rows.min(cols));
        // `short` orthonormal columns of length `tall`.
        let mut q: Vec<Vec<f64>> = (0..short)
            .map(|_| (0..tall).map(|_| StandardNormal.sample(key)).collect())
            .collect();
        for j in 0..short {
            let (done, rest) = q.split_at_mut(j);
            let column = &mut rest[0];
            for _ in 0..2 {
                for prev in done.iter() {
                    let dot: f64 = prev.iter().zip(column.iter()).map(|(a, b)| a * b).sum();
                    column.iter_mut().zip(prev).for_each(|(c, p)| *c -= dot * p);
                }
            }
            let norm = column.iter().map(|v| v * v).sum::<f64>().sqrt();
            column.iter_mut().for_each(|v| *v /= norm);
        }
        let scale = f64::from(self.scale);
        let value = |r: usize, c: usize| {
            let v = if rows >= cols { q[c][r] } else { q[r][c] };
            (v * scale) as f32
        };
        let flat: Vec<f32> = (0..rows * cols)
            .map(|i| value(i / cols, i % cols))
            .collect();
        ArrayD::from_shape_vec(IxDyn(shape), flat).expect("rows × cols elements")
    }
}

/// The standard deviation of a unit normal truncated to [-2, 2]: jax divides by it so
/// that truncated draws keep the variance asked for.
const TRUNCATED_STDDEV: f64 = 0.879_625_661_034_239_8;

/// A uniform f32 in [0, 1) from the top 24 bits, so every value is exactly representable.
fn unit_interval(key: &mut Key) -> f32 {
    (key.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// A unit normal conditioned on [-2, 2], by rejection (accepts 95% of draws).
fn truncated_normal_draw(key: &mut Key) -> f32 {
    loop {
        let z: f32 = StandardNormal.sample(key);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rngs;

    #[test]
    fn lecun_normal_has_variance_one_over_fan_in() {
        let mut key = Rngs::new(0).params();
        let w = lecun_normal().init(&mut key, &[256, 512]);
        let var = w.mapv(|v| f64::from(v * v)).mean().unwrap();
        assert!(
            (var * 256.0 - 1.0).abs() < 0.02,
            "fan_in * var = {}",
            var * 256.0
        );
        assert!(w.iter().all(|v| v.abs() <= 2.0 / 0.8796 / 16.0 + 1e-6));
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut key = Rngs::new(1).params();
        let u = uniform(2.0).init(&mut key, &[100_000]);
        assert!(u.iter().all(|v| (0.0..2.0).contains(v)));
        assert!((u.mean().unwrap() - 1.0).abs() < 0.01);
        let n = normal(3.0).init(&mut key, &[100_000]);
        let std = n.mapv(|v| f64::from(v * v)).mean().unwrap().sqrt();
        assert!((std - 3.0).abs() < 0.03, "std = {std}");
    }
}
