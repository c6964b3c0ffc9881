//! `Sequential` through the public API: the real Flax's `nnx.Sequential` output and
//! state paths (`tests/data/flax/sequential`), modes reaching the layers inside, and
//! errors passing through.

mod common;

use common::oracle::{self, assert_allclose, tensor_f32};
use nnx::layers::{Function, Sequential};
use nnx::ndarray::{ArrayD, IxDyn};
use nnx::prelude::*;

/// Flax's model of the vector: Conv -> relu -> LayerNorm -> Linear -> gelu (exact) ->
/// Dropout -> Linear.
fn model(rngs: &mut Rngs) -> Sequential {
    Sequential::new()
        .then(nnx::Conv::new(3, 4, &[3, 3], rngs).unwrap())
        .then(Function::new(|x| nnx::nn::relu(&x)))
        .then(LayerNorm::new(4))
        .then(Linear::new(4, 5, rngs))
        .then(Function::new(|x| nnx::nn::gelu(&x, false)))
        .then(Dropout::new(0.5, rngs))
        .then(Linear::new(5, 2, rngs))
}

#[test]
fn sequential_matches_flax() {
    let vectors = oracle::load_in("sequential", "sequential");
    let vector = &vectors[0];
    let mut seq = model(&mut Rngs::new(0));
    let flax_paths: Vec<&str> = vector["params"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    // Flax's params (the vectors hold only `nnx.Param`s); the Dropout's stream,
    // `layers.5.rngs.key`/`.count`, is state of its own kinds, at Flax's paths too.
    let state = seq.state();
    let params = state.params();
    let mut ours: Vec<&str> = params.paths().collect();
    ours.sort();
    assert_eq!(ours, flax_paths, "the same param paths as Flax's");
    let rng_paths: Vec<&str> = state
        .iter()
        .filter(|(_, var)| var.kind.is_rng())
        .map(|(path, _)| path)
        .collect();
    assert_eq!(rng_paths, ["layers.5.rngs.key", "layers.5.rngs.count"]);
    seq.update(&oracle::state(vector)).unwrap();
    seq.eval();
    let x = tensor_f32(&vector["inputs"]["inputs"]);
    let got = call!(seq(&x)).unwrap();
    assert_allclose(
        "sequential",
        &got,
        &tensor_f32(&vector["expected"]),
        1e-5,
        1e-5,
    );
}

#[test]
fn modes_reach_the_layers_and_errors_name_the_layer() {
    let mut rngs = Rngs::new(3);
    let mut seq = Sequential::new()
        .then(Linear::new(4, 64, &mut rngs))
        .then(Dropout::new(0.5, &mut rngs));
    let x = ArrayD::<f32>::ones(IxDyn(&[3, 4]));
    seq.eval();
    let a = call!(seq(&x)).unwrap();
    assert_eq!(a, call!(seq(&x)).unwrap(), "eval: Dropout is the identity");
    seq.train();
    let dropped = call!(seq(&x)).unwrap();
    assert!(dropped.iter().any(|&v| v == 0.0), "train: Dropout drops");
    let wrong = ArrayD::<f32>::ones(IxDyn(&[3, 5]));
    let err = call!(seq(&wrong)).unwrap_err();
    assert!(
        matches!(
            err,
            ForwardError::Shape {
                module: "Linear",
                arg: "x",
                ..
            }
        ),
        "{err}"
    );
    // No layers: the identity.
    assert_eq!(call!((Sequential::new())(&x)).unwrap(), x);
}
