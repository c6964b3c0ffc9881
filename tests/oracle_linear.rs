//! `Linear` through the public API against the real Flax's outputs.

mod common;

use common::oracle::{self, assert_allclose, tensor_f32, tolerance};
use nnx::prelude::*;

#[test]
fn linear_matches_flax() {
    let vectors = oracle::load("linear");
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        let cfg = &vector["config"];
        let in_features = cfg["in_features"].as_u64().unwrap() as usize;
        let out_features = cfg["out_features"].as_u64().unwrap() as usize;
        let use_bias = cfg["use_bias"].as_bool().unwrap_or(true);
        let mut linear = Linear::with_bias(in_features, out_features, use_bias, &mut Rngs::new(0));
        let mut state = State::new();
        for (path, tensor) in vector["params"].as_object().unwrap() {
            state.insert(path.as_str(), VarKind::Param, tensor_f32(tensor));
        }
        linear
            .update(&state)
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let x = tensor_f32(&vector["inputs"]["inputs"]);
        let got = call!(linear(&x)).unwrap_or_else(|err| panic!("{id}: {err}"));
        let (atol, rtol) = tolerance(vector).expect("linear vectors are allclose");
        assert_allclose(id, &got, &tensor_f32(&vector["expected"]), atol, rtol);
    }
    assert_eq!(vectors.len(), 16);
}

#[test]
fn linear_rejects_wrong_feature_count_naming_x() {
    let linear = Linear::new(4, 2, &mut Rngs::new(0));
    let x = ndarray::Array2::<f32>::zeros((3, 5));
    let err = call!(linear(&x)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Linear: `x` has shape [3, 5]; Linear expects [.., 4] (in_features)"
    );
}
