//! AVX-512 (F + BW + VL) path: 16 lanes and per-lane `__mmask16` masks that serve both
//! for row tails and for the bool mask, so masked-out lanes are zero at load time and
//! never reach a sum.
//!
//! The whole row loop runs inside one `#[target_feature]` function ([`norm_rows`]), so
//! the ISA is dispatched once per block of rows and every helper inlines into it. Two
//! schemes, chosen by the row length alone (so a row's result never depends on which
//! other rows share its block, which keeps `Threads::Auto` bitwise equal to `Single`):
//!
//! - **Short rows** (`features <= SHORT_MAX`): [`GROUP`] rows at a time. Each pass runs
//!   over the group's rows back to back, so their dependent chains overlap, and the 16
//!   per-row horizontal sums are done together by one transposing reduction
//!   ([`hsum16`]); mean, variance, `sqrt` and the division are computed for the whole
//!   group in one vector. Each lane of that arithmetic only sees its own row.
//! - **Long rows**: statistics per [`CHUNK`]-element chunk while the chunk is in L1
//!   (corrected two-pass inside the chunk: sum, then `Σd`, `Σd²` with `d = x - mean₀`),
//!   merged exactly across chunks in `f64` ([`ChunkMerge`]); then one output pass. `x`
//!   is read from memory once, plus once more from cache for the output. (Software
//!   prefetching of the next chunks or rows was tried and measured no faster on Zen 4.)
//!
//! All raw-pointer work is in [`load`], [`store`], [`bool_lanes`] and the `*_block`
//! helpers, which only touch lanes inside the slice they are given.

use std::arch::x86_64::*;

use super::row::{ChunkMerge, RowStats};
use super::{NormKind, NormSpec};

const LANES: usize = 16;
/// Independent accumulators per sum on long rows: hides the add latency and lowers
/// rounding growth.
const UNROLL: usize = 4;
const ALL: __mmask16 = 0xFFFF;
/// Rows up to this long take the grouped short-row scheme.
const SHORT_MAX: usize = 256;
/// Rows normalised together by the short-row scheme (one per lane of the statistics).
const GROUP: usize = 16;
/// Elements per statistics chunk on long rows (4 KiB: stays in L1 for its second pass).
const CHUNK: usize = 1024;

/// Normalises every `features`-long row of `x` into `out` (see `scalar::norm_row` for the
/// semantics). `mask`, `out` and `x` have the same length; `spec`'s slices have
/// `features` elements.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) fn norm_rows(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [f32],
) {
    match (spec.scale, spec.bias) {
        (None, None) => rows_with::<false, false>(x, mask, features, spec, &[], &[], out),
        (Some(s), None) => rows_with::<true, false>(x, mask, features, spec, s, &[], out),
        (None, Some(b)) => rows_with::<false, true>(x, mask, features, spec, &[], b, out),
        (Some(s), Some(b)) => rows_with::<true, true>(x, mask, features, spec, s, b, out),
    }
}

/// [`norm_rows`] specialised on the affine parameters (absent ones are empty slices and
/// never read) and on the presence of a mask (absent: empty slice, all lanes kept).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn rows_with<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    scale: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let p = Params::<SCALE, BIAS> {
        kind: spec.kind,
        eps: spec.epsilon,
        scale,
        bias,
    };
    match (mask, features <= SHORT_MAX) {
        (None, true) => short_rows::<false, SCALE, BIAS>(x, &[], features, &p, out),
        (Some(m), true) => short_rows::<true, SCALE, BIAS>(x, m, features, &p, out),
        (None, false) => long_rows::<false, SCALE, BIAS>(x, &[], features, &p, out),
        (Some(m), false) => long_rows::<true, SCALE, BIAS>(x, m, features, &p, out),
    }
}

/// What every row shares.
struct Params<'a, const SCALE: bool, const BIAS: bool> {
    kind: NormKind,
    eps: f32,
    scale: &'a [f32],
    bias: &'a [f32],
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

