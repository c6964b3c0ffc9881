//! The newer layers (Embed, ...) through the public API against the real Flax's outputs
//! (`tests/data/flax/vectors2`), and against independent f64 references.

mod common;

use common::oracle::{self, assert_allclose, tensor_f32, tensor_i64, tolerance};
use nnx::prelude::*;
use nnx::{Embed, ForwardError};

#[test]
fn embed_matches_flax() {
    let vectors = oracle::load2("embed");
    let mut compared = 0;
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        let cfg = &vector["config"];
        let rows = cfg["num_embeddings"].as_u64().unwrap() as usize;
        let features = cfg["features"].as_u64().unwrap() as usize;
        let mut embed = Embed::new(rows, features, &mut Rngs::new(0));
        embed
            .update(&oracle::state(vector))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let want = tensor_f32(&vector["expected"]);
        let got = match vector["call"]["method"].as_str().unwrap() {
            "attend" => {
                let query = tensor_f32(&vector["inputs"]["query"]);
                call!(embed.attend(&query))
            }
            _ => {
                let idx = tensor_i64(&vector["inputs"]["inputs"]);
                let got = call!(embed(&idx));
                if want.iter().any(|v| v.is_nan()) {
                    // Flax fills NaN for an index out of range; nnx names it instead.
                    let Err(ForwardError::Index { index, len, .. }) = got else {
                        panic!("{id}: expected an index error, got {got:?}");
                    };
                    assert!(index >= len as i64 || index < -(len as i64), "{id}");
                    compared += 1;
                    continue;
                }
                got
            }
        }
        .unwrap_or_else(|err| panic!("{id}: {err}"));
        let (atol, rtol) = tolerance(vector).expect("embed vectors are allclose");
        assert_allclose(id, &got, &want, atol, rtol);
        compared += 1;
    }
    assert_eq!(compared, 9);
}

#[test]
fn embed_lookups_and_scores_match_an_f64_reference() {
    let mut rngs = Rngs::new(3);
    let embed = Embed::new(7, 5, &mut rngs);
    let table = embed.embedding.mapv(f64::from);
    let idx = nnx::ndarray::array![[0i64, 6, -1], [-7, 3, 2]];
    let got = call!(embed(&idx)).unwrap();
    for ((i, j), &index) in idx.indexed_iter() {
        let row = index.rem_euclid(7) as usize;
        for f in 0..5 {
            assert_eq!(f64::from(got[[i, j, f]]), table[[row, f]]);
        }
    }
    let query = Array2::from_shape_fn((3, 5), |(i, j)| (i as f32 - 1.0) * 0.5 + j as f32 * 0.25);
    let scores = call!(embed.attend(&query)).unwrap();
    assert_eq!(scores.shape(), [3, 7]);
    for i in 0..3 {
        for r in 0..7 {
            let want: f64 = (0..5)
                .map(|f| f64::from(query[[i, f]]) * table[[r, f]])
                .sum();
            assert!((f64::from(scores[[i, r]]) - want).abs() < 1e-5, "{i},{r}");
        }
    }
    // The table is Flax's default init: variance 1/features, from the params stream.
    assert_eq!(embed, Embed::new(7, 5, &mut Rngs::new(3)));
}

#[test]
fn embed_bad_input_is_a_typed_error_never_a_panic() {
    let embed = Embed::new(4, 3, &mut Rngs::new(0));
    let err = call!(embed(&nnx::ndarray::array![1i64, 4])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Embed: `inputs` holds 4 at position [1], out of range for 4 rows (valid: -4..4)"
    );
    assert!(matches!(
        call!(embed(&nnx::ndarray::array![-5i64])),
        Err(ForwardError::Index { index: -5, .. })
    ));
    let wrong = Array2::<f32>::zeros((2, 4));
    assert!(matches!(
        call!(embed.attend(&wrong)),
        Err(ForwardError::Shape { arg: "query", .. })
    ));
    // Under vmap!, every example's lookup at once.
    let batch = nnx::ndarray::array![[0i64, 1], [2, 3], [3, 0]];
    let ys = vmap!(embed(batch)).unwrap();
    assert_eq!(ys.shape(), [3, 2, 3]);
    assert_eq!(
        ys.index_axis(Axis(0), 2),
        call!(embed(batch.row(2))).unwrap()
    );
}
