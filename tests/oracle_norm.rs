//! LayerNorm and RMSNorm through the public module API against the real Flax's outputs
//! (vendored in `tests/data/flax/vectors`) and against an f64 reference.

mod common;

use common::oracle::{
    self, assert_allclose, axes, optional_f32, tensor_bool, tensor_f32, tolerance,
};
use common::reference::NormReference;
use ndarray::{ArrayD, ArrayViewMutD, Axis};
use nnx::prelude::*;
use serde_json::Value;

/// A Flax vector's module, built with its config and given its params through `update`.
enum Norm {
    Layer(LayerNorm),
    Rms(RmsNorm),
}

fn build(vector: &Value) -> Norm {
    let cfg = &vector["config"];
    let config = NormConfig {
        num_features: cfg["num_features"].as_u64().unwrap() as usize,
        epsilon: cfg["epsilon"].as_f64().unwrap() as f32,
        use_bias: cfg["use_bias"].as_bool().unwrap(),
        use_scale: cfg["use_scale"].as_bool().unwrap(),
        reduction_axes: axes(&cfg["reduction_axes"]),
        feature_axes: axes(&cfg["feature_axes"]),
        use_fast_variance: cfg["use_fast_variance"].as_bool().unwrap(),
    };
    let mut state = State::new();
    for name in ["scale", "bias"] {
        if let Some(param) = optional_f32(&vector["params"][name]) {
            state.insert(name, VarKind::Param, param);
        }
    }
    let mut norm = match vector["module"].as_str().unwrap() {
        "LayerNorm" => Norm::Layer(LayerNorm::with_config(config)),
        "RMSNorm" => Norm::Rms(RmsNorm::with_config(config)),
        other => panic!("unexpected module {other}"),
    };
    let updated = match &mut norm {
        Norm::Layer(ln) => ln.update(&state),
        Norm::Rms(rms) => rms.update(&state),
    };
    updated.unwrap_or_else(|err| panic!("{}: {err}", vector["id"]));
    norm
}

fn run(norm: &Norm, x: &ArrayD<f32>, mask: Option<&ArrayD<bool>>) -> ArrayD<f32> {
    let mask = mask.map(|m| m.view());
    let result = match norm {
        Norm::Layer(ln) => call!(ln(x, mask = mask)),
        Norm::Rms(rms) => call!(rms(x, mask = mask)),
    };
    result.expect("the oracle's inputs are valid")
}

/// The same through `forward_into`, into a buffer of NaN (so an element it skipped shows),
/// and again into a transposed buffer, which takes the copying path.
fn run_into(norm: &Norm, x: &ArrayD<f32>, mask: Option<&ArrayD<bool>>) -> [ArrayD<f32>; 2] {
    let into = |out: ArrayViewMutD<'_, f32>| {
        let mask = mask.map(|m| m.view());
        match norm {
            Norm::Layer(ln) => ln.forward_into(x.view(), mask, out),
            Norm::Rms(rms) => rms.forward_into(x.view(), mask, out),
        }
        .expect("the oracle's inputs are valid")
    };
    let mut row_major = ArrayD::from_elem(x.raw_dim(), f32::NAN);
    into(row_major.view_mut());
    let reversed_shape: Vec<usize> = x.shape().iter().rev().copied().collect();
    let mut reversed = ArrayD::from_elem(reversed_shape, f32::NAN);
    into(reversed.view_mut().reversed_axes());
    [row_major, reversed.reversed_axes()]
}