/// Runs `step(acc, values, lanes)` over the 16-lane blocks of `x`, rotating over `ACCS`
/// independent accumulators that are merged pairwise at the end; `values` is zero
/// outside `lanes`. With `MASKED`, `m` (same length as `x`) selects the kept lanes,
/// otherwise all are kept. Returns the merged accumulator and the number of kept
/// elements (counted from the lane masks, no separate pass).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn fold<const MASKED: bool, const ACCS: usize, S: Copy>(
    x: &[f32],
    m: &[bool],
    zero: S,
    step: impl Fn(S, __m512, __mmask16) -> S,
    merge: impl Fn(S, S) -> S,
) -> (S, usize) {
    let mut acc = [zero; ACCS];
    let (blocks, tail) = x.as_chunks::<LANES>();
    let mut n = x.len();
    if MASKED {
        let (mblocks, mtail) = m.as_chunks::<LANES>();
        let mut kept = 0u32;
        let mut kept_block = |a: &mut S, b, mb| {
            let k = bool_block(mb);
            kept += k.count_ones();
            *a = step(*a, _mm512_maskz_mov_ps(k, load_block(b)), k);
        };
        let (groups, rest) = blocks.as_chunks::<ACCS>();
        let (mgroups, mrest) = mblocks.as_chunks::<ACCS>();
        for (group, mgroup) in groups.iter().zip(mgroups) {
            for ((a, b), mb) in acc.iter_mut().zip(group).zip(mgroup) {
                kept_block(a, b, mb);
            }
        }
        for (b, mb) in rest.iter().zip(mrest) {
            kept_block(&mut acc[0], b, mb);
        }
        if !tail.is_empty() {
            let k = bool_lanes(mtail);
            kept += k.count_ones();
            acc[0] = step(acc[0], load(tail, k), k);
        }
        n = kept as usize;
    } else {
        let (groups, rest) = blocks.as_chunks::<ACCS>();
        for group in groups {
            for (a, b) in acc.iter_mut().zip(group) {
                *a = step(*a, load_block(b), ALL);
            }
        }
        for b in rest {
            acc[0] = step(acc[0], load_block(b), ALL);
        }
        if !tail.is_empty() {
            let k = tail_mask(tail.len());
            acc[0] = step(acc[0], load(tail, k), k);
        }
    }
    let mut width = ACCS / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] = merge(acc[i], acc[i + width]);
        }
        width /= 2;
    }
    (acc[0], n)
}

/// `Σ x` (`SQUARES`: `Σ x²`) over the kept lanes of `x`, lane-wise, and the kept count.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn sum<const MASKED: bool, const ACCS: usize, const SQUARES: bool>(
    x: &[f32],
    m: &[bool],
) -> (__m512, usize) {
    let one = _mm512_set1_ps(1.0);
    fold::<MASKED, ACCS, _>(
        x,
        m,
        _mm512_setzero_ps(),
        |acc, v, _| {
            if SQUARES {
                _mm512_fmadd_ps(v, v, acc)
            } else {
                // `v * 1 + acc` rounds exactly like `v + acc`, but runs on the FMA pipes,
                // which the other passes leave less busy than the add pipes.
                _mm512_fmadd_ps(v, one, acc)
            }
        },
        |a, b| _mm512_add_ps(a, b),
    )
}

/// `(Σd, Σd²)` lane-wise with `d = x - shift` over the kept lanes of `x`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn centred<const MASKED: bool, const ACCS: usize>(
    x: &[f32],
    m: &[bool],
    shift: f32,
) -> (__m512, __m512) {
    let shift = _mm512_set1_ps(shift);
    let zero = _mm512_setzero_ps();
    let (acc, _) = fold::<MASKED, ACCS, _>(
        x,
        m,
        (zero, zero),
        |(a, a2), v, k| {
            let d = _mm512_maskz_sub_ps(k, v, shift);
            (_mm512_add_ps(a, d), _mm512_fmadd_ps(d, d, a2))
        },
        |(a, a2), (b, b2)| (_mm512_add_ps(a, b), _mm512_add_ps(a2, b2)),
    );
    acc
}

