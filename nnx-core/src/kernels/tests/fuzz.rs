//! A differential fuzz of the paths: random shapes, placements, masks, options, threads
//! and extreme values, every available path against the scalar one.
//!
//! What must hold on every case: NaN and ±inf in the same places on every path, finite
//! values within a tolerance set by the row's conditioning, `Threads::Auto` bit for bit
//! equal to `Threads::Single`, and nothing written outside `out` (guard values around
//! it). The cases come from a seed: `NNX_FUZZ_SEED=<u64>` changes the run (default: a
//! fixed seed, so CI is repeatable), `NNX_FUZZ_CASES=<n>` its length, and a failing case
//! prints the one-line command that replays it alone, with the failing row as code.

use super::{Rng, reference};
use crate::kernels::{Isa, NormKind, NormSpec, Threads, norm_rows_into_with};

/// Values injected into rows: beyond the squares' range, near `f32::MAX`, subnormal,
/// and the IEEE specials.
const EXTREMES: [f32; 12] = [
    1e19,
    -1e19,
    1e36,
    -1e36,
    3e38,
    -3e38,
    1e-42,
    -3e-40,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
];

/// Written around `out` and checked after every call.
const GUARD: f32 = -1234.5;

/// One generated case (everything but the data, which `Rng(seed)` regenerates).
#[derive(Debug)]
struct Case {
    seed: u64,
    rows: usize,
    features: usize,
    kind: NormKind,
    epsilon: f32,
    scale: bool,
    bias: bool,
    masked: bool,
    x_at: usize,
    out_at: usize,
}

/// Features: mostly short rows (every unrolled width and its neighbours), sometimes one
/// or a few chunks, rarely up to 65536.
fn features(rng: &mut Rng) -> usize {
    let pick = rng.next_u64() % 100;
    let top = match pick {
        0..=59 => 300,
        60..=89 => 3000,
        _ => 65536,
    };
    1 + (rng.next_u64() % top as u64) as usize
}

impl Case {
    fn new(seed: u64) -> Case {
        let mut rng = Rng(seed);
        let features = features(&mut rng);
        // Mostly a few rows; one case in 25 large enough for streamed outputs (2^21+).
        let rows = if rng.next_u64().is_multiple_of(25) {
            (1 << 21) / features + 1 + (rng.next_u64() % 3) as usize
        } else {
            (rng.next_u64() % (40_000 / features as u64 + 2).min(41)) as usize
        };
        Case {
            seed,
            rows,
            features,
            kind: if rng.coin() {
                NormKind::LayerNorm
            } else {
                NormKind::RmsNorm
            },
            epsilon: [1e-5, 1e-6, 0.0, 1.0][(rng.next_u64() % 4) as usize],
            scale: rng.coin(),
            bias: rng.coin(),
            masked: rng.coin(),
            x_at: (rng.next_u64() % 17) as usize,
            out_at: (rng.next_u64() % 17) as usize,
        }
    }

    /// The data: `(x, mask, scale, bias)`, drawn after the options from the same seed.
    fn data(&self) -> (Vec<f32>, Vec<bool>, Vec<f32>, Vec<f32>) {
        let mut rng = Rng(self.seed ^ 0xD1B5_4A32_D192_ED03);
        let len = self.rows * self.features;
        let mut x = Vec::with_capacity(len);
        for _ in 0..self.rows {
            x.extend(row(self.features, &mut rng));
        }
        let density = [0.0, 0.1, 0.5, 0.9, 1.0][(rng.next_u64() % 5) as usize];
        let mask = (0..len)
            .map(|_| rng.uniform(0.0, 1.0) < density || density == 1.0)
            .collect();
        let scale = rng.vec(self.features, -1.5, 1.5);
        let bias = rng.vec(self.features, -1.0, 1.0);
        (x, mask, scale, bias)
    }
}

