//! MultiHeadAttention's attention-weight dropout: Flax's defaults (a call says
//! `deterministic`; one `[T, S]` keep mask shared by batch and heads, kept weights
//! scaled by `1 / (1 - rate)`), against an f64 reference that redraws the mask from the
//! same key, and under `vmap!`.

use nnx::ndarray::{Array3, ArrayD, Axis, IxDyn};
use nnx::prelude::*;
use nnx::rand_distr::{Distribution, StandardUniform};
use nnx::{AttentionConfig, ForwardError, Key, MultiHeadAttention};

const D: usize = 8;
const HEADS: usize = 2;
const T: usize = 6;

fn attention(rate: f32) -> MultiHeadAttention {
    let mut config = AttentionConfig::new(HEADS, D);
    config.dropout_rate = rate;
    MultiHeadAttention::with_config(config, &mut Rngs::new(3)).unwrap()
}

fn input(batch: usize) -> ArrayD<f32> {
    Array3::from_shape_fn((batch, T, D), |(b, t, j)| {
        ((b * 48 + t * 8 + j) as f32 * 0.37).sin()
    })
    .into_dyn()
}

fn key(seed: u64) -> Key {
    Rngs::new(seed).dropout()
}

#[test]
fn deterministic_calls_ignore_the_rate_and_others_must_say_so() {
    let (dropping, plain) = (attention(0.5), attention(0.0));
    let x = input(2);
    assert_eq!(
        call!(dropping(&x, deterministic = Some(true))).unwrap(),
        call!(plain(&x)).unwrap()
    );
    for call in [
        call!(dropping(&x)),
        call!(dropping(&x, deterministic = Some(false))),
    ] {
        let err = call.unwrap_err();
        assert!(matches!(err, ForwardError::Config { .. }), "{err}");
        assert!(err.to_string().contains("dropout_rng"), "{err}");
    }
}

#[test]
fn dropout_matches_an_f64_reference_drawing_the_same_mask() {
    let rate = 0.4f32;
    let mha = attention(rate);
    let x = input(2);
    let got = call!(mha(
        &x,
        deterministic = Some(false),
        dropout_rng = Some(key(7))
    ))
    .unwrap();

    // The mask: one uniform f32 per [t, s], row-major, kept below 1 - rate.
    let mut rng = key(7);
    let keep_prob = 1.0 - rate;
    let multiplier: Vec<f64> = (0..T * T)
        .map(|_| {
            let u: f32 = StandardUniform.sample(&mut rng);
            if u < keep_prob {
                1.0 / f64::from(keep_prob)
            } else {
                0.0
            }
        })
        .collect();
    assert!(multiplier.contains(&0.0) && multiplier.iter().any(|&m| m > 0.0));

    let q = call!((mha.query)(&x)).unwrap();
    let k = call!((mha.key)(&x)).unwrap();
    let v = call!((mha.value)(&x)).unwrap();
    let depth = D / HEADS;
    let mut heads = ArrayD::<f32>::zeros(IxDyn(&[2, T, HEADS, depth]));
    for b in 0..2 {
        for n in 0..HEADS {
            for t in 0..T {
                let logits: Vec<f64> = (0..T)
                    .map(|s| {
                        (0..depth)
                            .map(|h| f64::from(q[[b, t, n, h]]) * f64::from(k[[b, s, n, h]]))
                            .sum::<f64>()
                            / (depth as f64).sqrt()
                    })
                    .collect();
                let max = logits.iter().copied().fold(f64::MIN, f64::max);
                let total: f64 = logits.iter().map(|l| (l - max).exp()).sum();
                for h in 0..depth {
                    let y: f64 = (0..T)
                        .map(|s| {
                            (logits[s] - max).exp() / total
                                * multiplier[t * T + s]
                                * f64::from(v[[b, s, n, h]])
                        })
                        .sum();
                    heads[[b, t, n, h]] = y as f32;
                }
            }
        }
    }
    let want = call!((mha.out)(&heads)).unwrap();
    let gap = (&got - &want).mapv(f32::abs).fold(0.0f32, |m, &d| m.max(d));
    assert!(gap < 1e-5, "max |nnx - f64 reference| = {gap}");
}

#[test]
fn the_same_key_repeats_and_vmap_equals_the_loop() {
    let mha = attention(0.5);
    let x = input(3);
    let once = call!(mha(
        &x,
        deterministic = Some(false),
        dropout_rng = Some(key(1))
    ))
    .unwrap();
    let again = call!(mha(
        &x,
        deterministic = Some(false),
        dropout_rng = Some(key(1))
    ))
    .unwrap();
    let other = call!(mha(
        &x,
        deterministic = Some(false),
        dropout_rng = Some(key(2))
    ))
    .unwrap();
    assert_eq!(once, again);
    assert_ne!(once, other);
    // A broadcast key: every example draws the mask it would draw alone with that key.
    let ys = vmap!(
        mha(
            x.view(),
            deterministic = Some(false),
            dropout_rng = Some(key(1))
        ),
        in_axes = (0, deterministic = None, dropout_rng = None)
    )
    .unwrap();
    for b in 0..3 {
        let alone = call!(mha(
            x.index_axis(Axis(0), b),
            deterministic = Some(false),
            dropout_rng = Some(key(1))
        ))
        .unwrap();
        let gap = (&ys.index_axis(Axis(0), b) - &alone)
            .mapv(f32::abs)
            .fold(0.0f32, |m, &d| m.max(d));
        assert!(gap < 1e-6, "example {b}: {gap}");
    }
}
