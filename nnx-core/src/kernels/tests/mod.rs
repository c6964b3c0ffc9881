//! Every available path against an f64 reference and against the scalar path.
//!
//! Tolerances. f32 has ε = 2⁻²³ ≈ 1.2e-7. Each sum runs over at most
//! ⌈len / lanes⌉ + log₂(lanes) additions per accumulator (≤ 260 for the 4097-wide rows
//! here with 16 scalar lanes), and the corrected two-pass scheme keeps the variance error
//! at the level of those sums, so for the well-scaled random data below the relative error
//! of `inv_std` stays around √260·ε ≈ 2e-6 at worst and the output's around that plus a
//! few ε from `(x - shift - corr) * mul + bias`. `REF_TOL = 1e-5` relative to `1 + |ref|`
//! (the `1 +` covers outputs near zero, whose error is set by the row's scale, ~1) leaves a
//! margin of ≥ 5×. Two f32 paths differ only in summation order, so they agree to
//! `PATH_TOL = 2e-6`; an all-true mask takes the same arithmetic as no mask and must be
//! bitwise equal.

use proptest::prelude::*;

use super::*;

mod digest;
mod extreme;
mod fuzz;

const REF_TOL: f64 = 1e-5;
const PATH_TOL: f64 = 2e-6;
const EPS: f32 = 1e-5;

/// SplitMix64: a tiny deterministic generator so the sweep tests need no extra crate.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    fn vec(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// A mask keeping about 4 of 5 elements, with row 3 keeping none and row 4 only its last.
fn make_digest_mask(rows: usize, features: usize, rng: &mut Rng) -> Vec<bool> {
    let mut mask: Vec<bool> = (0..rows * features)
        .map(|_| !rng.next_u64().is_multiple_of(5))
        .collect();
    for (r, row) in mask.chunks_mut(features).enumerate() {
        if r == 3 {
            row.fill(false);
        } else if r == 4 {
            row.fill(false);
            row[features - 1] = true;
        }
    }
    mask
}

/// The Flax NNX formulas evaluated in f64 on the (exact) f32 inputs.
fn reference(x: &[f32], mask: Option<&[bool]>, features: usize, spec: &NormSpec) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    for (r, row) in x.chunks(features).enumerate() {
        let keep = |j: usize| mask.is_none_or(|m| m[r * features + j]);
        let kept = || {
            row.iter()
                .enumerate()
                .filter(|&(j, _)| keep(j))
                .map(|(_, &v)| f64::from(v))
        };
        let n = kept().count() as f64;
        let mean = match spec.kind {
            NormKind::LayerNorm => kept().sum::<f64>() / n,
            NormKind::RmsNorm => 0.0,
        };
        let var = kept().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let inv = 1.0 / (var + f64::from(spec.epsilon)).sqrt();
        for (j, &v) in row.iter().enumerate() {
            let mul = inv * spec.scale.map_or(1.0, |s| f64::from(s[j]));
            let y = (f64::from(v) - mean) * mul;
            out.push(spec.bias.map_or(y, |b| y + f64::from(b[j])));
        }
    }
    out
}

/// Runs one path with the input and output placed `offset` elements into larger buffers,
/// so the slices are not 32/64-byte aligned.
fn run_offset(
    isa: Isa,
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    offset: usize,
) -> Vec<f32> {
    let mut xbuf = vec![f32::NAN; x.len() + offset + 3];
    xbuf[offset..offset + x.len()].copy_from_slice(x);
    let mut obuf = vec![-7.0f32; x.len() + 2 * offset + 3];
    let out_at = (offset * 2 + 1) % 4;
    let out = &mut obuf[out_at..out_at + x.len()];
    norm_rows_into_with(
        isa,
        Threads::Single,
        &xbuf[offset..offset + x.len()],
        mask,
        features,
        spec,
        out,
    )
    .expect("valid arguments");
    let result = out.to_vec();
    // Nothing outside `out` may be touched.
    assert!(
        obuf[..out_at]
            .iter()
            .chain(&obuf[out_at + x.len()..])
            .all(|&v| v == -7.0)
    );
    result
}

fn assert_close_to_ref(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            f64::from(g) == w
        } else {
            (f64::from(g) - w).abs() <= tol * (1.0 + w.abs())
        };
        assert!(ok, "{what}: element {i}: got {g}, want {w}");
    }
}

fn assert_bitwise(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "{what}: element {i}: {x} vs {y}"
        );
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum MaskKind {
    None,
    AllTrue,
    AllFalse,
    SingleTrue,
    Random,
    FirstHalf,
}

const MASKS: [MaskKind; 6] = [
    MaskKind::None,
    MaskKind::AllTrue,
    MaskKind::AllFalse,
    MaskKind::SingleTrue,
    MaskKind::Random,
    MaskKind::FirstHalf,
];

fn make_mask(kind: MaskKind, rows: usize, features: usize, rng: &mut Rng) -> Option<Vec<bool>> {
    let row = |r: usize| -> Vec<bool> {
        (0..features)
            .map(|j| match kind {
                MaskKind::None | MaskKind::AllTrue => true,
                MaskKind::AllFalse => false,
                MaskKind::SingleTrue => j == (r * 7 + 3) % features,
                MaskKind::Random => false,
                MaskKind::FirstHalf => j < features.div_ceil(2),
            })
            .collect()
    };
    match kind {
        MaskKind::None => None,
        MaskKind::Random => Some((0..rows * features).map(|_| rng.coin()).collect()),
        _ => Some((0..rows).flat_map(row).collect()),
    }
}

