//! Activations and initializers against f64 references and JAX's definitions.

use nnx::init::{self, FanMode, Initializer, ScalingDistribution};
use nnx::ndarray::{Array1, Array2, ArrayD, IxDyn, array};
use nnx::nn;
use nnx::prelude::*;

fn grid() -> Array1<f32> {
    Array1::linspace(-12.0f32, 12.0, 241)
}

fn assert_each(got: &Array1<f32>, want: impl Fn(f64) -> f64, tol: f64, what: &str) {
    for (&x, &y) in grid().iter().zip(got) {
        let w = want(f64::from(x));
        assert!(
            (f64::from(y) - w).abs() <= tol * (1.0 + w.abs()),
            "{what}({x}) = {y}, want {w}"
        );
    }
}

#[test]
fn elementwise_activations_match_f64() {
    let x = grid();
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    assert_each(&nn::relu(&x), |v| v.max(0.0), 0.0, "relu");
    assert!(
        nn::relu(&array![f32::NAN])[0].is_nan(),
        "relu keeps NaN, as JAX"
    );
    assert_each(&nn::sigmoid(&x), sigmoid, 1e-6, "sigmoid");
    assert_each(&nn::silu(&x), |v| v * sigmoid(v), 1e-6, "silu");
    assert_eq!(nn::swish(&x), nn::silu(&x));
    assert_each(&nn::tanh(&x), f64::tanh, 1e-6, "tanh");
    assert_each(&nn::softplus(&x), |v| v.exp().ln_1p(), 1e-6, "softplus");
    assert_each(
        &nn::elu(&x, 1.5),
        |v| if v > 0.0 { v } else { 1.5 * v.exp_m1() },
        1e-6,
        "elu",
    );
    assert_each(
        &nn::leaky_relu(&x, 0.01),
        |v| if v >= 0.0 { v } else { 0.01 * v },
        1e-7,
        "leaky_relu",
    );
    let tanh_gelu = |v: f64| {
        0.5 * v * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v.powi(3))).tanh())
    };
    assert_each(&nn::gelu(&x, true), tanh_gelu, 2e-6, "gelu(approximate)");
    let exact_gelu = |v: f64| 0.5 * v * (1.0 + libm::erf(v / std::f64::consts::SQRT_2));
    assert_each(&nn::gelu(&x, false), exact_gelu, 2e-6, "gelu(exact)");
    // The two forms differ (by up to ~5e-4), as Flax's block vectors rely on.
    let gap = (&nn::gelu(&x, true) - &nn::gelu(&x, false)).mapv(f32::abs);
    assert!(gap.iter().any(|&d| d > 1e-4));
    // Large inputs neither overflow nor lose the linear part.
    assert_eq!(nn::softplus(&array![100.0f32])[0], 100.0);
    assert_eq!(nn::sigmoid(&array![-200.0f32])[0], 0.0);
}

#[test]
fn softmax_and_log_softmax_along_an_axis() {
    let x = Array2::from_shape_fn((3, 4), |(i, j)| {
        (i * 4 + j) as f32 * 0.7 - 3.0 + 80.0 * (j == 2) as i32 as f32
    });
    for axis in [0isize, 1, -1] {
        let p = nn::softmax(&x, axis).unwrap();
        let lp = nn::log_softmax(&x, axis).unwrap();
        let a = if axis == 0 { 0 } else { 1 };
        for lane in 0..x.len_of(nnx::ndarray::Axis(1 - a)) {
            let xs = x
                .index_axis(nnx::ndarray::Axis(1 - a), lane)
                .mapv(f64::from);
            let max = xs.fold(f64::MIN, |m, &v| m.max(v));
            let sum: f64 = xs.iter().map(|v| (v - max).exp()).sum();
            for (k, &v) in xs.iter().enumerate() {
                let idx = if a == 0 { [k, lane] } else { [lane, k] };
                let want = (v - max).exp() / sum;
                assert!(
                    (f64::from(p[idx]) - want).abs() < 1e-6,
                    "softmax {axis} {idx:?}"
                );
                let want_log = v - max - sum.ln();
                assert!((f64::from(lp[idx]) - want_log).abs() < 1e-4 * (1.0 + want_log.abs()));
            }
        }
    }
    assert!(matches!(
        nn::softmax(&x, 2),
        Err(ForwardError::Axis {
            axis: 2,
            rank: 2,
            ..
        })
    ));
}

