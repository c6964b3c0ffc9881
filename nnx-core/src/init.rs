//! Initializers: zeros, ones, normal, uniform and lecun_normal, the defaults Flax's layers use.

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

/// Truncated normal with variance 1/fan_in, `jax.nn.initializers.lecun_normal`
/// (fan_in is the product of every axis but the last, as for a `[in, out]` kernel).
#[derive(Clone, Copy, Debug)]
pub struct LecunNormal;

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

/// The [`LecunNormal`] initializer, Flax's default for `Linear` kernels.
pub fn lecun_normal() -> LecunNormal {
    LecunNormal
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

impl Initializer for LecunNormal {
    fn init(&self, key: &mut Key, shape: &[usize]) -> ArrayD<f32> {
        let fan_in: usize = shape[..shape.len().saturating_sub(1)].iter().product();
        // jax divides by the stddev of a unit normal truncated to [-2, 2], so the
        // truncated samples end with variance 1/fan_in.
        const TRUNCATED_STDDEV: f64 = 0.879_625_661_034_239_8;
        let stddev = ((1.0 / fan_in.max(1) as f64).sqrt() / TRUNCATED_STDDEV) as f32;
        ArrayD::from_shape_simple_fn(IxDyn(shape), || truncated_normal(key) * stddev)
    }
}

/// A uniform f32 in [0, 1) from the top 24 bits, so every value is exactly representable.
fn unit_interval(key: &mut Key) -> f32 {
    (key.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// A unit normal conditioned on [-2, 2], by rejection (accepts 95% of draws).
fn truncated_normal(key: &mut Key) -> f32 {
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