fn sweep_features() -> Vec<usize> {
    if cfg!(miri) {
        // Every structural case of the scalar path (Miri runs nothing else) at a size
        // the interpreter gets through in seconds.
        return vec![1, 2, 3, 7, 15, 16, 17, 33, 64, 65, 129];
    }
    let mut f: Vec<usize> = (1..=70).collect();
    f.extend([
        71, 73, 97, 101, 127, 128, 129, 251, 255, 256, 257, 509, 1000, 1021, 4097,
    ]);
    f
}

/// Every path, every feature count, mask pattern, kind and affine combination: vs the
/// f64 reference, vs the scalar path, and all-true mask vs no mask.
#[test]
fn all_paths_match_reference_and_scalar() {
    let mut rng = Rng(1);
    let isas = Isa::all_available();
    let mut case = 0usize;
    for features in sweep_features() {
        let rows = if features > 1000 { 2 } else { 3 };
        let x = rng.vec(rows * features, -2.0, 3.0);
        let scale = rng.vec(features, 0.5, 1.5);
        let bias = rng.vec(features, -1.0, 1.0);
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            for affine in 0..4 {
                let spec = NormSpec {
                    kind,
                    epsilon: EPS,
                    scale: (affine & 1 == 1).then_some(&scale[..]),
                    bias: (affine & 2 == 2).then_some(&bias[..]),
                };
                let mut unmasked = Vec::new();
                for mask_kind in MASKS {
                    case += 1;
                    let mask = make_mask(mask_kind, rows, features, &mut rng);
                    let mask = mask.as_deref();
                    let want = reference(&x, mask, features, &spec);
                    let scalar = run_offset(Isa::Scalar, &x, mask, features, &spec, 0);
                    for &isa in &isas {
                        let what =
                            format!("{isa} f={features} {kind:?} affine={affine} {mask_kind:?}");
                        let got = run_offset(isa, &x, mask, features, &spec, case % 4);
                        assert_close_to_ref(&got, &want, REF_TOL, &what);
                        let scalar64: Vec<f64> = scalar.iter().map(|&v| f64::from(v)).collect();
                        assert_close_to_ref(
                            &got,
                            &scalar64,
                            PATH_TOL,
                            &format!("{what} vs scalar"),
                        );
                        match mask_kind {
                            MaskKind::None => unmasked.push(got),
                            MaskKind::AllTrue => {
                                let none = &unmasked[isas.iter().position(|&i| i == isa).unwrap()];
                                assert_bitwise(&got, none, &what);
                            }
                            MaskKind::AllFalse => assert!(got.iter().all(|v| v.is_nan()), "{what}"),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

/// Mean 1e4, std 1: f32 cannot even hold such a mean to better than ~5e-4, but the
/// corrected two-pass scheme recovers it, so the output matches f64 to ~1e-6.
#[test]
#[cfg_attr(
    miri,
    ignore = "too large for Miri; the scalar path runs under Miri in the smaller tests"
)]
fn large_mean_small_spread_is_accurate() {
    let mut rng = Rng(2);
    for features in [64, 128, 768, 4097, 65536] {
        let x: Vec<f32> = (0..2 * features)
            .map(|_| 1e4 + rng.uniform(-1.7, 1.7))
            .collect();
        let mask: Vec<bool> = (0..x.len()).map(|_| rng.coin()).collect();
        for isa in Isa::all_available() {
            for mask in [None, Some(&mask[..])] {
                let spec = NormSpec::layer_norm(EPS);
                let got = run_offset(isa, &x, mask, features, &spec, 1);
                let want = reference(&x, mask, features, &spec);
                assert_close_to_ref(&got, &want, 1e-5, &format!("{isa} f={features}"));
            }
        }
    }
}

/// `epsilon = 0` on a row whose kept elements are all equal: the variance is 0 and
/// `1/sqrt(var)` infinite, so kept elements become 0·∞ = NaN and masked-out ones ±∞, as
/// in f64. (Found by the property test: a formula that adds `-corr·inv` must not form
/// `0·∞` when `corr` is 0.)
#[test]
fn zero_epsilon_constant_rows() {
    for features in [2, 5, 64, 96, 128, 1500] {
        let x: Vec<f32> = (0..2 * features)
            .map(|i| if i % 3 == 0 { 0.0 } else { 0.0027974078 })
            .collect();
        let mask: Vec<bool> = (0..x.len()).map(|i| i % 3 != 0).collect();
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            let spec = NormSpec {
                kind,
                ..NormSpec::layer_norm(0.0)
            };
            let want = reference(&x, Some(&mask), features, &spec);
            for isa in Isa::all_available() {
                let got = run_offset(isa, &x, Some(&mask), features, &spec, 0);
                assert_close_to_ref(&got, &want, 1e-5, &format!("{isa} f={features} {kind:?}"));
            }
        }
    }
}

/// The AVX2 and AVX-512 paths shift each row (AVX-512: each chunk of long rows) by its
/// first kept element and take their statistics in one pass. The worst case for
/// that is a lone outlier as the shift (cancellation of about log2(n) bits), which
/// must be caught and recomputed: the result must still match f64. Masked-out elements
/// (here huge padding values at the start of the row) are never the shift.
#[test]
#[cfg_attr(
    miri,
    ignore = "too large for Miri; the scalar path runs under Miri in the smaller tests"
)]
fn lone_outlier_as_shift_is_accurate() {
    let mut rng = Rng(11);
    // 37 and 100: the general short-row scheme; 16-128: the unrolled widths. 44 rows:
    // the last group is short both for groups of 16 (AVX-512) and of 8 (AVX2).
    for features in [16, 32, 37, 64, 100, 128, 768, 4097] {
        for outlier in [1e2f32, 1e3, 1e4] {
            let rows = 44;
            let mut x = Vec::with_capacity(rows * features);
            let mut mask = Vec::with_capacity(rows * features);
            for r in 0..rows {
                // Masked-out elements before the first kept one: none, a few, past the
                // first 8 or 16 bools, and all but the last two (so the first kept one
                // sits in a row's partial last block of bools).
                let pad = [0, 1, 2, 9, 17, features - 2][r % 6].min(features - 2);
                for j in 0..features {
                    let kept = j >= pad;
                    let v = if !kept {
                        1e30
                    } else if j == pad {
                        1e4 + outlier
                    } else {
                        1e4 + rng.uniform(-0.01, 0.01)
                    };
                    x.push(v);
                    mask.push(kept);
                }
            }
            let unpadded: Vec<f32> = x.iter().map(|&v| if v == 1e30 { 1e4 } else { v }).collect();
            let scale = rng.vec(features, 0.5, 1.5);
            let spec = NormSpec {
                scale: Some(&scale),
                ..NormSpec::layer_norm(EPS)
            };
            for isa in Isa::all_available() {
                for (x, mask) in [(&unpadded, None), (&x, Some(&mask[..]))] {
                    let got = run_offset(isa, x, mask, features, &spec, 0);
                    let want = reference(x, mask, features, &spec);
                    let what = format!(
                        "{isa} f={features} outlier={outlier} masked={}",
                        mask.is_some()
                    );
                    assert_close_to_ref(&got, &want, 1e-5, &what);
                }
            }
        }
    }
}

/// Long rows are summarised per chunk and the chunks merged (rows of one chunk, up to
/// 1024 features, finish in `f32` instead): rows whose level drifts by far more than
/// their spread (so a chunk's mean is a poor shift for the others), chunks with no kept
/// element, a lone kept element in the last chunk, mean 1e4 / std 1 — all vs f64,
/// masked and unmasked, LayerNorm and RMSNorm.
#[test]
#[cfg_attr(
    miri,
    ignore = "too large for Miri; the scalar path runs under Miri in the smaller tests"
)]
fn chunked_long_rows_match_reference() {
    let mut rng = Rng(5);
    for features in [300, 1024, 1025, 5000, 65536] {
        let drift: Vec<f32> = (0..features)
            .map(|j| 1e4 * j as f32 / features as f32 + rng.uniform(-1.0, 1.0))
            .collect();
        let level: Vec<f32> = (0..features)
            .map(|_| 1e4 + rng.uniform(-1.7, 1.7))
            .collect();
        let x = [drift, level].concat();
        let random: Vec<bool> = (0..x.len()).map(|_| rng.coin()).collect();
        // A masked-out start (whole chunks where there are several), then random.
        let hole = if features > 1500 { 1500 } else { features / 3 };
        let holes: Vec<bool> = (0..x.len())
            .map(|i| i % features >= hole && rng.coin())
            .collect();
        let last_only: Vec<bool> = (0..x.len()).map(|i| i % features == features - 1).collect();
        let scale = rng.vec(features, 0.5, 1.5);
        let bias = rng.vec(features, -1.0, 1.0);
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            let spec = NormSpec {
                kind,
                epsilon: EPS,
                scale: Some(&scale),
                bias: Some(&bias),
            };
            for mask in [
                None,
                Some(&random[..]),
                Some(&holes[..]),
                Some(&last_only[..]),
            ] {
                let want = reference(&x, mask, features, &spec);
                for isa in Isa::all_available() {
                    let got = run_offset(isa, &x, mask, features, &spec, 3);
                    let what = format!("{isa} f={features} {kind:?} mask={}", mask.is_some());
                    assert_close_to_ref(&got, &want, 1e-5, &what);
                }
            }
        }
    }
}