/// One row: ordinary values at a random scale and offset, then one of a few extreme
/// patterns (a row in eight is left ordinary).
fn row(features: usize, rng: &mut Rng) -> Vec<f32> {
    let scale = [1e-3, 1.0, 1e4][(rng.next_u64() % 3) as usize];
    let offset = [0.0, 0.0, 1e4, -3e2][(rng.next_u64() % 4) as usize];
    let mut r: Vec<f32> = (0..features)
        .map(|_| offset + scale * rng.uniform(-1.0, 1.0))
        .collect();
    let extreme = |rng: &mut Rng| EXTREMES[(rng.next_u64() % EXTREMES.len() as u64) as usize];
    match rng.next_u64() % 8 {
        // A few extreme elements anywhere.
        0..=2 => {
            for _ in 0..=rng.next_u64() % 3 {
                let at = (rng.next_u64() % features as u64) as usize;
                r[at] = extreme(rng);
            }
        }
        // Alternating ± one extreme magnitude (sums and squares overflow).
        3 => {
            let v = extreme(rng).abs();
            r.iter_mut()
                .enumerate()
                .for_each(|(j, x)| *x = if j % 2 == 0 { v } else { -v });
        }
        // Alternating 0 and one extreme (a chunk's sum overflows, not only its squares).
        4 => {
            let v = extreme(rng);
            r.iter_mut()
                .enumerate()
                .for_each(|(j, x)| *x = if j % 2 == 0 { 0.0 } else { v });
        }
        // Subnormal spread (the variance underflows).
        5 => r
            .iter_mut()
            .for_each(|x| *x = rng.uniform(-1.0, 1.0) * 1e-40),
        // A constant row.
        6 => r.fill(offset + scale),
        _ => {}
    }
    r
}

/// How far two paths may differ on a row's finite outputs: the `f32` rounding of
/// `x - mean` at the row's magnitude, and of the statistics over `n` kept elements.
struct RowTolerance {
    mean: f64,
    inv: f64,
    big: f64,
    n: f64,
}

impl RowTolerance {
    fn new(x: &[f32], mask: Option<&[bool]>, spec: &NormSpec) -> Self {
        let kept = || {
            x.iter()
                .enumerate()
                .filter(|&(i, _)| mask.is_none_or(|m| m[i]))
                .map(|(_, &v)| f64::from(v))
        };
        let n = kept().count() as f64;
        let mean = match spec.kind {
            NormKind::LayerNorm => kept().sum::<f64>() / n,
            NormKind::RmsNorm => 0.0,
        };
        let var = kept().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        RowTolerance {
            mean,
            inv: 1.0 / (var + f64::from(spec.epsilon)).sqrt(),
            big: kept().fold(0.0f64, |m, v| m.max(v.abs())),
            n,
        }
    }

    fn at(&self, x: f32, spec: &NormSpec, j: usize) -> f64 {
        let s = spec.scale.map_or(1.0, |s| f64::from(s[j]).abs());
        let b = spec.bias.map_or(0.0, |b| f64::from(b[j]).abs());
        let spread = (f64::from(x).abs() + self.mean.abs() + self.big) * self.inv * s;
        let tol = 2e-5 * (1.0 + self.n.sqrt() / 16.0) * (spread + b + 1.0);
        // An infinite kept element (0 · inf in `spread`) leaves nothing to round.
        if tol.is_nan() { 0.0 } else { tol }
    }
}

/// Whether two outputs agree: both NaN, the same infinity, or finite and within `tol`
/// (a finite value past `f32::MAX / 2` may meet the infinity it rounds towards).
fn agree(a: f32, b: f32, tol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        let near_max = |v: f32| v.is_infinite() || v.abs() > f32::MAX / 2.0;
        return a == b || (near_max(a) && near_max(b) && a.signum() == b.signum());
    }
    (f64::from(a) - f64::from(b)).abs() <= tol
}

/// Runs one path on the case's placements, checking the guards around `out`.
fn run(
    isa: Isa,
    threads: Threads,
    case: &Case,
    x: &[f32],
    mask: Option<&[bool]>,
    spec: &NormSpec,
) -> Vec<f32> {
    let mut xbuf = vec![f32::NAN; x.len() + case.x_at];
    xbuf[case.x_at..].copy_from_slice(x);
    let mut obuf = vec![GUARD; x.len() + case.out_at + 7];
    let out = &mut obuf[case.out_at..case.out_at + x.len()];
    norm_rows_into_with(
        isa,
        threads,
        &xbuf[case.x_at..],
        mask,
        case.features,
        spec,
        out,
    )
    .unwrap_or_else(|e| panic!("{case:?}: {isa}: {e}"));
    let result = out.to_vec();
    let outside = obuf[..case.out_at]
        .iter()
        .chain(&obuf[case.out_at + x.len()..]);
    assert!(
        outside.clone().all(|&v| v == GUARD),
        "{isa} wrote outside `out`: {case:?}"
    );
    result
}

