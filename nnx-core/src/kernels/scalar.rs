//! Portable reference path. Sums use `LANES` independent accumulators so that LLVM can
//! vectorise the loops without reassociating floating-point additions, and so that
//! rounding error grows with `len / LANES` rather than `len`.

use super::row::{RowStats, first_mean, guarded, layer_stats, rms_stats};
use super::{NormKind, NormSpec, Out};

const LANES: usize = 16;

/// Normalises every `features`-long row of `x` into `out` (the row loop lives here so
/// that `norm_row` inlines into it).
pub(super) fn norm_rows(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
) {
    let rows = x.chunks_exact(features).zip(out.chunks_exact_mut(features));
    match mask {
        None => rows.for_each(|(xr, or)| norm_row(xr, None, spec, or)),
        Some(mask) => rows
            .zip(mask.chunks_exact(features))
            .for_each(|((xr, or), mr)| norm_row(xr, Some(mr), spec, or)),
    }
}

/// Normalises one row: statistics from one (RMSNorm) or two (LayerNorm) passes, then the
/// output pass.
#[inline]
fn norm_row(x: &[f32], mask: Option<&[bool]>, spec: &NormSpec, out: &mut [Out]) {
    let n = mask.map_or(x.len(), count_true);
    let stats = match spec.kind {
        NormKind::LayerNorm => {
            let shift = first_mean(lane_sum(x, mask, |v| v), n);
            let (sum_d, sum_d2) = centred_sums(x, mask, shift);
            layer_stats(shift, sum_d, sum_d2, n, spec.epsilon)
        }
        NormKind::RmsNorm => rms_stats(lane_sum(x, mask, |v| v * v), n, spec.epsilon),
    };
    let stats = guarded(stats, x, mask, spec.kind, spec.epsilon);
    apply(x, &stats, spec.scale, spec.bias, out);
}

pub(super) fn count_true(mask: &[bool]) -> usize {
    mask.iter().filter(|&&m| m).count()
}

/// `Σ term(x[i])` over the masked-in elements, with `LANES` accumulators.
#[inline(always)]
fn lane_sum(x: &[f32], mask: Option<&[bool]>, term: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    match mask {
        None => {
            let chunks = x.chunks_exact(LANES);
            let tail = chunks.remainder();
            for c in chunks {
                for (a, &v) in acc.iter_mut().zip(c) {
                    *a += term(v);
                }
            }
            for (a, &v) in acc.iter_mut().zip(tail) {
                *a += term(v);
            }
        }
        Some(mask) => {
            let chunks = x.chunks_exact(LANES).zip(mask.chunks_exact(LANES));
            for (c, m) in chunks {
                for ((a, &v), &keep) in acc.iter_mut().zip(c).zip(m) {
                    // A select, not a multiply by 0/1: masked-out NaN/inf must not leak in.
                    *a += if keep { term(v) } else { 0.0 };
                }
            }
            let done = x.len() - x.len() % LANES;
            for ((a, &v), &keep) in acc.iter_mut().zip(&x[done..]).zip(&mask[done..]) {
                *a += if keep { term(v) } else { 0.0 };
            }
        }
    }
    reduce(acc)
}

/// `(Σd, Σd²)` with `d = x - shift` over the masked-in elements.
fn centred_sums(x: &[f32], mask: Option<&[bool]>, shift: f32) -> (f32, f32) {
    let mut acc = [0.0f32; LANES];
    let mut acc2 = [0.0f32; LANES];
    let mut add = |lane: usize, v: f32, keep: bool| {
        let d = if keep { v - shift } else { 0.0 };
        acc[lane] += d;
        acc2[lane] += d * d;
    };
    match mask {
        None => x
            .iter()
            .enumerate()
            .for_each(|(i, &v)| add(i % LANES, v, true)),
        Some(mask) => x
            .iter()
            .zip(mask)
            .enumerate()
            .for_each(|(i, (&v, &keep))| add(i % LANES, v, keep)),
    }
    (reduce(acc), reduce(acc2))
}

/// Pairwise sum of the lanes (fixed order, so the result is deterministic).
fn reduce(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] += acc[i + width];
        }
        width /= 2;
    }
    acc[0]
}

/// `out[j] = ((x[j] - shift) - corr) * (inv_std [* scale[j]]) [+ bias[j]]`.
fn apply(x: &[f32], st: &RowStats, scale: Option<&[f32]>, bias: Option<&[f32]>, out: &mut [Out]) {
    let centre = |v: f32| v - st.shift - st.corr;
    let pairs = out.iter_mut().zip(x);
    match (scale, bias) {
        (None, None) => pairs.for_each(|(o, &v)| {
            o.write(centre(v) * st.inv_std);
        }),
        (Some(s), None) => pairs.zip(s).for_each(|((o, &v), &s)| {
            o.write(centre(v) * (st.inv_std * s));
        }),
        (None, Some(b)) => pairs.zip(b).for_each(|((o, &v), &b)| {
            o.write(centre(v) * st.inv_std + b);
        }),
        (Some(s), Some(b)) => pairs.zip(s).zip(b).for_each(|(((o, &v), &s), &b)| {
            o.write(centre(v) * (st.inv_std * s) + b);
        }),
    }
}
