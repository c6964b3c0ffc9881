//! aarch64 Advanced SIMD path: 4 lanes, four accumulators per sum; structurally the same
//! as the AVX2 path. Lane masks are `uint32x4_t` with all bits set in kept lanes;
//! masked-out lanes are zeroed with an AND at load time so they never reach a sum.
//!
//! Not exercised by this crate's CI (x86_64 only); kept deliberately plain. All
//! raw-pointer work is in [`load`] and [`store`], which only touch elements inside the
//! slice they are given.

use std::arch::aarch64::*;

use super::row::{RowStats, first_mean, guarded, layer_stats, rms_stats};
use super::scalar::count_true;
use super::{NormKind, NormSpec};

const LANES: usize = 4;
/// Independent accumulators: hides the add latency and lowers rounding growth.
const UNROLL: usize = 4;

/// Normalises every `features`-long row of `x` into `out` (the row loop lives here so
/// that `norm_row` inlines into it).
#[target_feature(enable = "neon")]
pub(super) fn norm_rows(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [f32],
) {
    let rows = x.chunks_exact(features).zip(out.chunks_exact_mut(features));
    match mask {
        None => rows.for_each(|(xr, or)| norm_row(xr, None, spec, or)),
        Some(mask) => rows
            .zip(mask.chunks_exact(features))
            .for_each(|((xr, or), mr)| norm_row(xr, Some(mr), spec, or)),
    }
}

/// Normalises one row (see `scalar::norm_row` for the structure).
#[target_feature(enable = "neon")]
#[inline]
fn norm_row(x: &[f32], mask: Option<&[bool]>, spec: &NormSpec, out: &mut [f32]) {
    let n = mask.map_or(x.len(), count_true);
    let stats = match spec.kind {
        NormKind::LayerNorm => {
            let sum = fold(x, mask, |acc, v| vaddq_f32(acc, v));
            let shift = first_mean(sum, n);
            let (sum_d, sum_d2) = centred_sums(x, mask, shift);
            layer_stats(shift, sum_d, sum_d2, n, spec.epsilon)
        }
        NormKind::RmsNorm => {
            let sum_sq = fold(x, mask, |acc, v| vfmaq_f32(acc, v, v));
            rms_stats(sum_sq, n, spec.epsilon)
        }
    };
    let stats = guarded(stats, x, mask, spec.kind, spec.epsilon);
    apply(x, &stats, spec.scale, spec.bias, out);
}

/// Loads `x[..4]`; lanes past `x.len()` are zero.
#[target_feature(enable = "neon")]
#[inline]
fn load(x: &[f32]) -> float32x4_t {
    if x.len() >= LANES {
        // SAFETY: `x` has at least 4 elements; vld1q_f32 needs only f32 alignment.
        unsafe { vld1q_f32(x.as_ptr()) }
    } else {
        let mut buf = [0.0f32; LANES];
        buf[..x.len()].copy_from_slice(x);
        // SAFETY: `buf` has exactly 4 elements.
        unsafe { vld1q_f32(buf.as_ptr()) }
    }
}

/// Stores the first `out.len().min(4)` lanes of `v` into `out`.
#[target_feature(enable = "neon")]
#[inline]
fn store(out: &mut [f32], v: float32x4_t) {
    if out.len() >= LANES {
        // SAFETY: `out` has at least 4 elements; vst1q_f32 needs only f32 alignment.
        unsafe { vst1q_f32(out.as_mut_ptr(), v) }
    } else {
        let mut buf = [0.0f32; LANES];
        // SAFETY: `buf` has exactly 4 elements.
        unsafe { vst1q_f32(buf.as_mut_ptr(), v) };
        let len = out.len();
        out.copy_from_slice(&buf[..len]);
    }
}

/// All bits set in lane i iff `keep(i)`.
#[target_feature(enable = "neon")]
#[inline]
fn lanes_where(keep: impl Fn(usize) -> bool) -> uint32x4_t {
    let bits = [0, 1, 2, 3].map(|i| if keep(i) { u32::MAX } else { 0 });
    // SAFETY: `bits` has exactly 4 elements.
    unsafe { vld1q_u32(bits.as_ptr()) }
}

/// Zeroes the lanes of `v` not selected by `keep`.
#[target_feature(enable = "neon")]
#[inline]
fn and(v: float32x4_t, keep: uint32x4_t) -> float32x4_t {
    vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), keep))
}