/// Large outputs of long rows take streaming stores with lines that straddle rows, in
/// either direction depending on where `out` sits relative to `x` modulo 4 KiB: every
/// placement must give exactly what each row gives alone (which takes the plain stores).
#[test]
#[cfg_attr(
    miri,
    ignore = "too large for Miri; the scalar path runs under Miri in the smaller tests"
)]
fn streamed_long_rows_equal_rows_alone() {
    // All > 2²¹ elements. Rows one by one (769 and 1027: one chunk and two; 16387), in
    // 512-column tiles over four rows (2048 and 16384, the ends of that range, and
    // 4100), and short rows in groups (16-128): rows not a multiple of 16 nor of 4,
    // features not a multiple of 16 nor of the tile.
    for (rows, features) in [
        (2803, 769),
        (2053, 1027),
        (1025, 2048),
        (523, 4100),
        (129, 16384),
        (129, 16387),
        // Short rows of the unrolled widths, in lines two rows share.
        (131073, 16),
        (65537, 32),
        (32769, 64),
        (16385, 128),
    ] {
        streamed_rows_equal_rows_alone(rows, features);
    }
}

fn streamed_rows_equal_rows_alone(rows: usize, features: usize) {
    let mut rng = Rng(8);
    let x = rng.vec(rows * features, -3.0, 5.0);
    let mask: Vec<bool> = (0..x.len()).map(|_| rng.coin()).collect();
    let scale = rng.vec(features, 0.5, 1.5);
    let bias = rng.vec(features, -1.0, 1.0);
    let specs = [
        NormSpec {
            scale: Some(&scale),
            bias: Some(&bias),
            ..NormSpec::layer_norm(EPS)
        },
        NormSpec {
            scale: Some(&scale),
            ..NormSpec::rms_norm(EPS)
        },
    ];
    let mut xbuf = vec![0.0f32; x.len() + 1024];
    let mut obuf = vec![0.0f32; x.len() + 2048];
    let page = |p: *const f32| p as usize % 4096 / 4;
    for isa in Isa::all_available() {
        for spec in &specs {
            for mask in [None, Some(&mask[..])] {
                let alone: Vec<f32> = (0..rows)
                    .flat_map(|r| {
                        let row = r * features..(r + 1) * features;
                        let mut out = vec![0.0; features];
                        let m = mask.map(|m| &m[row.clone()]);
                        norm_rows_into_with(
                            isa,
                            Threads::Single,
                            &x[row],
                            m,
                            features,
                            spec,
                            &mut out,
                        )
                        .unwrap();
                        out
                    })
                    .collect();
                // `out - x` modulo 4 KiB, in elements (0, 12 and 750 bytes × 4).
                for (x_at, delta) in [(3, 0), (0, 12), (5, 750), (9, 1020)] {
                    xbuf[x_at..x_at + x.len()].copy_from_slice(&x);
                    let want = (page(xbuf[x_at..].as_ptr()) + delta) % 1024;
                    let out_at = (want + 1024 - page(obuf.as_ptr())) % 1024;
                    let out = &mut obuf[out_at..out_at + x.len()];
                    let xs = &xbuf[x_at..x_at + x.len()];
                    norm_rows_into_with(isa, Threads::Single, xs, mask, features, spec, out)
                        .unwrap();
                    let what = format!(
                        "{rows}x{features} {isa} {:?} mask={} delta={delta}",
                        spec.kind,
                        mask.is_some()
                    );
                    assert_bitwise(out, &alone, &what);
                }
                // `out` 1 and 15 elements before a 64-byte line (the placements above
                // give whatever the allocator makes of them).
                let line_at = (obuf.as_ptr() as usize).wrapping_neg() % 64 / 4;
                for lead in [1, 15] {
                    let out_at = (line_at + 16 - lead) % 16;
                    let out = &mut obuf[out_at..out_at + x.len()];
                    norm_rows_into_with(isa, Threads::Single, &x, mask, features, spec, out)
                        .unwrap();
                    let what = format!(
                        "{rows}x{features} {isa} {:?} mask={} lead={lead}",
                        spec.kind,
                        mask.is_some()
                    );
                    assert_bitwise(out, &alone, &what);
                }
            }
        }
    }
}

