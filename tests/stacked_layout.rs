//! `Stacked` in Flax's stacked layout (one array per variable, members along a first
//! axis), against stacks built by the real Flax with `nnx.split_rngs` + `nnx.vmap` over
//! a constructor (`tests/data/flax/stacked`), and its errors.

mod common;

use common::oracle::{self, assert_allclose, state, tensor_f32};
use nnx::StateError;
use nnx::ndarray::{ArrayD, Axis};
use nnx::prelude::*;
use serde_json::Value;

fn vector(id: &str) -> Value {
    oracle::load_in("stacked", "stacked")
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
}

/// Loads Flax's stacked state, checks member `i` holds index `i` of every variable,
/// that the state reads back in the same layout bit for bit, and that `vmap!` with
/// `self = 0` gives Flax's outputs.
fn check<M>(
    mut ensemble: Stacked<M>,
    vector: &Value,
    run: impl Fn(&mut Stacked<M>, ArrayD<f32>) -> ArrayD<f32>,
) where
    M: Module,
{
    let flax = state(vector);
    ensemble.update_stacked(&flax).unwrap();
    assert_eq!(ensemble.stacked_state().unwrap(), flax);
    let per_member = ensemble.state();
    for (path, var) in &flax {
        for (i, row) in var.value.axis_iter(Axis(0)).enumerate() {
            assert_eq!(per_member.get(&format!("{i}.{path}")).unwrap().value, row);
        }
    }
    let y = run(&mut ensemble, tensor_f32(&vector["inputs"]["x"]));
    let id = vector["id"].as_str().unwrap();
    assert_allclose(id, &y, &tensor_f32(&vector["expected"]), 1e-5, 1e-5);
}

#[test]
fn flax_stacks_load_and_run() {
    let mut rngs = Rngs::new(0);
    check(
        Stacked::new(3, |_| Linear::new(4, 2, &mut rngs)),
        &vector("linear_x3"),
        |heads, x| vmap!(heads(x), in_axes = (0, self = 0)).unwrap(),
    );
    check(
        Stacked::new(4, |_| LayerNorm::new(6)),
        &vector("layer_norm_x4"),
        |norms, x| vmap!(norms(x), in_axes = (0, self = 0)).unwrap(),
    );
}

#[test]
fn stacked_layout_errors_name_the_variable() {
    let mut rngs = Rngs::new(0);
    // Members of differing shapes have a per-member state but no stacked one.
    let mixed = Stacked::from_vec(vec![
        Linear::new(4, 2, &mut rngs),
        Linear::new(4, 3, &mut rngs),
    ])
    .unwrap();
    assert_eq!(mixed.state().len(), 4);
    let err = mixed.stacked_state().unwrap_err();
    assert!(matches!(&err, StateError::MemberMismatch { path, member: 1, .. } if path == "kernel"));
    assert!(
        err.to_string().contains("[4, 2]") && err.to_string().contains("[4, 3]"),
        "{err}"
    );
    // A member without a bias: the bias cannot be stacked either.
    let mut no_bias = Linear::new(4, 2, &mut rngs);
    no_bias.bias = None;
    let uneven = Stacked::from_vec(vec![Linear::new(4, 2, &mut rngs), no_bias]).unwrap();
    assert!(matches!(
        uneven.stacked_state(),
        Err(StateError::MemberMismatch { member: 1, .. })
    ));

    // A first axis that does not count the members; a shape that does not fit.
    let mut heads = Stacked::new(3, |_| Linear::new(4, 2, &mut rngs));
    let before = heads.state();
    let mut two = State::new();
    two.insert("kernel", VarKind::Param, ArrayD::zeros(vec![2, 4, 2]));
    assert!(matches!(
        heads.update_stacked(&two),
        Err(StateError::MemberCount { members: 3, .. })
    ));
    let mut wrong = heads.stacked_state().unwrap();
    wrong.get_mut("kernel").unwrap().value = ArrayD::zeros(vec![3, 5, 2]);
    assert!(matches!(
        heads.update_stacked(&wrong),
        Err(StateError::ShapeMismatch { .. })
    ));
    let mut scalar = State::new();
    scalar.insert("bias", VarKind::Param, ArrayD::<f32>::zeros(vec![]));
    assert!(heads.update_stacked(&scalar).is_err());
    // Nothing was written by the refused updates.
    assert_eq!(heads.state(), before);
}