/// Horizontal sum of `step`-accumulated values: `step(acc, v)` where `v` holds the
/// block's values with masked-out and past-the-end lanes zeroed.
#[target_feature(enable = "neon")]
#[inline]
fn fold(
    x: &[f32],
    mask: Option<&[bool]>,
    step: impl Fn(float32x4_t, float32x4_t) -> float32x4_t,
) -> f32 {
    let zero = vdupq_n_f32(0.0);
    let acc = fold_blocks(
        x,
        mask,
        zero,
        |acc, v, _| step(acc, v),
        |a, b| vaddq_f32(a, b),
    );
    vaddvq_f32(acc)
}

/// `(Σd, Σd²)` with `d = x - shift` over masked-in lanes.
#[target_feature(enable = "neon")]
fn centred_sums(x: &[f32], mask: Option<&[bool]>, shift: f32) -> (f32, f32) {
    let shift = vdupq_n_f32(shift);
    let zero = vdupq_n_f32(0.0);
    let (sum_d, sum_d2) = fold_blocks(
        x,
        mask,
        (zero, zero),
        |(acc, acc2), v, keep| {
            let d = and(vsubq_f32(v, shift), keep);
            (vaddq_f32(acc, d), vfmaq_f32(acc2, d, d))
        },
        |(a, a2), (b, b2)| (vaddq_f32(a, b), vaddq_f32(a2, b2)),
    );
    (vaddvq_f32(sum_d), vaddvq_f32(sum_d2))
}

/// Runs `step(acc, values, lanes)` over 4-lane blocks, with [`UNROLL`] independent
/// accumulators in the main loop, and merges them pairwise at the end. `values` is zero
/// outside `lanes`.
#[target_feature(enable = "neon")]
#[inline]
fn fold_blocks<S: Copy>(
    x: &[f32],
    mask: Option<&[bool]>,
    zero: S,
    step: impl Fn(S, float32x4_t, uint32x4_t) -> S,
    merge: impl Fn(S, S) -> S,
) -> S {
    let block = |start: usize, end: usize| {
        let keep = match mask {
            None => lanes_where(|i| start + i < end),
            Some(m) => lanes_where(|i| start + i < end && m[start + i]),
        };
        (and(load(&x[start..end]), keep), keep)
    };
    let mut acc = [zero; UNROLL];
    let body = x.len() - x.len() % (LANES * UNROLL);
    let mut i = 0;
    while i < body {
        for (u, a) in acc.iter_mut().enumerate() {
            let start = i + u * LANES;
            let (v, keep) = block(start, start + LANES);
            *a = step(*a, v, keep);
        }
        i += LANES * UNROLL;
    }
    while i < x.len() {
        let end = (i + LANES).min(x.len());
        let (v, keep) = block(i, end);
        acc[0] = step(acc[0], v, keep);
        i = end;
    }
    merge(merge(acc[0], acc[1]), merge(acc[2], acc[3]))
}

/// `out[j] = ((x[j] - shift) - corr) * (inv_std [* scale[j]]) [+ bias[j]]`.
#[target_feature(enable = "neon")]
fn apply(x: &[f32], st: &RowStats, scale: Option<&[f32]>, bias: Option<&[f32]>, out: &mut [f32]) {
    let (shift, corr) = (vdupq_n_f32(st.shift), vdupq_n_f32(st.corr));
    let inv = vdupq_n_f32(st.inv_std);
    let centre = |v| vsubq_f32(vsubq_f32(v, shift), corr);
    match (scale, bias) {
        (None, None) => map_blocks(x, out, |v, _| vmulq_f32(centre(v), inv)),
        (Some(s), None) => map_blocks(x, out, |v, j| {
            vmulq_f32(centre(v), vmulq_f32(inv, load(&s[j..])))
        }),
        (None, Some(b)) => map_blocks(x, out, |v, j| {
            vaddq_f32(vmulq_f32(centre(v), inv), load(&b[j..]))
        }),
        (Some(s), Some(b)) => map_blocks(x, out, |v, j| {
            let y = vmulq_f32(centre(v), vmulq_f32(inv, load(&s[j..])));
            vaddq_f32(y, load(&b[j..]))
        }),
    }
}

/// `out[block] = f(x[block], block start)` for every 4-lane block.
#[target_feature(enable = "neon")]
#[inline]
fn map_blocks(x: &[f32], out: &mut [f32], f: impl Fn(float32x4_t, usize) -> float32x4_t) {
    let mut i = 0;
    while i < x.len() {
        let end = (i + LANES).min(x.len());
        let y = f(load(&x[i..end]), i);
        store(&mut out[i..end], y);
        i = end;
    }
}