/// `lanes[i]` = horizontal sum of `v[i]` for all 16 vectors at once (a transposing
/// pairwise reduction). Each row's lanes are added in the same fixed pattern whatever
/// its position, so a row's sum does not depend on the other rows.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn hsum16(v: &[__m512; GROUP]) -> __m512 {
    // Feed rows in the order that makes the result come out in natural order: the last
    // level leaves row 4k + l in element 4l + k.
    const ORDER: [usize; GROUP] = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];
    // 512 → 256 bits per row: two rows per vector.
    let mut t = [_mm512_setzero_ps(); 8];
    for (j, t) in t.iter_mut().enumerate() {
        let (a, b) = (v[ORDER[2 * j]], v[ORDER[2 * j + 1]]);
        let lo = _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b);
        let hi = _mm512_shuffle_f32x4::<0b11_10_11_10>(a, b);
        *t = _mm512_add_ps(lo, hi);
    }
    // 256 → 128 bits per row: four rows per vector, one per 128-bit lane.
    let mut u = [_mm512_setzero_ps(); 4];
    for (j, u) in u.iter_mut().enumerate() {
        let (a, b) = (t[2 * j], t[2 * j + 1]);
        let lo = _mm512_shuffle_f32x4::<0b10_00_10_00>(a, b);
        let hi = _mm512_shuffle_f32x4::<0b11_01_11_01>(a, b);
        *u = _mm512_add_ps(lo, hi);
    }
    // 128 → 64 bits per row, inside each 128-bit lane.
    let mut w = [_mm512_setzero_ps(); 2];
    for (j, w) in w.iter_mut().enumerate() {
        let (a, b) = (u[2 * j], u[2 * j + 1]);
        let lo = _mm512_shuffle_ps::<0b01_00_01_00>(a, b);
        let hi = _mm512_shuffle_ps::<0b11_10_11_10>(a, b);
        *w = _mm512_add_ps(lo, hi);
    }
    // 64 → 32 bits per row.
    let lo = _mm512_shuffle_ps::<0b10_00_10_00>(w[0], w[1]);
    let hi = _mm512_shuffle_ps::<0b11_01_11_01>(w[0], w[1]);
    _mm512_add_ps(lo, hi)
}

/// Short rows, [`GROUP`] at a time (see the module docs).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn short_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    p: &Params<SCALE, BIAS>,
    out: &mut [f32],
) {
    let group_len = GROUP * features;
    let mut done = 0;
    while done < x.len() {
        let len = group_len.min(x.len() - done);
        let (xg, og) = (&x[done..done + len], &mut out[done..done + len]);
        let mg = if MASKED { &mask[done..done + len] } else { &[] };
        short_group::<MASKED, SCALE, BIAS>(xg, mg, features, p, og);
        done += len;
    }
}

