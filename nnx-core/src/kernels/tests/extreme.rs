//! Rows beyond `f32`'s range, one test per case a differential fuzz of the paths found
//! them disagreeing on: every path must give the `f64` reference's answer where that
//! answer is an `f32`, and all must agree bit for bit on where it is not.

use super::{EPS, PATH_TOL, REF_TOL, assert_close_to_ref, reference};
use crate::kernels::{Isa, NormKind, NormSpec, Threads, norm_rows_into_with};

fn run(isa: Isa, x: &[f32], mask: Option<&[bool]>, features: usize, spec: &NormSpec) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    norm_rows_into_with(isa, Threads::Single, x, mask, features, spec, &mut out).unwrap();
    out
}

/// Every available path on `x` against the `f64` reference, and against the scalar
/// path: NaN and infinities in the same places, finite values within [`PATH_TOL`].
fn check(what: &str, x: &[f32], mask: Option<&[bool]>, features: usize, spec: &NormSpec) {
    let want = reference(x, mask, features, spec);
    let scalar = run(Isa::Scalar, x, mask, features, spec);
    for isa in Isa::all_available() {
        let got = run(isa, x, mask, features, spec);
        assert_close_to_ref(&got, &want, REF_TOL, &format!("{what}: {isa} vs f64"));
        let scalar = scalar.iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
        assert_close_to_ref(&got, &scalar, PATH_TOL, &format!("{what}: {isa} vs scalar"));
    }
}

/// A row longer than one 1024-element chunk alternating 0 and 1e36: a chunk's `Σd`
/// overflows as well as its `Σd²`.
#[test]
fn chunked_rows_whose_sums_overflow() {
    for features in [1025, 2048, 3001] {
        let x: Vec<f32> = (0..features)
            .map(|j| if j % 2 == 0 { 0.0 } else { 1e36 })
            .collect();
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            let spec = NormSpec {
                kind,
                ..NormSpec::layer_norm(EPS)
            };
            check(
                &format!("0/1e36 x {features} {kind:?}"),
                &x,
                None,
                features,
                &spec,
            );
        }
    }
}

/// Elements near `±f32::MAX` whose first-pass sum overflows in one lane and not another.
#[test]
fn rows_near_f32_max() {
    let mut x = vec![0.0f32; 18];
    x[..2].copy_from_slice(&[3e38, -3e38]);
    x[16..].copy_from_slice(&[3e38, -3e38]);
    for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
        let spec = NormSpec {
            kind,
            ..NormSpec::layer_norm(EPS)
        };
        check(&format!("±3e38 {kind:?}"), &x, None, 18, &spec);
    }
}

/// A masked-out 1e37 in a row of small spread, scaled by 0.01: its normalised value
/// (~3e39) is beyond `f32`, its scaled one (~3e37) is not, so the scale must come
/// first, as in the scalar path's `(x - mean) * (inv_std * scale)`. And a kept pair
/// 0, 1e37, whose statistics need `f64`.
#[test]
fn scaled_outputs_beyond_the_unscaled_range() {
    for features in [2, 17, 40, 300, 1030, 2500] {
        let x: Vec<f32> = (0..features)
            .map(|j| if j == 1 { 1e37 } else { (j % 3) as f32 * 1e-3 })
            .collect();
        let out_one: Vec<bool> = (0..features).map(|j| j != 1).collect();
        let pair: Vec<bool> = (0..features).map(|j| j < 2).collect();
        let scale = vec![0.01f32; features];
        let bias = vec![0.5f32; features];
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            for bias in [None, Some(&bias[..])] {
                let spec = NormSpec {
                    kind,
                    scale: Some(&scale),
                    bias,
                    ..NormSpec::layer_norm(EPS)
                };
                for (name, mask) in [("1e37 masked out", &out_one), ("pair 0, 1e37", &pair)] {
                    let what = format!("{name} x {features} {kind:?} bias {}", bias.is_some());
                    check(&what, &x, Some(mask), features, &spec);
                }
            }
        }
    }
}

/// `epsilon = 0` and a row of subnormals: the `f32` variance underflows to 0, and
/// `1/std` (about 1e42 here) is beyond `f32`, so no path can form the `f64` answer;
/// every path gives the same ±inf with its sign (NaN where `x` is the mean), as
/// Flax's `f32` code does.
#[test]
fn subnormal_rows_without_epsilon() {
    for features in [5, 16, 33, 300, 1500] {
        let x: Vec<f32> = (0..features).map(|j| (j % 5) as f32 * 1e-42).collect();
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            let spec = NormSpec {
                kind,
                ..NormSpec::layer_norm(0.0)
            };
            let infinite: Vec<f64> = reference(&x, None, features, &spec)
                .iter()
                .map(|&v| {
                    if v == 0.0 {
                        f64::NAN
                    } else {
                        v.signum() * f64::INFINITY
                    }
                })
                .collect();
            for isa in Isa::all_available() {
                let got = run(isa, &x, None, features, &spec);
                let what = format!("subnormal x {features} {kind:?}: {isa}");
                assert_close_to_ref(&got, &infinite, 0.0, &what);
            }
        }
    }
}