/// The output pass of long rows walks forwards or backwards depending on where `scale`
/// and `bias` sit relative to `out` modulo 4 KiB (as well as `x`); either way every bit
/// is the same. Cached (3 rows) and streamed (> 2²¹ elements) outputs, rows one by one
/// and in tiles; at 1027 and 4100 features the offsets change from row to row, so rows
/// of one call go different ways.
#[test]
#[cfg_attr(
    miri,
    ignore = "too large for Miri; the scalar path runs under Miri in the smaller tests"
)]
fn output_direction_does_not_change_results() {
    for (rows, features) in [
        (5, 1000),
        (3, 1027),
        (3, 4096),
        (2053, 1027),
        (523, 4100),
        (1025, 2048),
    ] {
        let mut rng = Rng(9);
        let x = rng.vec(rows * features, -3.0, 5.0);
        let scale = rng.vec(features, 0.5, 1.5);
        let bias = rng.vec(features, -1.0, 1.0);
        let mut out = vec![0.0f32; x.len()];
        let mut scale_buf = vec![0.0f32; features + 1024];
        let mut bias_buf = vec![0.0f32; features + 1024];
        // Copies `data` into `buf` so that it starts `below` bytes under `out` modulo 4 KiB.
        let place = |buf: &mut [f32], data: &[f32], out: *const f32, below: usize| {
            let want = (out as usize).wrapping_sub(below) % 4096;
            let at = (want + 4096 - buf.as_ptr() as usize % 4096) % 4096 / 4;
            buf[at..at + data.len()].copy_from_slice(data);
            at
        };
        // `x` at the same offset as `out`, which favours neither direction.
        let mut x_buf = vec![0.0f32; x.len() + 1024];
        let x_at = place(&mut x_buf, &x, out.as_ptr(), 0);
        let x = &x_buf[x_at..][..x.len()];
        let spec = NormSpec {
            scale: Some(&scale),
            bias: Some(&bias),
            ..NormSpec::layer_norm(EPS)
        };
        let want = reference(x, None, features, &spec);
        for isa in Isa::all_available() {
            let mut first = None;
            // 48 bytes below `out` favours walking backwards, 48 above forwards.
            for below in [0, 48, 4096 - 48] {
                let s_at = place(&mut scale_buf, &scale, out.as_ptr(), below);
                let b_at = place(&mut bias_buf, &bias, out.as_ptr(), below);
                let (sc, bc) = (
                    &scale_buf[s_at..][..features],
                    &bias_buf[b_at..][..features],
                );
                let what = format!("{rows}x{features} {isa} below={below}");
                #[cfg(target_arch = "x86_64")]
                if below != 0 {
                    let stores = Stores::for_len(x.len());
                    let backwards =
                        direction::walk_backwards(out.as_ptr().cast(), [x, sc, bc], stores);
                    assert_eq!(backwards, below == 48, "{what}");
                }
                let spec = NormSpec {
                    scale: Some(sc),
                    bias: Some(bc),
                    ..NormSpec::layer_norm(EPS)
                };
                norm_rows_into_with(isa, Threads::Single, x, None, features, &spec, &mut out)
                    .unwrap();
                assert_close_to_ref(&out, &want, 1e-5, &what);
                // Bits are equal within an ISA (different ISAs sum in different orders).
                match &first {
                    None => first = Some(out.clone()),
                    Some(first) => assert_bitwise(&out, first, &what),
                }
            }
        }
    }
}

