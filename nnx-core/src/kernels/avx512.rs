//! AVX-512 (F + BW + VL) path: 16 lanes, four accumulators per sum, and per-lane
//! `__mmask16` masks that serve both for row tails and for the bool mask, so the
//! masked-out lanes are zero at load time and never reach a sum.
//!
//! All raw-pointer work is in [`load`], [`store`] and [`bool_lanes`], which only touch
//! lanes inside the slice they are given; everything else is safe code.

use std::arch::x86_64::*;

use super::row::{RowStats, first_mean, layer_stats, rms_stats};
use super::{NormKind, NormSpec};

const LANES: usize = 16;
/// Independent accumulators: hides the 4-cycle add latency and lowers rounding growth.
const UNROLL: usize = 4;
const ALL: __mmask16 = 0xFFFF;

/// Normalises one row (see `scalar::norm_row` for the structure).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) fn norm_row(x: &[f32], mask: Option<&[bool]>, spec: &NormSpec, out: &mut [f32]) {
    let stats = match spec.kind {
        NormKind::LayerNorm => {
            let (sum, n) = fold(x, mask, |acc, v| _mm512_add_ps(acc, v));
            let shift = first_mean(sum, n);
            let (sum_d, sum_d2) = centred_sums(x, mask, shift);
            layer_stats(shift, sum_d, sum_d2, n, spec.epsilon)
        }
        NormKind::RmsNorm => {
            let (sum_sq, n) = fold(x, mask, |acc, v| _mm512_fmadd_ps(v, v, acc));
            rms_stats(sum_sq, n, spec.epsilon)
        }
    };
    apply(x, &stats, spec.scale, spec.bias, out);
}

/// Lanes `0..len.min(16)`.
#[inline]
fn tail_mask(len: usize) -> __mmask16 {
    if len >= LANES {
        ALL
    } else {
        ((1u32 << len) - 1) as __mmask16
    }
}

/// Loads the lanes of `x[..16]` selected by `k`; other lanes are zero.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn load(x: &[f32], k: __mmask16) -> __m512 {
    let k = k & tail_mask(x.len());
    // SAFETY: `k` only selects lanes below `x.len()`; masked-off lanes are not accessed
    // (AVX-512 masked loads suppress faults), and loadu has no alignment requirement.
    unsafe { _mm512_maskz_loadu_ps(k, x.as_ptr()) }
}

/// Stores the lanes of `v` selected by `k` into `out[..16]`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn store(out: &mut [f32], k: __mmask16, v: __m512) {
    let k = k & tail_mask(out.len());
    // SAFETY: `k` only selects lanes below `out.len()`; masked-off lanes are not written.
    unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr(), k, v) }
}

/// The lane mask of `m[..16]`: bit i set iff `m[i]` (bits past `m.len()` clear).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn bool_lanes(m: &[bool]) -> __mmask16 {
    let k = tail_mask(m.len());
    // SAFETY: `bool` is one byte holding 0 or 1; `k` only selects bytes below `m.len()`.
    let bytes = unsafe { _mm_maskz_loadu_epi8(k, m.as_ptr().cast::<i8>()) };
    _mm_test_epi8_mask(bytes, bytes)
}

/// Loads a full block.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn load_block(x: &[f32; LANES]) -> __m512 {
    // SAFETY: the array has 16 elements; loadu has no alignment requirement.
    unsafe { _mm512_loadu_ps(x.as_ptr()) }
}

/// Stores a full block.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn store_block(out: &mut [f32; LANES], v: __m512) {
    // SAFETY: the array has 16 elements; storeu has no alignment requirement.
    unsafe { _mm512_storeu_ps(out.as_mut_ptr(), v) }
}

/// The lane mask of a full block of bools.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn bool_block(m: &[bool; LANES]) -> __mmask16 {
    // SAFETY: the array is 16 one-byte bools (0 or 1); loadu has no alignment requirement.
    let bytes = unsafe { _mm_loadu_si128(m.as_ptr().cast::<__m128i>()) };
    _mm_test_epi8_mask(bytes, bytes)
}

/// Horizontal sum of `step`-accumulated, masked-in lanes: `step(acc, v)` where `v` holds
/// the block's values with masked-out lanes zeroed. Also returns the number of masked-in
/// elements, counted per lane alongside the sum rather than in a separate pass.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn fold(x: &[f32], mask: Option<&[bool]>, step: impl Fn(__m512, __m512) -> __m512) -> (f32, usize) {
    if mask.is_none() {
        let zero = _mm512_setzero_ps();
        let acc = fold_blocks(
            x,
            None,
            zero,
            |acc, v, _| step(acc, v),
            |a, b| _mm512_add_ps(a, b),
        );
        return (_mm512_reduce_add_ps(acc), x.len());
    }
    let one = _mm512_set1_epi32(1);
    let (acc, count) = fold_blocks(
        x,
        mask,
        (_mm512_setzero_ps(), _mm512_setzero_si512()),
        |(acc, count), v, k| (step(acc, v), _mm512_mask_add_epi32(count, k, count, one)),
        |(a, c), (b, d)| (_mm512_add_ps(a, b), _mm512_add_epi32(c, d)),
    );
    // The lane counts add up to the row length at most; exact for rows below 2³² elements.
    (
        _mm512_reduce_add_ps(acc),
        _mm512_reduce_add_epi32(count) as u32 as usize,
    )
}

