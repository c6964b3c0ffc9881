//! Activation functions, as `flax.nnx` re-exports them from `jax.nn`: elementwise ones
//! map any array to an owned array of the same shape; `softmax` and `log_softmax` work
//! along one axis (negative from the end, as in JAX).
//!
//! ```
//! use nnx::nn;
//! use nnx::ndarray::array;
//!
//! let x = array![[-1.0f32, 0.0, 2.0]];
//! assert_eq!(nn::relu(&x), array![[0.0, 0.0, 2.0]]);
//! let p = nn::softmax(&x, -1).unwrap();
//! assert!((p.sum() - 1.0).abs() < 1e-6);
//! ```

use ndarray::{Array, ArrayBase, Axis, Data, Dimension};

use crate::ForwardError;
use crate::axis::resolve_axis;
use crate::fast_math;

fn map<S, D>(x: &ArrayBase<S, D>, f: impl Fn(f32) -> f32) -> Array<f32, D>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    x.mapv(f)
}

/// `max(x, 0)`; NaN stays NaN, as in JAX (`f32::max` would hide it as 0).
pub fn relu<S: Data<Elem = f32>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<f32, D> {
    map(x, |v| if v < 0.0 { 0.0 } else { v })
}

/// `1 / (1 + e^-x)`.
pub fn sigmoid<S: Data<Elem = f32>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<f32, D> {
    map(x, sigmoid_one)
}

fn sigmoid_one(v: f32) -> f32 {
    // Written for both signs so that neither branch overflows `exp`.
    if v >= 0.0 {
        1.0 / (1.0 + (-v).exp())
    } else {
        let e = v.exp();
        e / (1.0 + e)
    }
}

/// `x · sigmoid(x)` (`jax.nn.silu`, also called swish).
pub fn silu<S: Data<Elem = f32>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<f32, D> {
    map(x, |v| v * sigmoid_one(v))
}

/// The same function as [`silu`], under its other name.
pub fn swish<S: Data<Elem = f32>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<f32, D> {
    silu(x)
}

/// The hyperbolic tangent.
pub fn tanh<S: Data<Elem = f32>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<f32, D> {
    map(x, f32::tanh)
}

/// `ln(1 + e^x)`, computed without overflow for large `x`.
pub fn softplus<S: Data<Elem = f32>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<f32, D> {
    // log1p(e^-|x|) + max(x, 0), as jax.nn.softplus (via logaddexp(x, 0)).
    map(x, |v| (-v.abs()).exp().ln_1p() + v.max(0.0))
}

/// `x` for `x > 0`, `alpha · (e^x − 1)` otherwise (`jax.nn.elu`; JAX's default alpha is 1).
pub fn elu<S: Data<Elem = f32>, D: Dimension>(x: &ArrayBase<S, D>, alpha: f32) -> Array<f32, D> {
    map(x, |v| if v > 0.0 { v } else { alpha * v.exp_m1() })
}

/// `x` for `x ≥ 0`, `negative_slope · x` otherwise (JAX's default slope is 0.01).
pub fn leaky_relu<S: Data<Elem = f32>, D: Dimension>(
    x: &ArrayBase<S, D>,
    negative_slope: f32,
) -> Array<f32, D> {
    map(x, |v| if v >= 0.0 { v } else { negative_slope * v })
}

/// GELU as `jax.nn.gelu` computes it: the tanh approximation when `approximate` (JAX's
/// and Flax's default), `x · Φ(x)` with the exact normal CDF otherwise.
pub fn gelu<S: Data<Elem = f32>, D: Dimension>(
    x: &ArrayBase<S, D>,
    approximate: bool,
) -> Array<f32, D> {
    if approximate {
        map(x, gelu_tanh)
    } else {
        map(x, gelu_exact)
    }
}

/// GELU's tanh form written as `x · σ(2u)`, the same function (`(1 + tanh u) / 2 = σ(2u)`),
/// with [`fast_math::exp`]: no branch and no call, so a slice of it vectorizes. Through libm's `tanhf` it was 27% of a transformer block's time.
#[inline]
fn gelu_tanh(v: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    let u = SQRT_2_OVER_PI * (v + 0.044_715 * v * v * v);
    v / (1.0 + fast_math::exp(-2.0 * u))
}

fn gelu_exact(v: f32) -> f32 {
    0.5 * v * (1.0 + libm::erff(v * std::f32::consts::FRAC_1_SQRT_2))
}

/// `e^x / Σ e^x` along `axis`, shifted by the maximum so that no `exp` overflows. An
/// axis out of range is an error naming it.
pub fn softmax<S: Data<Elem = f32>, D: Dimension>(
    x: &ArrayBase<S, D>,
    axis: isize,
) -> Result<Array<f32, D>, ForwardError> {
    let axis = checked_axis(x.ndim(), axis)?;
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        lane.mapv_inplace(|v| (v - max).exp());
        let sum = lane.sum();
        lane.mapv_inplace(|v| v / sum);
    }
    Ok(y)
}

/// `x − log Σ e^x` along `axis` (the log of [`softmax`], computed without its rounding).
pub fn log_softmax<S: Data<Elem = f32>, D: Dimension>(
    x: &ArrayBase<S, D>,
    axis: isize,
) -> Result<Array<f32, D>, ForwardError> {
    let axis = checked_axis(x.ndim(), axis)?;
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let log_sum = lane.fold(0.0, |s, &v| s + (v - max).exp()).ln();
        lane.mapv_inplace(|v| v - max - log_sum);
    }
    Ok(y)
}

fn checked_axis(rank: usize, axis: isize) -> Result<Axis, ForwardError> {
    resolve_axis(axis, rank)
        .map(Axis)
        .ok_or(ForwardError::Axis {
            module: "softmax",
            arg: "axis",
            axis,
            rank,
        })
}