/// The direction rule itself, on sub-slices of one buffer (so offsets are exact): the
/// nearest conflict wins, each source within its own distance, and sources at the same
/// offset as `out` or absent count for nothing.
#[cfg(target_arch = "x86_64")]
#[test]
fn walk_backwards_picks_the_farther_conflict() {
    use super::direction::walk_backwards;
    let buf = vec![0.0f32; 4096];
    let out = &buf[2048..];
    // A source `bytes` below `out` modulo 4 KiB (negative: above).
    let at = |bytes: isize| &buf[(2048 - bytes / 4) as usize..];
    let none: &[f32] = &[];
    let cases = [
        // (x, scale, bias, stores, backwards)
        (at(64), none, none, Stores::Streaming, true),
        (at(1536), none, none, Stores::Streaming, true),
        (at(2560), none, none, Stores::Streaming, false),
        (at(64), none, none, Stores::Cached, true),
        (at(1536), none, none, Stores::Cached, false),
        (at(-64), none, none, Stores::Cached, false),
        (at(0), at(48), at(48), Stores::Cached, true),
        (at(0), at(48), at(-16), Stores::Cached, false),
        (at(0), at(48), at(-100), Stores::Streaming, true),
        (at(0), at(300), none, Stores::Streaming, false),
        (at(0), none, at(200), Stores::Cached, true),
        (at(0), at(0), at(0), Stores::Streaming, false),
    ];
    for (i, (x, scale, bias, stores, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            walk_backwards(out.as_ptr().cast(), [x, scale, bias], stores),
            want,
            "case {i}"
        );
    }
}

/// Short rows are normalised several at a time, and rows of one chunk are written while
/// the next is summed; a row's result must not depend on which rows share its group or
/// follow it (group sizes 1..=16, ragged last groups, and a row alone included).
#[test]
#[cfg_attr(
    miri,
    ignore = "tests the SIMD paths' row groups; Miri runs only the scalar path"
)]
fn rows_are_independent_of_neighbours() {
    let mut rng = Rng(6);
    // Short rows (grouped) and rows of one chunk (written inside the next row's
    // statistics pass when unmasked).
    for features in [1, 7, 16, 32, 64, 100, 128, 256, 300, 512, 1000] {
        let rows = 37;
        let x = rng.vec(rows * features, -3.0, 5.0);
        let mask: Vec<bool> = (0..x.len()).map(|_| rng.coin()).collect();
        let scale = rng.vec(features, 0.5, 1.5);
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            let spec = NormSpec {
                kind,
                epsilon: EPS,
                scale: Some(&scale),
                bias: None,
            };
            for isa in Isa::all_available() {
                for mask in [None, Some(&mask[..])] {
                    let all = run_offset(isa, &x, mask, features, &spec, 0);
                    let want = reference(&x, mask, features, &spec);
                    let what = format!("{isa} f={features} {kind:?}");
                    assert_close_to_ref(&all, &want, REF_TOL, &what);
                    // Every row again, alone and as the start of a shorter block.
                    // From 20 and 21: blocks of 17 and 16 rows.
                    for start in [0, 5, 17, 20, 21, 36] {
                        let r = start * features..rows * features;
                        let part = run_offset(
                            isa,
                            &x[r.clone()],
                            mask.map(|m| &m[r.clone()]),
                            features,
                            &spec,
                            1,
                        );
                        assert_bitwise(&part, &all[r.clone()], &format!("{what} from {start}"));
                        let one = start * features..(start + 1) * features;
                        let alone = run_offset(
                            isa,
                            &x[one.clone()],
                            mask.map(|m| &m[one.clone()]),
                            features,
                            &spec,
                            2,
                        );
                        assert_bitwise(&alone, &all[one], &format!("{what} row {start}"));
                    }
                }
            }
        }
    }
}