/// Up to [`GROUP`] rows: statistics for all of them in one vector, then the output.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn short_group<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    p: &Params<SCALE, BIAS>,
    out: &mut [f32],
) {
    let row_mask = |r: usize| {
        if MASKED {
            &mask[r * features..(r + 1) * features]
        } else {
            &[]
        }
    };
    let zero = _mm512_setzero_ps();
    let mut acc = [zero; GROUP];
    let mut count = [features as f32; GROUP];
    let squares = p.kind == NormKind::RmsNorm;
    for (r, xr) in x.chunks_exact(features).enumerate() {
        let (a, n) = if squares {
            sum::<MASKED, 2, true>(xr, row_mask(r))
        } else {
            sum::<MASKED, 2, false>(xr, row_mask(r))
        };
        acc[r] = a;
        count[r] = n as f32;
    }
    let n = load_block(&count);
    let first = _mm512_div_ps(hsum16(&acc), n);
    let eps = _mm512_set1_ps(p.eps);
    let one = _mm512_set1_ps(1.0);
    let (shift, corr, inv) = match p.kind {
        NormKind::LayerNorm => {
            let shift = to_array(first);
            let mut acc2 = [zero; GROUP];
            for (r, xr) in x.chunks_exact(features).enumerate() {
                (acc[r], acc2[r]) = centred::<MASKED, 2>(xr, row_mask(r), shift[r]);
            }
            // Corrected two-pass, as `row::layer_stats`, lane by lane.
            let corr = _mm512_div_ps(hsum16(&acc), n);
            let var = _mm512_sub_ps(_mm512_div_ps(hsum16(&acc2), n), _mm512_mul_ps(corr, corr));
            // `max(0, var)` returns `var` when it is NaN (vmaxps returns its second operand).
            let var = _mm512_max_ps(zero, var);
            let inv = _mm512_div_ps(one, _mm512_sqrt_ps(_mm512_add_ps(var, eps)));
            (shift, to_array(corr), to_array(inv))
        }
        NormKind::RmsNorm => {
            let inv = _mm512_div_ps(one, _mm512_sqrt_ps(_mm512_add_ps(first, eps)));
            ([0.0; GROUP], [0.0; GROUP], to_array(inv))
        }
    };
    for (r, (xr, or)) in x
        .chunks_exact(features)
        .zip(out.chunks_exact_mut(features))
        .enumerate()
    {
        let st = RowStats {
            shift: shift[r],
            corr: corr[r],
            inv_std: inv[r],
        };
        apply::<SCALE, BIAS>(xr, &st, p.scale, p.bias, or);
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn to_array(v: __m512) -> [f32; GROUP] {
    let mut a = [0.0; GROUP];
    store_block(&mut a, v);
    a
}

/// Long rows: chunked statistics, then the output pass (see the module docs).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn long_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    p: &Params<SCALE, BIAS>,
    out: &mut [f32],
) {
    for (r, (xr, or)) in x
        .chunks_exact(features)
        .zip(out.chunks_exact_mut(features))
        .enumerate()
    {
        let start = r * features;
        let mr = if MASKED {
            &mask[start..start + features]
        } else {
            &[]
        };
        let mut merge = ChunkMerge::new();
        for (c, xc) in xr.chunks(CHUNK).enumerate() {
            let mc = if MASKED {
                &mr[c * CHUNK..][..xc.len()]
            } else {
                &[]
            };
            match p.kind {
                NormKind::LayerNorm => {
                    let (total, n) = sum::<MASKED, UNROLL, false>(xc, mc);
                    if n == 0 {
                        continue;
                    }
                    let shift = _mm512_reduce_add_ps(total) / n as f32;
                    let (sd, sd2) = centred::<MASKED, UNROLL>(xc, mc, shift);
                    merge.add_centred(
                        n,
                        shift,
                        _mm512_reduce_add_ps(sd),
                        _mm512_reduce_add_ps(sd2),
                    );
                }
                NormKind::RmsNorm => {
                    let (sq, n) = sum::<MASKED, UNROLL, true>(xc, mc);
                    merge.add_squares(n, _mm512_reduce_add_ps(sq));
                }
            }
        }
        let st = match p.kind {
            NormKind::LayerNorm => merge.layer_stats(p.eps),
            NormKind::RmsNorm => merge.rms_stats(p.eps),
        };
        apply::<SCALE, BIAS>(xr, &st, p.scale, p.bias, or);
    }
}

/// `out[j] = ((x[j] - shift) - corr) * (inv_std [* scale[j]]) [+ bias[j]]` (the last
/// multiply and add fused), specialised
/// on which affine parameters are present (absent ones are empty slices and never
/// read). Without a bias nothing is added: `y + 0` would turn -0 into +0.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
#[inline]
fn apply<const SCALE: bool, const BIAS: bool>(
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
        let centred = _mm512_sub_ps(_mm512_sub_ps(v, shift), corr);
        // One rounding for `centred * mul + b`.
        if BIAS {
            _mm512_fmadd_ps(centred, mul, b)
        } else {
            _mm512_mul_ps(centred, mul)
        }
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