/// The same call vectorized: the example twice along a new last axis (`in_axes = -1`,
/// the mask too, so examples interleave in memory), checking the batching rule against
/// Flax with every reduction/feature axis layout and mask shape of the vectors.
/// (tests/vmap.rs checks that distinct examples stay apart.)
fn run_vmapped(norm: &Norm, x: &ArrayD<f32>, mask: Option<&ArrayD<bool>>) -> Vec<ArrayD<f32>> {
    let last = Axis(x.ndim());
    let xs = ndarray::stack(last, &[x.view(), x.view()]).unwrap();
    let ms = mask.map(|m| ndarray::stack(Axis(m.ndim()), &[m.view(), m.view()]).unwrap());
    let ys = match (norm, &ms) {
        (Norm::Layer(ln), Some(ms)) => vmap!(ln(xs, mask = ms), in_axes = -1),
        (Norm::Layer(ln), None) => vmap!(ln(xs), in_axes = -1),
        (Norm::Rms(rms), Some(ms)) => vmap!(rms(xs, mask = ms), in_axes = -1),
        (Norm::Rms(rms), None) => vmap!(rms(xs), in_axes = -1),
    }
    .expect("the oracle's inputs are valid");
    ys.outer_iter().map(|y| y.to_owned()).collect()
}

fn reference(vector: &Value, x: &ArrayD<f32>, mask: Option<&ArrayD<bool>>) -> ArrayD<f64> {
    let cfg = &vector["config"];
    let scale = optional_f32(&vector["params"]["scale"]);
    let bias = optional_f32(&vector["params"]["bias"]);
    NormReference {
        rms: vector["module"] == "RMSNorm",
        epsilon: f64::from(cfg["epsilon"].as_f64().unwrap() as f32),
        reduction_axes: &axes(&cfg["reduction_axes"]),
        feature_axes: &axes(&cfg["feature_axes"]),
        scale: scale.as_ref(),
        bias: bias.as_ref(),
    }
    .run(x, mask)
}

/// Checks every vector of a group; returns how many were compared with Flax.
fn check_group(group: &str) -> usize {
    let mut compared = 0;
    for vector in oracle::load(group) {
        let id = vector["id"].as_str().unwrap();
        let x = tensor_f32(&vector["inputs"]["x"]);
        let mask =
            (!vector["inputs"]["mask"].is_null()).then(|| tensor_bool(&vector["inputs"]["mask"]));
        let got = run(&build(&vector), &x, mask.as_ref());
        for into in run_into(&build(&vector), &x, mask.as_ref()) {
            assert_bitwise(&format!("{id} forward_into"), &into, &got);
        }
        let expected = tensor_f32(&vector["expected"]);
        if let Some((atol, rtol)) = tolerance(&vector) {
            // Also checks that NaN sits exactly where Flax has it.
            assert_allclose(id, &got, &expected, atol, rtol);
            for (i, y) in run_vmapped(&build(&vector), &x, mask.as_ref())
                .iter()
                .enumerate()
            {
                assert_allclose(&format!("{id} vmap example {i}"), y, &expected, atol, rtol);
            }
            compared += 1;
        }
        // Against exact math too: nnx is meant to be accurate where Flax is not.
        let exact = reference(&vector, &x, mask.as_ref()).mapv(|v| v as f32);
        assert_allclose(&format!("{id} vs f64"), &got, &exact, 2e-5, 2e-5);
    }
    compared
}

/// Equal bit for bit, NaN included.
fn assert_bitwise(what: &str, got: &ArrayD<f32>, want: &ArrayD<f32>) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{what}: element {i}: {g} != {w}"
        );
    }
}

#[test]
fn features_match_flax() {
    assert_eq!(check_group("features"), 52);
}

#[test]
fn masks_match_flax() {
    assert_eq!(check_group("masks"), 31);
}

#[test]
fn options_match_flax() {
    // Three vectors are marked unstable (Flax's fast variance cancels): those are
    // checked against the f64 reference only.
    assert_eq!(check_group("options"), 41);
}

#[test]
fn multiaxis_match_flax() {
    assert_eq!(check_group("multiaxis"), 16);
}

#[test]
fn all_true_mask_equals_no_mask() {
    let ln = LayerNorm::new(7);
    let x = ndarray::Array2::from_shape_fn((3, 7), |(i, j)| (i as f32 - j as f32 * 0.5).sin());
    let all = ndarray::Array2::from_elem((3, 7), true);
    let masked = call!(ln(&x, mask = &all)).unwrap();
    let plain = call!(ln(&x)).unwrap();
    assert_eq!(masked, plain);
}