/// The failing row as a few lines of code, and the command that replays the case.
fn report(
    case: &Case,
    isa: Isa,
    (row, j): (usize, usize),
    x: &[f32],
    mask: Option<&[bool]>,
    (got, want): (f32, f32),
) -> String {
    let span = row * case.features..(row + 1) * case.features;
    let code = if case.features <= 64 {
        format!(
            "let x: [f32; {f}] = {:?};\nlet mask: Option<[bool; {f}]> = {:?};\n",
            &x[span.clone()],
            mask.map(|m| &m[span]),
            f = case.features
        )
    } else {
        format!(
            "// the row has {} features; replay the case to see it\n",
            case.features
        )
    };
    format!(
        "{isa} differs from scalar at row {row}, feature {j}: {got:?} vs {want:?}\n\
         {case:?}\n{code}replay: NNX_FUZZ_CASE={} cargo test -p nnx-core --lib kernels::tests::fuzz",
        case.seed
    )
}

/// Checks one case on every available path; `Err` is the report of the first failure.
fn check(case: &Case) -> Result<(), String> {
    let (x, mask, scale, bias) = case.data();
    let spec = NormSpec {
        kind: case.kind,
        epsilon: case.epsilon,
        scale: case.scale.then_some(&scale[..]),
        bias: case.bias.then_some(&bias[..]),
    };
    let mask = case.masked.then_some(&mask[..]);
    let scalar = run(Isa::Scalar, Threads::Single, case, &x, mask, &spec);
    check_against_f64(case, &x, mask, &spec, &scalar)?;
    for isa in Isa::all_available() {
        let got = run(isa, Threads::Single, case, &x, mask, &spec);
        let rows = got.chunks(case.features).zip(scalar.chunks(case.features));
        for (row, (got_row, want_row)) in rows.enumerate() {
            if got_row
                .iter()
                .zip(want_row)
                .all(|(g, w)| g.to_bits() == w.to_bits())
            {
                continue;
            }
            let span = row * case.features..(row + 1) * case.features;
            let tol = RowTolerance::new(&x[span.clone()], mask.map(|m| &m[span.clone()]), &spec);
            for (j, (&g, &w)) in got_row.iter().zip(want_row).enumerate() {
                if !agree(g, w, tol.at(x[span.start + j], &spec, j)) {
                    return Err(report(case, isa, (row, j), &x, mask, (g, w)));
                }
            }
        }
        let auto = run(isa, Threads::Auto, case, &x, mask, &spec);
        let same = |(a, b): (&f32, &f32)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        if !auto.iter().zip(&got).all(same) {
            return Err(format!(
                "{isa}: Threads::Auto differs from Single: {case:?}"
            ));
        }
    }
    Ok(())
}

/// The scalar path against the `f64` reference, wherever `f32` can form the answer:
/// `1/std` and `x - mean` within its range, and the output itself.
fn check_against_f64(
    case: &Case,
    x: &[f32],
    mask: Option<&[bool]>,
    spec: &NormSpec,
    got: &[f32],
) -> Result<(), String> {
    let f = case.features;
    for (row, got_row) in got.chunks(f).enumerate() {
        let span = row * f..(row + 1) * f;
        let m = mask.map(|m| &m[span.clone()]);
        let want = reference(&x[span.clone()], m, f, spec);
        let tol = RowTolerance::new(&x[span.clone()], m, spec);
        let max = f64::from(f32::MAX);
        if tol.inv > max {
            continue;
        }
        for (j, (&g, &w)) in got_row.iter().zip(&want).enumerate() {
            let xj = f64::from(x[span.start + j]);
            let formable = (xj - tol.mean).abs() < max && w.abs() < max / 2.0;
            let ok = if w.is_nan() {
                g.is_nan()
            } else if !formable {
                true
            } else {
                (f64::from(g) - w).abs() <= tol.at(x[span.start + j], spec, j)
            };
            if !ok {
                return Err(report(case, Isa::Scalar, (row, j), x, mask, (g, w as f32))
                    .replace("differs from scalar", "differs from f64"));
            }
        }
    }
    Ok(())
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "thousands of cases; Miri runs the scalar path in the smaller tests"
)]
fn every_path_agrees_with_scalar_on_random_extreme_cases() {
    if let Some(seed) = env_u64("NNX_FUZZ_CASE") {
        return check(&Case::new(seed)).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut seeds = Rng(env_u64("NNX_FUZZ_SEED").unwrap_or(0x6E6E_785F_6675_7A7A));
    let cases = env_u64("NNX_FUZZ_CASES").unwrap_or(2000);
    let failures: Vec<String> = (0..cases)
        .map(|_| Case::new(seeds.next_u64()))
        .filter_map(|case| check(&case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed; the first three:\n\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n\n")
    );
}