/// Large row counts and long rows, with and without mask: the rayon split must not
/// change a single bit. The shapes are above the parallel threshold; the last one is
/// small and goes straight to the split to cover blocks with a ragged last block.
#[test]
#[cfg_attr(
    miri,
    ignore = "too large for Miri; the scalar path runs under Miri in the smaller tests"
)]
fn auto_threads_bitwise_equal_to_single() {
    let mut rng = Rng(3);
    // 33x65537 is large enough for streaming stores, with rows that straddle lines.
    // 523x4100 streams in column tiles over four rows.
    for (rows, features) in [
        (1000, 300),
        (6, 65536),
        (300_000, 1),
        (37, 19),
        (33, 65537),
        (523, 4100),
    ] {
        assert!(rows * features >= PARALLEL_MIN_ELEMS || rows == 37);
        let x = rng.vec(rows * features, -5.0, 5.0);
        let mask: Vec<bool> = (0..x.len())
            .map(|_| !rng.next_u64().is_multiple_of(4))
            .collect();
        let scale = rng.vec(features, 0.5, 1.5);
        let spec = NormSpec {
            scale: Some(&scale),
            ..NormSpec::layer_norm(EPS)
        };
        for isa in Isa::all_available() {
            for mask in [None, Some(&mask[..])] {
                let mut single = vec![0.0; x.len()];
                let mut auto = vec![0.0; x.len()];
                let mut split = vec![0.0; x.len()];
                norm_rows_into_with(isa, Threads::Single, &x, mask, features, &spec, &mut single)
                    .unwrap();
                norm_rows_into_with(isa, Threads::Auto, &x, mask, features, &spec, &mut auto)
                    .unwrap();
                let checked = CheckedIsa::new(isa).unwrap();
                let stores = Stores::for_len(x.len());
                run_parallel(
                    checked,
                    &x,
                    mask,
                    features,
                    &spec,
                    as_out(&mut split),
                    stores,
                );
                assert_bitwise(&auto, &single, &format!("{isa} {rows}x{features}"));
                assert_bitwise(&split, &single, &format!("{isa} {rows}x{features} split"));
            }
        }
    }
}

#[test]
fn ieee_special_values_propagate() {
    for isa in Isa::all_available() {
        let ln = NormSpec::layer_norm(EPS);
        // eps = 0 and a constant row: var = 0, mul = +inf, (x - mean) * inf = 0 * inf = NaN.
        let got = norm_row_with(isa, &[2.0; 5], None, &NormSpec::layer_norm(0.0));
        assert!(got.iter().all(|v| v.is_nan()), "{isa}: {got:?}");
        // eps = 0, RMSNorm of zeros: 0 * inf = NaN as well.
        let got = norm_row_with(isa, &[0.0; 19], None, &NormSpec::rms_norm(0.0));
        assert!(got.iter().all(|v| v.is_nan()), "{isa}: {got:?}");
        // A masked-in NaN poisons the statistics and so the whole row.
        let mut x: Vec<f32> = (0..37).map(|i| i as f32).collect();
        x[20] = f32::NAN;
        assert!(
            norm_row_with(isa, &x, None, &ln).iter().all(|v| v.is_nan()),
            "{isa}"
        );
        // A masked-out NaN or infinity stays out of the statistics; only its own output
        // is affected (short rows and chunked long rows, both kinds).
        // `late` lands in a full block after the last group of four blocks (1000: block
        // 60 of a 1024-element chunk; 53: block 2), `features - 3` in the tail.
        for (features, late) in [(37, 30), (53, 40), (1000, 970)] {
            let mut x: Vec<f32> = (0..features).map(|i| (i % 37) as f32).collect();
            x[20] = f32::NAN;
            x[21] = f32::INFINITY;
            x[late] = f32::NAN;
            x[features - 3] = f32::NAN;
            let out_of_stats = |i: usize| [20, 21, late, features - 3].contains(&i);
            let mask: Vec<bool> = (0..features).map(|i| !out_of_stats(i)).collect();
            for spec in [ln, NormSpec::rms_norm(EPS)] {
                let got = norm_row_with(isa, &x, Some(&mask), &spec);
                let want = reference(&x, Some(&mask), features, &spec);
                let what = format!("{isa} masked NaN, {features} {:?}", spec.kind);
                assert!(
                    got[20].is_nan()
                        && got[21] == f32::INFINITY
                        && got[late].is_nan()
                        && got[features - 3].is_nan(),
                    "{what}"
                );
                assert_close_to_ref(&got, &want, REF_TOL, &what);
            }
        }
        // A masked-in infinity makes the variance NaN (inf - inf).
        let mut y = vec![1.0f32; 40];
        y[3] = f32::INFINITY;
        for spec in [ln, NormSpec::rms_norm(EPS)] {
            let got = norm_row_with(isa, &y, None, &spec);
            let want = reference(&y, None, 40, &spec);
            assert_close_to_ref(&got, &want, REF_TOL, &format!("{isa} inf {:?}", spec.kind));
        }
    }
}