fn moments(a: &ArrayD<f32>) -> (f64, f64) {
    let n = a.len() as f64;
    let mean = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = a
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var)
}

#[test]
fn variance_scaling_family_has_jax_variances_and_bounds() {
    let mut key = Rngs::new(5).params();
    let shape = [3, 200, 300]; // receptive field 3: fan_in 600, fan_out 900
    let cases: [(&str, &dyn Initializer, f64); 6] = [
        ("glorot_uniform", &init::glorot_uniform(), 1.0 / 750.0),
        ("glorot_normal", &init::glorot_normal(), 1.0 / 750.0),
        ("he_uniform", &init::he_uniform(), 2.0 / 600.0),
        ("he_normal", &init::he_normal(), 2.0 / 600.0),
        ("lecun_uniform", &init::lecun_uniform(), 1.0 / 600.0),
        ("lecun_normal", &init::lecun_normal(), 1.0 / 600.0),
    ];
    for (name, init, want) in cases {
        let w = init.init(&mut key, &shape);
        let (mean, var) = moments(&w);
        assert!(
            mean.abs() < 3e-3 * want.sqrt() * 10.0,
            "{name}: mean {mean}"
        );
        assert!(
            (var / want - 1.0).abs() < 0.03,
            "{name}: var {var}, want {want}"
        );
    }
    let fans =
        init::variance_scaling(1.0, FanMode::FanOut, ScalingDistribution::Uniform).fans(&shape);
    assert_eq!(fans, (600.0, 900.0));
    // Uniform draws stay inside ±sqrt(3·variance); truncated ones inside 2 stddevs.
    let limit = (3.0f64 * 2.0 / 600.0).sqrt() as f32;
    assert!(
        init::he_uniform()
            .init(&mut key, &shape)
            .iter()
            .all(|v| v.abs() <= limit)
    );
    let t = init::truncated_normal(0.5).init(&mut key, &[10_000]);
    assert!(t.iter().all(|v| v.abs() <= 1.0));
    assert_eq!(
        init::constant(0.25).init(&mut key, &[2, 2]),
        ArrayD::from_elem(IxDyn(&[2, 2]), 0.25)
    );
    // JAX's fans when in_axis and out_axis name the same axis: every element over it.
    let same = init::VarianceScaling {
        in_axis: -1,
        out_axis: -1,
        ..init::variance_scaling(1.0, FanMode::FanIn, ScalingDistribution::Normal)
    };
    assert_eq!(same.fans(&[6, 10]), (6.0, 6.0));
    // Flax's embed init: in_axis -1, out_axis 0 on [num_embeddings, features].
    assert_eq!(init::variance_scaling_embed().fans(&[100, 8]), (8.0, 100.0));
}

#[test]
fn orthogonal_matrices_are_orthonormal_in_the_short_direction() {
    let mut key = Rngs::new(9).params();
    for (rows, cols) in [(6, 4), (4, 6), (5, 5)] {
        let q = init::orthogonal(2.0).init(&mut key, &[rows, cols]);
        let q = q
            .into_dimensionality::<nnx::ndarray::Ix2>()
            .unwrap()
            .mapv(f64::from);
        let gram = if rows >= cols {
            q.t().dot(&q)
        } else {
            q.dot(&q.t())
        };
        let n = rows.min(cols);
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 4.0 } else { 0.0 };
                assert!(
                    (gram[[i, j]] - want).abs() < 1e-5,
                    "{rows}x{cols} gram[{i},{j}] = {}",
                    gram[[i, j]]
                );
            }
        }
    }
}