/// `(Σd, Σd²)` with `d = x - shift` over masked-in lanes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn centred_sums(x: &[f32], mask: Option<&[bool]>, shift: f32) -> (f32, f32) {
    let shift = _mm512_set1_ps(shift);
    let zero = _mm512_setzero_ps();
    let (sum_d, sum_d2) = fold_blocks(
        x,
        mask,
        (zero, zero),
        |(acc, acc2), v, k| {
            let d = _mm512_maskz_sub_ps(k, v, shift);
            (_mm512_add_ps(acc, d), _mm512_fmadd_ps(d, d, acc2))
        },
        |(a, a2), (b, b2)| (_mm512_add_ps(a, b), _mm512_add_ps(a2, b2)),
    );
    (_mm512_reduce_add_ps(sum_d), _mm512_reduce_add_ps(sum_d2))
}

/// Runs `step(acc, values, lanes)` over 16-lane blocks, rotating over [`UNROLL`]
/// independent accumulators, and merges them pairwise at the end. `values` is zero
/// outside `lanes`. Full blocks are typed arrays (no bounds checks, no tail masks); only
/// the final partial block uses a masked load.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn fold_blocks<S: Copy>(
    x: &[f32],
    mask: Option<&[bool]>,
    zero: S,
    step: impl Fn(S, __m512, __mmask16) -> S,
    merge: impl Fn(S, S) -> S,
) -> S {
    let mut acc = [zero; UNROLL];
    let (blocks, tail) = x.as_chunks::<LANES>();
    let full = x.len() - tail.len();
    let tail_keep = match mask {
        None => {
            let groups = blocks.chunks_exact(UNROLL);
            let rest = groups.remainder();
            for group in groups {
                for (a, b) in acc.iter_mut().zip(group) {
                    *a = step(*a, load_block(b), ALL);
                }
            }
            for b in rest {
                acc[0] = step(acc[0], load_block(b), ALL);
            }
            tail_mask(tail.len())
        }
        Some(m) => {
            let (mblocks, mtail) = m.as_chunks::<LANES>();
            let groups = blocks
                .chunks_exact(UNROLL)
                .zip(mblocks.chunks_exact(UNROLL));
            let done = blocks.len() - blocks.len() % UNROLL;
            for (group, mgroup) in groups {
                for ((a, b), mb) in acc.iter_mut().zip(group).zip(mgroup) {
                    let k = bool_block(mb);
                    *a = step(*a, _mm512_maskz_mov_ps(k, load_block(b)), k);
                }
            }
            for (b, mb) in blocks[done..].iter().zip(&mblocks[done..]) {
                let k = bool_block(mb);
                acc[0] = step(acc[0], _mm512_maskz_mov_ps(k, load_block(b)), k);
            }
            bool_lanes(mtail)
        }
    };
    if full < x.len() {
        acc[0] = step(acc[0], load(tail, tail_keep), tail_keep);
    }
    merge(merge(acc[0], acc[1]), merge(acc[2], acc[3]))
}

/// `out[j] = ((x[j] - shift) - corr) * (inv_std [* scale[j]]) [+ bias[j]]`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn apply(x: &[f32], st: &RowStats, scale: Option<&[f32]>, bias: Option<&[f32]>, out: &mut [f32]) {
    match (scale, bias) {
        (None, None) => apply_with::<false, false>(x, st, &[], &[], out),
        (Some(s), None) => apply_with::<true, false>(x, st, s, &[], out),
        (None, Some(b)) => apply_with::<false, true>(x, st, &[], b, out),
        (Some(s), Some(b)) => apply_with::<true, true>(x, st, s, b, out),
    }
}

/// [`apply`] specialised on which affine parameters are present (absent ones are empty
/// slices and never read). Without a bias nothing is added: `y + 0` would turn -0 into +0.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn apply_with<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    st: &RowStats,
    scale: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let (shift, corr) = (_mm512_set1_ps(st.shift), _mm512_set1_ps(st.corr));
    let inv = _mm512_set1_ps(st.inv_std);
    let norm = |v, s, b| {
        let mul = if SCALE { _mm512_mul_ps(inv, s) } else { inv };
        let y = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(v, shift), corr), mul);
        if BIAS { _mm512_add_ps(y, b) } else { y }
    };
    let (xb, xt) = x.as_chunks::<LANES>();
    let (ob, ot) = out.as_chunks_mut::<LANES>();
    let (sb, stail) = scale.as_chunks::<LANES>();
    let (bb, btail) = bias.as_chunks::<LANES>();
    for (i, (xv, o)) in xb.iter().zip(ob).enumerate() {
        let s = if SCALE { load_block(&sb[i]) } else { inv };
        let b = if BIAS { load_block(&bb[i]) } else { inv };
        store_block(o, norm(load_block(xv), s, b));
    }
    if !xt.is_empty() {
        let k = tail_mask(xt.len());
        let s = if SCALE { load(stail, k) } else { inv };
        let b = if BIAS { load(btail, k) } else { inv };
        store(ot, k, norm(load(xt, k), s, b));
    }
}
