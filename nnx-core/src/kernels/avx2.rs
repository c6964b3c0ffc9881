//! AVX2 + FMA path: 8 lanes, four accumulators per sum. Lane masks are `__m256` values
//! with all bits set in kept lanes; masked-out lanes are zeroed with an AND at load time
//! (which also drops NaN/inf there), so they never reach a sum.
//!
//! Row tails go through a small stack buffer instead of `vmaskmovps`, whose store form is
//! slow on several AMD cores. All raw-pointer work is in [`load`], [`store`] and
//! [`bool_lanes`], which only touch elements inside the slice they are given.

use std::arch::x86_64::*;

use super::row::{RowStats, layer_stats, rms_stats, shifted_pass};
use super::{NormKind, NormSpec};

const LANES: usize = 8;
/// Independent accumulators: hides the 4-cycle add latency and lowers rounding growth.
const UNROLL: usize = 4;

/// Normalises every `features`-long row of `x` into `out` (the row loop lives here so
/// that `norm_row` inlines into it).
#[target_feature(enable = "avx2,fma")]
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
#[target_feature(enable = "avx2,fma")]
#[inline]
fn norm_row(x: &[f32], mask: Option<&[bool]>, spec: &NormSpec, out: &mut [f32]) {
    let stats = match spec.kind {
        NormKind::LayerNorm => {
            // With nothing kept, `n = 0` and the statistics are NaN, as 0/0.
            let (shift, sum_d, sum_d2, n) =
                shifted_pass(x, mask, |shift| centred_sums(x, mask, shift))
                    .unwrap_or((0.0, 0.0, 0.0, 0));
            layer_stats(shift, sum_d, sum_d2, n, spec.epsilon)
        }
        NormKind::RmsNorm => {
            let (sum_sq, n) = fold(x, mask, |acc, v| _mm256_fmadd_ps(v, v, acc));
            rms_stats(sum_sq, n, spec.epsilon)
        }
    };
    apply(x, &stats, spec.scale, spec.bias, out);
}

/// Loads `x[..8]`; lanes past `x.len()` are zero.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn load(x: &[f32]) -> __m256 {
    if x.len() >= LANES {
        // SAFETY: `x` has at least 8 elements; loadu has no alignment requirement.
        unsafe { _mm256_loadu_ps(x.as_ptr()) }
    } else {
        let mut buf = [0.0f32; LANES];
        buf[..x.len()].copy_from_slice(x);
        // SAFETY: `buf` has exactly 8 elements.
        unsafe { _mm256_loadu_ps(buf.as_ptr()) }
    }
}

/// Stores the first `out.len().min(8)` lanes of `v` into `out`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn store(out: &mut [f32], v: __m256) {
    if out.len() >= LANES {
        // SAFETY: `out` has at least 8 elements; storeu has no alignment requirement.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) }
    } else {
        let mut buf = [0.0f32; LANES];
        // SAFETY: `buf` has exactly 8 elements.
        unsafe { _mm256_storeu_ps(buf.as_mut_ptr(), v) };
        let len = out.len();
        out.copy_from_slice(&buf[..len]);
    }
}

/// The lane mask of `m[..8]`: all bits set in lane i iff `m[i]` (lanes past `m.len()` clear).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn bool_lanes(m: &[bool]) -> __m256 {
    let mut buf = [0u8; LANES];
    let bytes = if m.len() >= LANES {
        m.as_ptr().cast::<u8>()
    } else {
        for (b, &keep) in buf.iter_mut().zip(m) {
            *b = u8::from(keep);
        }
        buf.as_ptr()
    };
    // SAFETY: `bytes` points to 8 readable bytes (`m` has at least 8 one-byte bools, or
    // `buf`); `_mm_loadl_epi64` reads exactly 8 bytes with no alignment requirement.
    let b = unsafe { _mm_loadl_epi64(bytes.cast::<__m128i>()) };
    let wide = _mm256_cvtepu8_epi32(b);
    _mm256_castsi256_ps(_mm256_cmpgt_epi32(wide, _mm256_setzero_si256()))
}

/// Lanes `0..len.min(8)`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tail_lanes(len: usize) -> __m256 {
    let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let len = _mm256_set1_epi32(len.min(LANES) as i32);
    _mm256_castsi256_ps(_mm256_cmpgt_epi32(len, idx))
}

/// Horizontal sum of the 8 lanes (fixed order).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// Loads a full block.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn load_block(x: &[f32; LANES]) -> __m256 {
    // SAFETY: the array has 8 elements; loadu has no alignment requirement.
    unsafe { _mm256_loadu_ps(x.as_ptr()) }
}

/// Stores a full block.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn store_block(out: &mut [f32; LANES], v: __m256) {
    // SAFETY: the array has 8 elements; storeu has no alignment requirement.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) }
}

/// The lane mask of a full block of bools.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn bool_block(m: &[bool; LANES]) -> __m256 {
    bool_lanes(m)
}

/// Horizontal sum of `step`-accumulated values: `step(acc, v)` where `v` holds the
/// block's values with masked-out and past-the-end lanes zeroed. Also returns the number
/// of masked-in elements, counted per lane alongside the sum rather than in a separate pass.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn fold(x: &[f32], mask: Option<&[bool]>, step: impl Fn(__m256, __m256) -> __m256) -> (f32, usize) {
    if mask.is_none() {
        let zero = _mm256_setzero_ps();
        let acc = fold_blocks(
            x,
            None,
            zero,
            |acc, v, _| step(acc, v),
            |a, b| _mm256_add_ps(a, b),
        );
        return (hsum(acc), x.len());
    }
    let (acc, count) = fold_blocks(
        x,
        mask,
        (_mm256_setzero_ps(), _mm256_setzero_si256()),
        |(acc, count), v, keep| (step(acc, v), count_kept(count, keep)),
        |(a, c), (b, d)| (_mm256_add_ps(a, b), _mm256_add_epi32(c, d)),
    );
    (hsum(acc), count_total(count))
}