/// Rows whose squares overflow `f32`: every path matches the f64 reference, instead of
/// turning such a row into its bias as `1/sqrt(inf) = 0` would (Flax's `f32` code
/// does). Row 1 overflows only around its first element, the shift of the single-pass
/// paths; row 2 has one outlier of 1e30; row 3 is an ordinary row beside them.
#[test]
fn overflowing_squares_match_the_reference() {
    for features in [4, 6, 16, 40, 64, 100, 300, 1024, 2000] {
        let mut x = vec![0.0f32; 4 * features];
        for (j, v) in x[..features].iter_mut().enumerate() {
            *v = if j % 2 == 0 { 2e19 } else { -2e19 };
        }
        x[features] = 1.3e19;
        x[features + 1] = -1.3e19;
        for (j, v) in x[2 * features..3 * features].iter_mut().enumerate() {
            *v = 0.1 * (j % 5) as f32;
        }
        x[2 * features + features / 2] = 1e30;
        for (j, v) in x[3 * features..].iter_mut().enumerate() {
            *v = (j % 7) as f32 - 3.0;
        }
        // Keeps the first two elements of every row (row 1's pair among them).
        let mask: Vec<bool> = (0..x.len()).map(|i| i % features % 3 != 2).collect();
        let scale: Vec<f32> = (0..features).map(|j| 1.0 + (j % 3) as f32).collect();
        let bias: Vec<f32> = (0..features).map(|j| (j % 5) as f32 - 2.0).collect();
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            let spec = NormSpec {
                kind,
                scale: Some(&scale),
                bias: Some(&bias),
                ..NormSpec::layer_norm(EPS)
            };
            for mask in [None, Some(&mask[..])] {
                let exact = reference(&x, mask, features, &spec);
                for isa in Isa::all_available() {
                    let mut got = vec![0.0; x.len()];
                    norm_rows_into_with(isa, Threads::Single, &x, mask, features, &spec, &mut got)
                        .unwrap();
                    let what = format!(
                        "{isa}, {features} features, {kind:?}, mask {}",
                        mask.is_some()
                    );
                    assert_close_to_ref(&got, &exact, REF_TOL, &what);
                }
            }
        }
    }
    // Outputs large enough to be written with streaming stores (short and long rows).
    for features in [64, 1024] {
        let rows = (1 << 21) / features;
        let mut x: Vec<f32> = (0..rows * features)
            .map(|i| (i % 11) as f32 - 5.0)
            .collect();
        let r = rows / 2 + 3;
        x[r * features + 5] = 1e30;
        let spec = NormSpec::layer_norm(EPS);
        let near = (r - 1) * features..(r + 2) * features;
        let exact = reference(&x[near.clone()], None, features, &spec);
        for isa in Isa::all_available() {
            let mut got = vec![0.0; x.len()];
            norm_rows_into_with(isa, Threads::Single, &x, None, features, &spec, &mut got).unwrap();
            let what = format!("{isa}, streamed, {features} features");
            assert_close_to_ref(&got[near.clone()], &exact, REF_TOL, &what);
        }
    }
}

fn norm_row_with(isa: Isa, x: &[f32], mask: Option<&[bool]>, spec: &NormSpec) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    norm_rows_into_with(isa, Threads::Single, x, mask, x.len(), spec, &mut out).unwrap();
    out
}

#[test]
fn rms_norm_keeps_sign_of_zero_without_bias() {
    let x = [-0.0f32, 1.0, -1.0, 0.0];
    for isa in Isa::all_available() {
        let got = norm_row_with(isa, &x, None, &NormSpec::rms_norm(EPS));
        assert!(
            got[0].is_sign_negative() && got[3].is_sign_positive(),
            "{isa}: {got:?}"
        );
    }
}

#[test]
fn length_errors_are_typed_and_named() {
    let x = [0.0f32; 12];
    let mut out = [0.0f32; 12];
    let spec = NormSpec::layer_norm(EPS);
    let call = |mask: Option<&[bool]>, features, spec: &NormSpec, out: &mut [f32]| {
        norm_rows_into_with(Isa::Scalar, Threads::Auto, &x, mask, features, spec, out)
    };
    let err = call(Some(&[true; 10]), 4, &spec, &mut out).unwrap_err();
    assert_eq!(
        err,
        KernelError::LengthMismatch {
            operand: Operand::Mask,
            len: 10,
            x_len: 12
        }
    );
    assert_eq!(err.to_string(), "`mask` has 10 elements but `x` has 12");
    let err = call(None, 4, &spec, &mut out[..11]).unwrap_err();
    assert_eq!(err.to_string(), "`out` has 11 elements but `x` has 12");
    let scale = [1.0f32; 3];
    let err = call(
        None,
        4,
        &NormSpec {
            scale: Some(&scale),
            ..spec
        },
        &mut out,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`scale` has 3 elements but `features` is 4"
    );
    let err = call(
        None,
        4,
        &NormSpec {
            bias: Some(&scale),
            ..spec
        },
        &mut out,
    )
    .unwrap_err();
    assert_eq!(
        err,
        KernelError::ParamLength {
            operand: Operand::Bias,
            len: 3,
            features: 4
        }
    );
    let err = call(None, 5, &spec, &mut out).unwrap_err();
    assert_eq!(
        err,
        KernelError::RaggedRows {
            len: 12,
            features: 5
        }
    );
    assert!(err.to_string().contains("`x` has 12 elements"));
    let err = call(None, 0, &spec, &mut out).unwrap_err();
    assert_eq!(err, KernelError::ZeroFeatures { len: 12 });
    // Nothing was written by any failing call.
    assert!(out.iter().all(|&v| v == 0.0));
}

#[test]
fn empty_inputs_are_ok() {
    let spec = NormSpec::rms_norm(EPS);
    for isa in Isa::all_available() {
        for features in [0, 1, 7] {
            let r =
                norm_rows_into_with(isa, Threads::Auto, &[], Some(&[]), features, &spec, &mut []);
            assert_eq!(r, Ok(()));
        }
    }
    assert_eq!(norm_rows(&[], None, 0, &spec), Ok(vec![]));
}

