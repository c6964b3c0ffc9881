//! MultiHeadAttention's decode cache (Flax's `init_cache` + `decode=True`): decoding a
//! sequence token by token gives what causal attention over the whole sequence gives,
//! for multi-head and grouped-query attention, with the cache as state.

use nnx::ndarray::{Array3, ArrayD, Axis, s};
use nnx::prelude::*;
use nnx::{AttentionConfig, ForwardError, MultiHeadAttention};

fn tokens(batch: usize, length: usize, features: usize) -> ArrayD<f32> {
    Array3::from_shape_fn((batch, length, features), |(b, t, j)| {
        ((b * 97 + t * 13 + j * 7) as f32 * 0.21).cos()
    })
    .into_dyn()
}

fn check_decoding(mut mha: MultiHeadAttention, features: usize) {
    let (batch, length) = (2, 7);
    let x = tokens(batch, length, features);
    let full = call!(mha(&x, is_causal = true)).unwrap();
    mha.init_cache(&[batch], length);
    for t in 0..length {
        let token = x.slice(s![.., t..t + 1, ..]).into_dyn();
        let y = call!(mha.decode(token)).unwrap();
        assert_eq!(y.shape(), [batch, 1, features]);
        let want = full.slice(s![.., t..t + 1, ..]);
        let gap = (&y - &want).mapv(f32::abs).fold(0.0f32, |m, &d| m.max(d));
        assert!(gap < 1e-5, "token {t}: {gap}");
    }
    // The cache is state, of kind Cache, at Flax's paths.
    let state = mha.state();
    let cache = state.filter(VarKind::Cache);
    assert_eq!(
        cache.paths().collect::<Vec<_>>(),
        ["cached_key", "cached_value", "cache_index"]
    );
    assert_eq!(cache.get("cache_index").unwrap().value[[]], length as f32);
    // Full: the next token is refused, not written past the end.
    let err = call!(mha.decode(x.slice(s![.., 0..1, ..]).into_dyn())).unwrap_err();
    assert!(err.to_string().contains("full"), "{err}");
}

#[test]
fn decoding_token_by_token_equals_causal_attention() {
    let mut rngs = Rngs::new(5);
    check_decoding(MultiHeadAttention::new(4, 16, &mut rngs).unwrap(), 16);
    let mut gqa = AttentionConfig::new(4, 16);
    gqa.num_kv_heads = Some(2);
    gqa.normalize_qk = true;
    check_decoding(MultiHeadAttention::with_config(gqa, &mut rngs).unwrap(), 16);
}

#[test]
fn decoding_errors_are_typed() {
    let mut mha = MultiHeadAttention::new(2, 8, &mut Rngs::new(1)).unwrap();
    let one = tokens(1, 1, 8);
    // Before init_cache.
    let err = call!(mha.decode(one.view())).unwrap_err();
    assert!(matches!(err, ForwardError::Config { .. }) && err.to_string().contains("init_cache"));
    mha.init_cache(&[1], 4);
    // Two tokens at once, and a batch the cache was not made for.
    assert!(matches!(
        call!(mha.decode(tokens(1, 2, 8).view())),
        Err(ForwardError::Shape {
            arg: "inputs_q",
            ..
        })
    ));
    assert!(call!(mha.decode(tokens(3, 1, 8).view())).is_err());
    // Refused calls wrote nothing.
    assert_eq!(mha.cache_index.as_ref().unwrap().value[[]], 0.0);
    let y = call!(mha.decode(one.view())).unwrap();
    assert_eq!(y.len_of(Axis(1)), 1);
}