/// Adds one to each lane of `count` that `keep` keeps (kept lanes are all ones, i.e. -1
/// as an integer, so subtracting counts them).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn count_kept(count: __m256i, keep: __m256) -> __m256i {
    _mm256_sub_epi32(count, _mm256_castps_si256(keep))
}

/// The sum of the lane counts of [`count_kept`].
#[target_feature(enable = "avx2,fma")]
#[inline]
fn count_total(count: __m256i) -> usize {
    let count = _mm_add_epi32(
        _mm256_castsi256_si128(count),
        _mm256_extracti128_si256::<1>(count),
    );
    let count = _mm_add_epi32(count, _mm_shuffle_epi32::<0b01_00_11_10>(count));
    let count = _mm_add_epi32(count, _mm_shuffle_epi32::<0b10_11_00_01>(count));
    // The lane counts add up to the row length at most; exact for rows below 2³² elements.
    _mm_cvtsi128_si32(count) as u32 as usize
}

/// `(Σd, Σd²)` with `d = x - shift` over masked-in lanes, and their number.
#[target_feature(enable = "avx2,fma")]
fn centred_sums(x: &[f32], mask: Option<&[bool]>, shift: f32) -> (f32, f32, usize) {
    let shift = _mm256_set1_ps(shift);
    let zero = _mm256_setzero_ps();
    let step = |(acc, acc2), v, keep| {
        let d = _mm256_and_ps(_mm256_sub_ps(v, shift), keep);
        (_mm256_add_ps(acc, d), _mm256_fmadd_ps(d, d, acc2))
    };
    let merge = |(a, a2), (b, b2)| (_mm256_add_ps(a, b), _mm256_add_ps(a2, b2));
    if mask.is_none() {
        let (sum_d, sum_d2) = fold_blocks(x, None, (zero, zero), step, merge);
        return (hsum(sum_d), hsum(sum_d2), x.len());
    }
    let ((sum_d, sum_d2), count) = fold_blocks(
        x,
        mask,
        ((zero, zero), _mm256_setzero_si256()),
        |(acc, count), v, keep| (step(acc, v, keep), count_kept(count, keep)),
        |(a, c), (b, d)| (merge(a, b), _mm256_add_epi32(c, d)),
    );
    (hsum(sum_d), hsum(sum_d2), count_total(count))
}

/// Runs `step(acc, values, lanes)` over 8-lane blocks, rotating over [`UNROLL`]
/// independent accumulators, and merges them pairwise at the end. `values` is zero
/// outside `lanes`. Full blocks are typed arrays (no bounds checks); only the final
/// partial block goes through the stack buffer.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn fold_blocks<S: Copy>(
    x: &[f32],
    mask: Option<&[bool]>,
    zero: S,
    step: impl Fn(S, __m256, __m256) -> S,
    merge: impl Fn(S, S) -> S,
) -> S {
    let mut acc = [zero; UNROLL];
    let (blocks, tail) = x.as_chunks::<LANES>();
    let all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    let tail_keep = match mask {
        None => {
            let groups = blocks.chunks_exact(UNROLL);
            let rest = groups.remainder();
            for group in groups {
                for (a, b) in acc.iter_mut().zip(group) {
                    *a = step(*a, load_block(b), all);
                }
            }
            for b in rest {
                acc[0] = step(acc[0], load_block(b), all);
            }
            tail_lanes(tail.len())
        }
        Some(m) => {
            let (mblocks, mtail) = m.as_chunks::<LANES>();
            let groups = blocks
                .chunks_exact(UNROLL)
                .zip(mblocks.chunks_exact(UNROLL));
            let done = blocks.len() - blocks.len() % UNROLL;
            for (group, mgroup) in groups {
                for ((a, b), mb) in acc.iter_mut().zip(group).zip(mgroup) {
                    let keep = bool_block(mb);
                    *a = step(*a, _mm256_and_ps(load_block(b), keep), keep);
                }
            }
            for (b, mb) in blocks[done..].iter().zip(&mblocks[done..]) {
                let keep = bool_block(mb);
                acc[0] = step(acc[0], _mm256_and_ps(load_block(b), keep), keep);
            }
            bool_lanes(mtail)
        }
    };
    if !tail.is_empty() {
        // `load` zero-fills past the end; the AND drops masked-out lanes.
        acc[0] = step(acc[0], _mm256_and_ps(load(tail), tail_keep), tail_keep);
    }
    merge(merge(acc[0], acc[1]), merge(acc[2], acc[3]))
}

/// `out[j] = ((x[j] - shift) - corr) * (inv_std [* scale[j]]) [+ bias[j]]`.
#[target_feature(enable = "avx2,fma")]
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
#[target_feature(enable = "avx2,fma")]
fn apply_with<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    st: &RowStats,
    scale: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let (shift, corr) = (_mm256_set1_ps(st.shift), _mm256_set1_ps(st.corr));
    let inv = _mm256_set1_ps(st.inv_std);
    let norm = |v, s, b| {
        let mul = if SCALE { _mm256_mul_ps(inv, s) } else { inv };
        let y = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(v, shift), corr), mul);
        if BIAS { _mm256_add_ps(y, b) } else { y }
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
        let s = if SCALE { load(stail) } else { inv };
        let b = if BIAS { load(btail) } else { inv };
        store(ot, norm(load(xt), s, b));
    }
}