#[test]
fn unavailable_or_unknown_isa_is_an_error() {
    #[cfg(target_arch = "x86_64")]
    let missing = Isa::Neon;
    #[cfg(not(target_arch = "x86_64"))]
    let missing = Isa::Avx512;
    let spec = NormSpec::layer_norm(EPS);
    let r = norm_rows_into_with(missing, Threads::Single, &[1.0], None, 1, &spec, &mut [0.0]);
    assert_eq!(r, Err(KernelError::IsaUnavailable { isa: missing }));
    let err = isa_from_env(Some(missing.name())).unwrap_err();
    let KernelError::Env { reason, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(**reason, KernelError::IsaUnavailable { isa: missing });
    assert_eq!(
        err.to_string(),
        format!(
            "the environment variable NNX_ISA={:?} cannot be used: instruction set `{missing}` \
             is not available on this CPU; unset it to detect the best path",
            missing.name()
        )
    );
    assert!(matches!(
        isa_from_env(Some("sse9")),
        Err(KernelError::Env { reason, .. }) if matches!(*reason, KernelError::UnknownIsa { .. })
    ));
    assert_eq!(isa_from_env(Some(" Scalar ")), Ok(Isa::Scalar));
    assert_eq!(isa_from_env(None), Ok(Isa::detect()));
    assert_eq!(isa_from_env(Some("")), Ok(Isa::detect()));
}

#[test]
fn detection_is_consistent() {
    let all = Isa::all_available();
    assert_eq!(all[0], Isa::Scalar);
    assert!(all.contains(&Isa::detect()));
    for isa in all {
        assert_eq!(isa.name().parse::<Isa>(), Ok(isa));
    }
    if std::env::var_os("NNX_ISA").is_none() {
        assert_eq!(default_isa(), Ok(Isa::detect()));
    }
}

/// The allocating form writes straight into its fresh, uninitialized output (on the pool
/// or on one thread, streamed when large): the same bits as the `_into` form, for every
/// path, with and without a mask, and the same errors.
#[test]
fn allocating_form_matches_into_form() {
    let mut rng = Rng(4);
    let x = rng.vec(5 * 33, -1.0, 1.0);
    let spec = NormSpec::layer_norm(EPS);
    let mut out = vec![0.0; x.len()];
    norm_rows_into(&x, None, 33, &spec, &mut out).unwrap();
    assert_bitwise(&norm_rows(&x, None, 33, &spec).unwrap(), &out, "norm_rows");
    // Several blocks on the pool, rows longer than a block, an output large enough to be
    // streamed and advised onto huge pages; under Miri (which checks the unsafe assembly
    // of the output) only the first.
    let shapes: &[(usize, usize)] = if cfg!(miri) {
        &[(40, 1000)]
    } else {
        &[(40, 1000), (1000, 301), (3, 70_001), (1024, 2049)]
    };
    for &(rows, features) in shapes {
        let x = rng.vec(rows * features, -1.0, 1.0);
        let mask: Vec<bool> = (0..x.len()).map(|_| rng.coin()).collect();
        let scale = rng.vec(features, 0.5, 1.5);
        let spec = NormSpec {
            scale: Some(&scale),
            ..NormSpec::layer_norm(EPS)
        };
        for isa in Isa::all_available() {
            // Below the parallel threshold `Auto` runs as `Single`: once is enough for Miri.
            let threads: &[Threads] = if cfg!(miri) {
                &[Threads::Single]
            } else {
                &[Threads::Single, Threads::Auto]
            };
            for &threads in threads {
                for mask in [None, Some(&mask[..])] {
                    let mut want = vec![0.0; x.len()];
                    norm_rows_into_with(isa, threads, &x, mask, features, &spec, &mut want)
                        .unwrap();
                    let got = norm_rows_with(isa, threads, &x, mask, features, &spec).unwrap();
                    let what = format!("{isa} {threads:?} {rows}x{features}");
                    assert_bitwise(&got, &want, &what);
                }
            }
        }
    }
    let err = norm_rows_with(Isa::Scalar, Threads::Auto, &[1.0; 6], None, 4, &spec);
    assert_eq!(
        err,
        Err(KernelError::RaggedRows {
            len: 6,
            features: 4
        })
    );
}

/// Random shapes, magnitudes, offsets and masks: every path vs the f64 reference.
fn case() -> impl Strategy<Value = (usize, Vec<f32>, Option<Vec<bool>>, f32, NormKind, bool)> {
    (1usize..5, 1usize..300, -1e3f32..1e3, 0.01f32..100.0).prop_flat_map(
        |(rows, features, centre, spread)| {
            let len = rows * features;
            (
                Just(features),
                prop::collection::vec(centre - spread..centre + spread, len),
                prop::option::of(prop::collection::vec(prop::bool::weighted(0.7), len)),
                prop::sample::select(vec![0.0f32, 1e-6, 1e-5, 1e-3]),
                prop::sample::select(vec![NormKind::LayerNorm, NormKind::RmsNorm]),
                any::<bool>(),
            )
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    #[cfg_attr(miri, ignore = "proptest saves failing cases to files, which Miri's isolation forbids")]
    fn prop_paths_match_reference((features, x, mask, epsilon, kind, affine) in case()) {
        let scale: Vec<f32> = (0..features).map(|j| 0.5 + (j % 7) as f32 / 7.0).collect();
        let bias: Vec<f32> = (0..features).map(|j| (j % 5) as f32 - 2.0).collect();
        let spec = NormSpec {
            kind,
            epsilon,
            scale: affine.then_some(&scale[..]),
            bias: affine.then_some(&bias[..]),
        };
        let want = reference(&x, mask.as_deref(), features, &spec);
        for isa in Isa::all_available() {
            let got = run_offset(isa, &x, mask.as_deref(), features, &spec, features % 3);
            assert_close_to_ref(&got, &want, REF_TOL, &format!("{isa}"));
        }
    }
}
