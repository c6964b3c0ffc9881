//! AVX-512 (F + BW + VL, and POPCNT for counting kept lanes) path: 16 lanes and
//! per-lane `__mmask16` masks that serve both for row tails and for the bool mask, so
//! masked-out lanes never reach a sum.
//!
//! The whole row loop runs inside one `#[target_feature]` function ([`norm_rows`]), so
//! the ISA is dispatched once per block of rows and every helper inlines into it. Two
//! schemes, chosen by the row length alone (so a row's result never depends on which
//! other rows share its block, which keeps `Threads::Auto` bitwise equal to `Single`):
//!
//! - **Short rows** (`features <= SHORT_MAX`): [`GROUP`] rows at a time, one per lane
//!   of the statistics, through the group template both x86 paths share (`group.rs`:
//!   [`GroupSums`], [`layer_group_stats`], the transposing [`hsum_rows`] and the
//!   software-pipelined group loop). Rows of 16, 32, 64 and 128 features take a copy
//!   unrolled at compile time ([`fixed_rows`]): each row's blocks are summed in a fixed
//!   order, `scale`/`bias` stay in registers, and the mask of rows of 64 or more is
//!   read 64 bools at a time; large outputs of these rows are written in whole lines
//!   with streaming stores ([`streamed_fixed_rows`]).
//! - **Long rows**: statistics per [`CHUNK`]-element chunk ([`chunk_sums`]: the same
//!   shifted pass, and the second pass from L1 when needed), merged exactly across
//!   chunks in `f64` ([`ChunkMerge`]; a row of one chunk finishes in `f32`, as short
//!   rows do); then one output pass. Rows of one chunk with a cached output are written
//!   inside the next row's statistics pass ([`one_chunk_rows`]). `x` is read from
//!   memory once, plus once more from cache for the output, whose `scale`/`bias` loads
//!   are what keeps long rows below the copy ceiling. Large outputs
//!   ([`Stores::Streaming`]) are written with streaming stores in whole 64-byte lines
//!   through the line template both x86 paths share (`lines.rs`: [`Lines`], in column
//!   tiles over four rows from 2048 to 16384 features, each row walking whichever way
//!   keeps its loads clear of its stores), which saves the read-for-ownership of `out`:
//!   1.3-1.8× on outputs beyond L2. Streaming only changes how bytes reach memory,
//!   never their values. (Software prefetching of the next chunks or rows of `x` and of
//!   `scale`/`bias`, writing two rows together to share those loads in registers,
//!   overlapping the next rows' statistics with the output tiles or rows, reusing the
//!   short rows' `x - shift` from their statistics for the output, and interleaving
//!   `scale` with `bias` were all tried and measured no faster, or slower, on Zen 4.
//!   The start of the next row's mask is the one prefetch that pays:
//!   [`prefetch_mask_start`].)
//!
//! All raw-pointer work is in [`load`], [`store`], [`bool_lanes`], the `*_block`
//! helpers, [`straddle`]'s expanding load and the views of `out` as aligned [`Line`]s
//! in [`apply_stream`] and [`streamed_fixed_rows`], which only touch lanes inside the
//! slice they are given.

use std::arch::x86_64::*;

use super::affine::{Params, with_affine};
use super::direction::walk_backwards;
use super::group::{group_template, pipelined_groups};
use super::lines::lines_template;
use super::row::{
    ChunkMerge, FAR_SHIFT, RowStats, guarded, layer_stats, rms_stats, shifted_pass,
    wide_group_stats,
};
use super::{
    NormKind, NormSpec, Out, Stores, TILE, TILE_ROWS, TILED_MAX, TILED_MIN, affine, block_as_out,
};
// The intrinsics `group_template!` computes with, by the names it uses on every path.
use std::arch::x86_64::{
    _mm512_add_ps as add_ps, _mm512_cmp_ps_mask as cmp_ps, _mm512_div_ps as div_ps,
    _mm512_fmadd_ps as fmadd_ps, _mm512_max_ps as max_ps, _mm512_mul_ps as mul_ps,
    _mm512_set1_ps as set1_ps, _mm512_setzero_ps as setzero_ps, _mm512_sqrt_ps as sqrt_ps,
    _mm512_sub_ps as sub_ps,
};

const LANES: usize = 16;
/// Elements per 64-byte line: one block.
const LINE: usize = LANES;
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
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
pub(super) fn norm_rows(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
    stores: Stores,
) {
    let stream = stores == Stores::Streaming;
    with_affine!(spec.scale, spec.bias, |SCALE, BIAS, s, b| {
        rows_with::<SCALE, BIAS>(x, mask, features, &Params::new(spec, s, b, stream), out)
    })
}

/// [`norm_rows`] specialised on the affine parameters (absent ones are empty slices and
/// never read) and on the presence of a mask (absent: empty slice, all lanes kept).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
fn rows_with<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    p: &Params<SCALE, BIAS>,
    out: &mut [Out],
) {
    match (mask, features <= SHORT_MAX) {
        (None, true) => short_rows::<false, SCALE, BIAS>(x, &[], features, p, out),
        (Some(m), true) => short_rows::<true, SCALE, BIAS>(x, m, features, p, out),
        (None, false) => long_rows::<false, SCALE, BIAS>(x, &[], features, p, out),
        (Some(m), false) => long_rows::<true, SCALE, BIAS>(x, m, features, p, out),
    }
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
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn load(x: &[f32], k: __mmask16) -> __m512 {
    let k = k & tail_mask(x.len());
    // SAFETY: `k` only selects lanes below `x.len()`; masked-off lanes are not accessed
    // (AVX-512 masked loads suppress faults), and loadu has no alignment requirement.
    unsafe { _mm512_maskz_loadu_ps(k, x.as_ptr()) }
}

/// Stores the lanes of `v` selected by `k` into `out[..16]`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn store(out: &mut [Out], k: __mmask16, v: __m512) {
    let k = k & tail_mask(out.len());
    // SAFETY: `k` only selects lanes below `out.len()`; masked-off lanes are not written.
    unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr().cast(), k, v) }
}

/// The lane mask of `m[..16]`: bit i set iff `m[i]` (bits past `m.len()` clear).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn bool_lanes(m: &[bool]) -> __mmask16 {
    let k = tail_mask(m.len());
    // SAFETY: `bool` is one byte holding 0 or 1; `k` only selects bytes below `m.len()`.
    let bytes = unsafe { _mm_maskz_loadu_epi8(k, m.as_ptr().cast::<i8>()) };
    _mm_test_epi8_mask(bytes, bytes)
}

/// Loads a full block.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn load_block(x: &[f32; LANES]) -> __m512 {
    // SAFETY: the array has 16 elements; loadu has no alignment requirement.
    unsafe { _mm512_loadu_ps(x.as_ptr()) }
}

/// Stores a full block.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn store_block(out: &mut [Out; LANES], v: __m512) {
    // SAFETY: the array has 16 elements; storeu has no alignment requirement.
    unsafe { _mm512_storeu_ps(out.as_mut_ptr().cast(), v) }
}

/// The lane mask of a full block of bools.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn bool_block(m: &[bool; LANES]) -> __mmask16 {
    // SAFETY: the array is 16 one-byte bools (0 or 1); loadu has no alignment requirement.
    let bytes = unsafe { _mm_loadu_si128(m.as_ptr().cast::<__m128i>()) };
    _mm_test_epi8_mask(bytes, bytes)
}

/// Runs `step(acc, values, lanes)` over the 16-lane blocks of `x`, rotating over `ACCS`
/// independent accumulators that are merged pairwise at the end. `step` must not let
/// `values` outside `lanes` reach `acc` (they hold whatever `x` has there, NaN
/// included): masking inside `step` saves an instruction per block over zeroing them
/// first. With `MASKED`, `m` (same length as `x`) selects the kept lanes,
/// otherwise all are kept. Returns the merged accumulator and the number of kept
/// elements (counted from the lane masks, no separate pass).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
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
        let (groups, rest) = blocks.as_chunks::<ACCS>();
        let (mgroups, mrest) = mblocks.as_chunks::<ACCS>();
        for (group, mgroup) in groups.iter().zip(mgroups) {
            let (lanes, count) = blocks_keep(mgroup);
            kept += count;
            for ((a, b), k) in acc.iter_mut().zip(group).zip(lanes) {
                *a = step(*a, load_block(b), k);
            }
        }
        for (b, mb) in rest.iter().zip(mrest) {
            let k = bool_block(mb);
            kept += k.count_ones();
            acc[0] = step(acc[0], load_block(b), k);
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
    (pairwise(acc, merge), n)
}

/// `v`'s elements merged pairwise in a fixed order: `v[i]` with `v[i + N/2]`, and so on
/// down to one (`N` a power of two).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn pairwise<S: Copy, const N: usize>(mut v: [S; N], merge: impl Fn(S, S) -> S) -> S {
    let mut width = N / 2;
    while width > 0 {
        for i in 0..width {
            v[i] = merge(v[i], v[i + width]);
        }
        width /= 2;
    }
    v[0]
}

/// `Σ x²` over the kept lanes of `x`, lane-wise, and the kept count.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn sum_squares<const MASKED: bool, const ACCS: usize>(x: &[f32], m: &[bool]) -> (__m512, usize) {
    fold::<MASKED, ACCS, _>(
        x,
        m,
        _mm512_setzero_ps(),
        |acc, v, k| square_step(acc, v, k),
        |a, b| _mm512_add_ps(a, b),
    )
}

/// Adds the squares of `v`'s lanes in `k` to `acc`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn square_step(acc: __m512, v: __m512, k: __mmask16) -> __m512 {
    _mm512_mask3_fmadd_ps(v, v, acc, k)
}

/// `(Σd, Σd²)` lane-wise with `d = x - shift` over the kept lanes of `x`, and the kept
/// count.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn centred<const MASKED: bool, const ACCS: usize>(
    x: &[f32],
    m: &[bool],
    shift: f32,
) -> ((__m512, __m512), usize) {
    let shift = _mm512_set1_ps(shift);
    let zero = _mm512_setzero_ps();
    fold::<MASKED, ACCS, _>(
        x,
        m,
        (zero, zero),
        |acc, v, k| centred_step(acc, v, k, shift),
        |a, b| add_pairs(a, b),
    )
}

/// Adds `d` and `d²` of `v`'s lanes in `k` to `(Σd, Σd²)`, `d = v - shift`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn centred_step(
    (sum, squares): (__m512, __m512),
    v: __m512,
    k: __mmask16,
    shift: __m512,
) -> (__m512, __m512) {
    let d = _mm512_maskz_sub_ps(k, v, shift);
    (_mm512_add_ps(sum, d), _mm512_fmadd_ps(d, d, squares))
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn add_pairs((a, a2): (__m512, __m512), (b, b2): (__m512, __m512)) -> (__m512, __m512) {
    (_mm512_add_ps(a, b), _mm512_add_ps(a2, b2))
}

/// A row's 16 lane-wise partial sums folded to 8: lanes `i` and `i + 8` added (the
/// first level of [`hsum_rows`], done per row so that a group keeps half the bytes).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn halve(v: __m512) -> __m256 {
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
    _mm256_add_ps(_mm512_castps512_ps256(v), hi)
}

/// `lanes[i]` = horizontal sum of `v[i]` for all 16 rows at once (a transposing
/// pairwise reduction of their [`halve`]d sums). Each row's lanes are added in the same
/// fixed pattern whatever its position, so a row's sum does not depend on the other
/// rows.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn hsum_rows(v: &[__m256; GROUP]) -> __m512 {
    // Feed rows in the order that makes the result come out in natural order: the last
    // level leaves row 4k + l in element 4l + k.
    const ORDER: [usize; GROUP] = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];
    // Two rows' 256 bits per vector.
    let mut t = [_mm512_setzero_ps(); 8];
    for (j, t) in t.iter_mut().enumerate() {
        let (a, b) = (v[ORDER[2 * j]], v[ORDER[2 * j + 1]]);
        let a = _mm512_castps256_ps512(a);
        let b = _mm256_castps_pd(b);
        *t = _mm512_castpd_ps(_mm512_insertf64x4::<1>(_mm512_castps_pd(a), b));
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

group_template! {
    features: "avx512f,avx512bw,avx512vl,popcnt",
    vector: __m512,
    mask: __mmask16,
    blend: |m, a, b| _mm512_mask_blend_ps(m, a, b),
    bits: |m| u32::from(m),
    // An unmasked row's `keep` is `ALL`, a constant: no need to look at `MASKED`.
    kept_sub: |v, shift, keep| _mm512_maskz_sub_ps(keep, v, shift),
    kept_square: |v, keep| _mm512_maskz_mul_ps(keep, v, v),
}

/// Short rows, [`GROUP`] at a time (see the module docs).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
fn short_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    p: &Params<SCALE, BIAS>,
    out: &mut [Out],
) {
    match features {
        16 => return fixed_rows::<1, MASKED, SCALE, BIAS>(x, mask, p, out),
        32 => return fixed_rows::<2, MASKED, SCALE, BIAS>(x, mask, p, out),
        64 => return fixed_rows::<4, MASKED, SCALE, BIAS>(x, mask, p, out),
        128 => return fixed_rows::<8, MASKED, SCALE, BIAS>(x, mask, p, out),
        _ => {}
    }
    let row = |r: usize| &x[r * features..(r + 1) * features];
    let row_mask = |r: usize| {
        if MASKED {
            &mask[r * features..(r + 1) * features]
        } else {
            &[]
        }
    };
    pipelined_groups! {
        rows: x.len() / features,
        spec: (p.kind, p.eps),
        guard: (x, MASKED.then_some(mask), features),
        add: |sums, i, r| sums.add_any_row::<MASKED, SCALE, BIAS>(i, row(r), row_mask(r), p),
        resum: |r, shift| centred::<MASKED, 2>(row(r), row_mask(r), shift).0,
        write: |stats, i, r| {
            let or = &mut out[r * features..(r + 1) * features];
            apply::<SCALE, BIAS>(row(r), &stats.row(i), p.scale, p.bias, or, false)
        },
    }
}

/// Short rows of exactly `16 * W` features: [`short_rows`] unrolled at compile time,
/// with `scale` and `bias` held in registers across all groups. Against the general
/// loop (min GiB/s, alternated): 32768x16 17.8 -> 29.5 (masked 13.8 -> 26), 16384x32
/// 21-28 -> 35-42 (masked 18-24 -> 37).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
fn fixed_rows<const W: usize, const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    p: &Params<SCALE, BIAS>,
    out: &mut [Out],
) {
    if p.stream {
        return streamed_fixed_rows::<W, MASKED, SCALE, BIAS>(x, mask, p, out);
    }
    let zero = _mm512_setzero_ps();
    let regs = |s: &[f32]| -> [__m512; W] {
        let (blocks, _) = s.as_chunks::<LANES>();
        std::array::from_fn(|j| blocks.get(j).map_or(zero, |b| load_block(b)))
    };
    let (sv, bv) = (regs(p.scale), regs(p.bias));
    let (xr, _) = x.as_chunks::<LANES>();
    let (xr, _) = xr.as_chunks::<W>();
    let (or, _) = out.as_chunks_mut::<LANES>();
    let (or, _) = or.as_chunks_mut::<W>();
    let (mr, _) = mask.as_chunks::<LANES>();
    let (mr, _) = mr.as_chunks::<W>();
    let row_mask = |r: usize| if MASKED { Some(&mr[r]) } else { None };
    pipelined_groups! {
        rows: xr.len(),
        spec: (p.kind, p.eps),
        guard: (x, MASKED.then_some(mask), W * LANES),
        add: |sums, i, r| sums.add_row::<W, MASKED, SCALE, BIAS>(i, &xr[r], row_mask(r), p),
        resum: |r, shift| {
            let keep = keep::<W, MASKED>(row_mask(r));
            shifted_sums::<W, MASKED>(&xr[r], &keep.lanes, shift)
        },
        write: |stats, i, r| stats.write_row::<W, SCALE, BIAS>(i, &xr[r], &sv, &bv, &mut or[r]),
    }
}

/// [`fixed_rows`] into an output that will not stay in cache ([`Stores::Streaming`]):
/// `out` is written in its own 64-byte lines, each with one streaming store, which
/// skips the read-for-ownership. A line two rows share (where `out` does not start a
/// line) is written once the second row's statistics are known, each lane with its own
/// row's, as the long rows do. Min GiB/s of alternated runs against ordinary stores,
/// `out` 16 bytes past a line: 131072x64 19.7 -> 28.6, 65536x128 21.5 -> 28.3,
/// 262144x32 22 -> 31.5; 524288x16 even (every line there is shared, and its blends
/// cost what the stores save). In cache, writing whole aligned lines this way measured
/// no faster (8192x64 +3%, 4096x128 and 32768x16 -3%). Tried for the other short widths
/// through the long rows' `Lines`, from inside the group loop: 1.3-1.9x slower
/// (32768x256, 65536x100). Each element gets the same formula and statistics as in
/// [`GroupStats::write_row`], so no bit changes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
fn streamed_fixed_rows<const W: usize, const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    p: &Params<SCALE, BIAS>,
    out: &mut [Out],
) {
    let _fence = super::StreamFence;
    // Elements of `out` before its first line.
    let lead = (out.as_ptr() as usize).wrapping_neg() % 64 / size_of::<f32>();
    let features = W * LANES;
    let rows = x.len() / features;
    let shared = usize::from(lead > 0);
    // Row `r`'s lines: with `lead > 0`, line 0 is the one it shares with row `r - 1`
    // (whose lanes are those below `16 - lead`), and lane `i` of line `j` is feature
    // `lead + 16 (j - 1) + i` modulo `features`; with `lead == 0`, line `j` is block `j`.
    let first_feature = if lead > 0 { features + lead - LANES } else { 0 };
    let params = |s: &[f32]| -> [__m512; W] {
        std::array::from_fn(|j| {
            if s.is_empty() {
                return _mm512_setzero_ps();
            }
            let v = std::array::from_fn(|i| s[(first_feature + LANES * j + i) % features]);
            load_block(&v)
        })
    };
    let (sv, bv) = (params(p.scale), params(p.bias));
    let earlier = ((1u32 << (LANES - lead)) - 1) as __mmask16;
    // SAFETY: `Line` is 16 `Out`s, so any `Out`s are a valid `Line`.
    let (head, lines, tail) = unsafe { out.align_to_mut::<Line>() };
    assert!(head.len() == lead && lines.len() + shared == rows * W);
    // Row 0's lines after the head, then every other row's `W` lines.
    let (first_lines, lines) = lines.split_at_mut((W - 1) * shared);
    let (row_lines, _) = lines.as_chunks_mut::<W>();
    let (x_lines, _) = x[lead..].as_chunks::<LANES>();
    let (first_x, x_lines) = x_lines.split_at((W - 1) * shared);
    let (row_x, _) = x_lines.as_chunks::<W>();
    let put = |line: &mut Line, v: __m512| {
        // SAFETY: a `Line` is 64-byte aligned, as vmovntps needs.
        unsafe { _mm512_stream_ps(line.0.as_mut_ptr().cast(), v) }
    };
    let (xr, _) = x.as_chunks::<LANES>();
    let (xr, _) = xr.as_chunks::<W>();
    let (mr, _) = mask.as_chunks::<LANES>();
    let (mr, _) = mr.as_chunks::<W>();
    let row_mask = |r: usize| if MASKED { Some(&mr[r]) } else { None };
    let mut prev = LaneStats::splat(&RowStats::default());
    pipelined_groups! {
        rows: rows,
        spec: (p.kind, p.eps),
        guard: (x, MASKED.then_some(mask), features),
        add: |sums, i, r| sums.add_row::<W, MASKED, SCALE, BIAS>(i, &xr[r], row_mask(r), p),
        resum: |r, shift| {
            let keep = keep::<W, MASKED>(row_mask(r));
            shifted_sums::<W, MASKED>(&xr[r], &keep.lanes, shift)
        },
        write: |stats, i, r| {
            let st = stats.lane_stats(i);
            let norm = |x: &[f32; LANES], st, j: usize| {
                norm_block::<SCALE, BIAS>(load_block(x), st, sv[j], bv[j])
            };
            if lead == 0 {
                for j in 0..W {
                    put(&mut row_lines[r][j], norm(&row_x[r][j], st, j));
                }
            } else if r == 0 {
                let (s, b) = (affine(p.scale, 0, lead), affine(p.bias, 0, lead));
                apply::<SCALE, BIAS>(&x[..lead], &stats.row(i), s, b, head, false);
                for j in 1..W {
                    put(&mut first_lines[j - 1], norm(&first_x[j - 1], st, j));
                }
            } else {
                let (xw, ow) = (&row_x[r - 1], &mut row_lines[r - 1]);
                put(
                    &mut ow[0],
                    norm(&xw[0], LaneStats::blend(prev, st, earlier), 0),
                );
                for j in 1..W {
                    put(&mut ow[j], norm(&xw[j], st, j));
                }
            }
            prev = st;
            if lead > 0 && r + 1 == rows {
                let t = features - (LANES - lead);
                let (s, b) = (affine(p.scale, t, features), affine(p.bias, t, features));
                let xt = &x[x.len() - (LANES - lead)..];
                apply::<SCALE, BIAS>(xt, &stats.row(i), s, b, tail, false);
            }
        },
    }
}

/// Pairwise sum of `W` vectors (fixed order).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn tree<const W: usize>(v: [__m512; W]) -> __m512 {
    pairwise(v, |a, b| _mm512_add_ps(a, b))
}

impl GroupSums {
    /// Sums row `row` (`mask`: its mask, `None` when unmasked) into lane `r`, shifted
    /// by its first kept element.
    ///
    /// This and [`GroupSums::add_any_row`] take `p`, and so are instantiated per
    /// `SCALE`/`BIAS`, though they read only `p.kind`: taking `kind` alone changed what
    /// LLVM inlined into the group loops (masked 8192x64 2x slower, masked 4096x100
    /// 1.1x, alternated runs).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
    #[inline]
    fn add_row<const W: usize, const MASKED: bool, const SCALE: bool, const BIAS: bool>(
        &mut self,
        r: usize,
        row: &[[f32; LANES]; W],
        mask: Option<&[[bool; LANES]; W]>,
        p: &Params<SCALE, BIAS>,
    ) {
        let kind = p.kind;
        let keep = keep::<W, MASKED>(mask);
        let shift = match kind {
            // With nothing kept (`first` past the end) the count is 0 and the
            // statistics NaN whatever the shift.
            NormKind::LayerNorm => row.as_flattened().get(keep.first).copied().unwrap_or(0.0),
            NormKind::RmsNorm => 0.0,
        };
        self.add_fixed_row::<W, MASKED>(r, row, keep, shift, kind);
    }

    /// Sums a short row of any length (`mask`: its mask, empty when unmasked) into
    /// lane `r`, as [`GroupSums::add_row`] does for fixed widths.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
    #[inline]
    fn add_any_row<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
        &mut self,
        r: usize,
        row: &[f32],
        mask: &[bool],
        p: &Params<SCALE, BIAS>,
    ) {
        let n;
        match p.kind {
            NormKind::LayerNorm => {
                // With nothing kept the count is 0 and the statistics NaN whatever the
                // shift.
                let first = if MASKED {
                    mask.iter().position(|&kept| kept)
                } else {
                    Some(0)
                };
                self.shift[r] = first.map_or(0.0, |i| row[i]);
                let ((sum, squares), kept) = centred::<MASKED, 2>(row, mask, self.shift[r]);
                (self.sum[r], self.squares[r], n) = (halve(sum), halve(squares), kept);
            }
            NormKind::RmsNorm => {
                let (squares, kept) = sum_squares::<MASKED, 2>(row, mask);
                (self.squares[r], n) = (halve(squares), kept);
            }
        }
        self.count[r] = n as f32;
    }
}

impl GroupStats {
    /// Row `r`'s statistics in every lane.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
    #[inline]
    fn lane_stats(&self, r: usize) -> LaneStats {
        LaneStats {
            shift: _mm512_set1_ps(self.shift[r]),
            inv: _mm512_set1_ps(self.inv[r]),
            corr: _mm512_set1_ps(self.corr[r]),
        }
    }

    /// Writes row `r` of the group (`x` in, `out` out) with `scale`/`bias` in registers.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
    #[inline]
    fn write_row<const W: usize, const SCALE: bool, const BIAS: bool>(
        &self,
        r: usize,
        x: &[[f32; LANES]; W],
        sv: &[__m512; W],
        bv: &[__m512; W],
        out: &mut [[Out; LANES]; W],
    ) {
        let stats = self.lane_stats(r);
        for j in 0..W {
            let y = norm_block::<SCALE, BIAS>(load_block(&x[j]), stats, sv[j], bv[j]);
            store_block(&mut out[j], y);
        }
    }
}

/// [`RowKeep`] of a fixed-width row from its mask (`None`: every element kept).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn keep<const W: usize, const MASKED: bool>(mask: Option<&[[bool; LANES]; W]>) -> RowKeep<W> {
    match mask {
        Some(mask) if MASKED => row_keep(mask),
        _ => RowKeep {
            lanes: [ALL; W],
            count: (W * LANES) as u32,
            first: 0,
        },
    }
}

/// Which elements of a fixed-width row the mask keeps.
struct RowKeep<const W: usize> {
    /// Lane mask per block.
    lanes: [__mmask16; W],
    count: u32,
    /// Index of the first kept element (`16 * W` when there is none).
    first: usize,
}

/// [`RowKeep`] from a row's mask, read 64 bools at a time as in [`blocks_keep`], with
/// the first kept element found by one `tzcnt` per 64 (rows under 64 elements: per
/// block).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn row_keep<const W: usize>(mask: &[[bool; LANES]; W]) -> RowKeep<W> {
    let mut keep = RowKeep {
        lanes: [0; W],
        count: 0,
        first: W * LANES,
    };
    let (quads, rest) = mask.as_chunks::<4>();
    for (q, quad) in quads.iter().enumerate() {
        let bits = quad_bits(quad);
        for i in 0..4 {
            keep.lanes[4 * q + i] = (bits >> (16 * i)) as __mmask16;
        }
        keep.count += bits.count_ones();
        if bits != 0 && keep.first == W * LANES {
            keep.first = 64 * q + bits.trailing_zeros() as usize;
        }
    }
    for (i, block) in rest.iter().enumerate() {
        let j = 4 * quads.len() + i;
        let k = bool_block(block);
        keep.lanes[j] = k;
        keep.count += k.count_ones();
        if k != 0 && keep.first == W * LANES {
            keep.first = LANES * j + k.trailing_zeros() as usize;
        }
    }
    keep
}

/// Bit `i` set iff the `i`-th of 64 bools is true.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn quad_bits(quad: &[[bool; LANES]; 4]) -> u64 {
    // SAFETY: `quad` is 4 × 16 contiguous one-byte bools (0 or 1) = 64 bytes; loadu has
    // no alignment requirement.
    let bytes = unsafe { _mm512_loadu_si512(quad.as_ptr().cast()) };
    _mm512_test_epi8_mask(bytes, bytes)
}

/// The lane masks of `N` blocks of bools and how many are set, read 64 bools at a time:
/// one load and one test per four blocks, one count per 64 elements.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn blocks_keep<const N: usize>(mask: &[[bool; LANES]; N]) -> ([__mmask16; N], u32) {
    let mut lanes = [0; N];
    let mut count = 0;
    let (quads, rest) = mask.as_chunks::<4>();
    for (q, quad) in quads.iter().enumerate() {
        let bits = quad_bits(quad);
        for i in 0..4 {
            lanes[4 * q + i] = (bits >> (16 * i)) as __mmask16;
        }
        count += bits.count_ones();
    }
    for (i, block) in rest.iter().enumerate() {
        let k = bool_block(block);
        lanes[4 * quads.len() + i] = k;
        count += k.count_ones();
    }
    (lanes, count)
}

/// Long rows: chunked statistics, then the output pass (see the module docs).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
fn long_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    p: &Params<SCALE, BIAS>,
    out: &mut [Out],
) {
    if !p.stream && features <= CHUNK {
        return match p.kind {
            NormKind::LayerNorm => {
                one_chunk_rows::<MASKED, SCALE, BIAS, true>(x, mask, features, p, out)
            }
            NormKind::RmsNorm => {
                one_chunk_rows::<MASKED, SCALE, BIAS, false>(x, mask, features, p, out)
            }
        };
    }
    if !p.stream {
        for (r, (xr, or)) in x
            .chunks_exact(features)
            .zip(out.chunks_exact_mut(features))
            .enumerate()
        {
            // The statistics of `long_stats`, expanded here (see `chunked_stats!`).
            let start = r * features;
            let mr = if MASKED {
                &mask[start..start + features]
            } else {
                &[]
            };
            let st = chunked_stats!(xr, mr, p);
            let st = guarded(st, xr, MASKED.then_some(mr), p.kind, p.eps);
            let backwards = walk_backwards(or.as_ptr(), [xr, p.scale, p.bias], Stores::Cached);
            apply::<SCALE, BIAS>(xr, &st, p.scale, p.bias, or, backwards);
        }
        return;
    }
    streamed_rows::<MASKED, SCALE, BIAS>(x, mask, features, p, out);
}

/// Rows of one chunk (257-1024 features) into a cached output: each row is written
/// block by block inside the statistics pass of the next row, so that the loads of one
/// overlap the stores of the other, as the short rows' pipelining does a row at a time.
/// The next row's sums are formed exactly as `centred::<MASKED, UNROLL>` (LayerNorm,
/// `LAYER`) or `sum_squares::<MASKED, UNROLL>` (RMSNorm) forms them (the groups, lane
/// masks, accumulators, order and merge of [`fold`]) and finished as [`chunk_sums`]'
/// are, so no bit changes.
///
/// Measured against summing each row, then writing it (min GiB/s of alternated runs):
/// unmasked LayerNorm 1024x512 1.27x, 1024x300 1.24x, 4096x384 1.18x, 1024x1024 and
/// 2048x768 1.07x with `x` and `out` line-aligned, 1.04-1.16x in a `Vec`'s usual
/// placement; RMSNorm 1.06-1.27x; masked LayerNorm 1.03-1.13x (1024x300 to 1024x512),
/// masked RMSNorm 1.2x at 1024x512.
///
/// Written as one loop on purpose: threading the output through [`fold`] as a callback
/// measured no faster than not interleaving at all (the callback's state left
/// registers). Rows that walk backwards ([`walk_backwards`]) and the last row are
/// written after their statistics, as before.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
fn one_chunk_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool, const LAYER: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    p: &Params<SCALE, BIAS>,
    out: &mut [Out],
) {
    let zero = _mm512_setzero_ps();
    let rows = x.len() / features;
    let row_mask = |r: usize| {
        if MASKED {
            &mask[r * features..(r + 1) * features]
        } else {
            &[]
        }
    };
    let (sb, _) = p.scale.as_chunks::<LANES>();
    let (bb, _) = p.bias.as_chunks::<LANES>();
    // Every row's statistics pass the overflow guard (`row::guarded`).
    let guard = |st, xr: &[f32], mr: &[bool]| guarded(st, xr, MASKED.then_some(mr), p.kind, p.eps);
    let stats_of = |xr: &[f32], mr: &[bool]| {
        guard(
            chunk_sums::<MASKED>(xr, mr, p.kind).row_stats(p.eps),
            xr,
            mr,
        )
    };
    let mut st = stats_of(&x[..features], row_mask(0));
    for (r, (xr, or)) in x
        .chunks_exact(features)
        .zip(out.chunks_exact_mut(features))
        .enumerate()
    {
        let next = r + 1;
        let backwards = walk_backwards(or.as_ptr(), [xr, p.scale, p.bias], Stores::Cached);
        if next == rows || backwards {
            apply::<SCALE, BIAS>(xr, &st, p.scale, p.bias, or, backwards);
            if next < rows {
                let xn = &x[next * features..(next + 1) * features];
                st = stats_of(xn, row_mask(next));
            }
            continue;
        }
        let (xn, mn) = (&x[next * features..(next + 1) * features], row_mask(next));
        let (nb, ntail) = xn.as_chunks::<LANES>();
        let (mb, mtail) = mn.as_chunks::<LANES>();
        let (xb, xtail) = xr.as_chunks::<LANES>();
        let (ob, otail) = or.as_chunks_mut::<LANES>();
        let n = xb.len();
        assert!(nb.len() == n && ob.len() == n && (!MASKED || mb.len() == n));
        assert!((!SCALE || sb.len() >= n) && (!BIAS || bb.len() >= n));
        let stats = LaneStats::splat(&st);
        // The shift `shifted_pass` takes: the first kept element (any value when none is
        // kept: the sums are not used then).
        let first = if MASKED {
            mn.iter().position(|&kept| kept)
        } else {
            Some(0)
        };
        let sh = _mm512_set1_ps(first.map_or(0.0, |i| xn[i]));
        let mut acc = [(zero, zero); UNROLL];
        let mut kept = 0u32;
        let sum = |a: &mut (__m512, __m512), v: __m512, k: __mmask16| {
            if LAYER {
                *a = centred_step(*a, v, k, sh);
            } else {
                a.1 = square_step(a.1, v, k);
            }
        };
        let mut block = |i: usize, a: &mut (__m512, __m512), k: __mmask16| {
            sum(a, load_block(&nb[i]), k);
            let s = if SCALE { load_block(&sb[i]) } else { stats.inv };
            let b = if BIAS { load_block(&bb[i]) } else { stats.inv };
            let y = norm_block::<SCALE, BIAS>(load_block(&xb[i]), stats, s, b);
            store_block(&mut ob[i], y);
        };
        // The groups, rest and tail of `fold`, with its lane masks.
        let groups = n / UNROLL;
        for g in 0..groups {
            let lanes = if MASKED {
                let (quad, _) = mb[g * UNROLL..].as_chunks::<UNROLL>();
                let (lanes, count) = blocks_keep(&quad[0]);
                kept += count;
                lanes
            } else {
                [ALL; UNROLL]
            };
            for (j, (a, k)) in acc.iter_mut().zip(lanes).enumerate() {
                block(g * UNROLL + j, a, k);
            }
        }
        for i in groups * UNROLL..n {
            let k = mb.get(i).map_or(ALL, |m| bool_block(m));
            if MASKED {
                kept += k.count_ones();
            }
            block(i, &mut acc[0], k);
        }
        if !ntail.is_empty() {
            let k = if MASKED {
                bool_lanes(mtail)
            } else {
                tail_mask(ntail.len())
            };
            if MASKED {
                kept += k.count_ones();
            }
            sum(&mut acc[0], load(ntail, k), k);
            let (sc, bc) = (
                affine(p.scale, n * LANES, features),
                affine(p.bias, n * LANES, features),
            );
            apply::<SCALE, BIAS>(xtail, &st, sc, bc, otail, false);
        }
        let (sum_d, sum_d2) = pairwise(acc, |a, b| add_pairs(a, b));
        let kept = if MASKED { kept as usize } else { features };
        if !LAYER {
            st = guard(rms_stats(_mm512_reduce_add_ps(sum_d2), kept, p.eps), xn, mn);
            continue;
        }
        let mut first = Some((
            _mm512_reduce_add_ps(sum_d),
            _mm512_reduce_add_ps(sum_d2),
            kept,
        ));
        let sums = |shift| {
            first.take().unwrap_or_else(|| {
                let ((sd, sd2), n) = centred::<MASKED, UNROLL>(xn, mn, shift);
                (_mm512_reduce_add_ps(sd), _mm512_reduce_add_ps(sd2), n)
            })
        };
        let centred = shifted_pass(xn, MASKED.then_some(mn), sums);
        st = guard(ChunkSums::Centred(centred).row_stats(p.eps), xn, mn);
    }
}

/// Asks for the first [`MASK_PREFETCH`] lines of the next row's mask while this row is
/// written: the output pass leaves the reads idle, and on large masked inputs the mask
/// is a second stream the statistics pass would otherwise wait for (16384x1024 and
/// 4096x768 masked: 1.05-1.1x, median of the best times of 6-8 alternated runs; 4 lines
/// measured slower, 16 no better, and prefetching `x` the same way slower, as it is
/// for unmasked rows).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn prefetch_mask_start(mask: &[bool]) {
    for line in mask.chunks(64).take(MASK_PREFETCH) {
        _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast());
    }
}

/// Lines of the next row's mask that [`prefetch_mask_start`] asks for.
const MASK_PREFETCH: usize = 8;

lines_template! {
    features: "avx512f,avx512bw,avx512vl,popcnt",
    stats: |xr, mr, p| long_stats::<MASKED, SCALE, BIAS>(xr, mr, p),
    shared: |x, prev, st, lo, s, b, out| straddle::<SCALE, BIAS>(x, prev, st, lo, s, b, out),
    edge: |x, st, s, b, out| apply::<SCALE, BIAS>(x, st, s, b, out, false),
    body: |x, st, s, b, out, backwards| apply_stream::<SCALE, BIAS>(x, st, s, b, out, backwards),
    prefetch_mask: prefetch_mask_start,
}

/// One long row's statistics, chunk by chunk, before the overflow guard, in a function
/// generic over `MASKED`. Expanded into [`long_stats`] and into the cached row loop of
/// [`long_rows`], where calling `long_stats` measured 8-25% slower (2048x768,
/// 512x2048, alternated runs; re-measured after the one-chunk finish: 9% at 1024x1500,
/// 2% at 512x2048), as the compiler then keeps less of the row loop in registers.
macro_rules! chunked_stats {
    ($xr:expr, $mr:expr, $p:expr) => {{
        let (xr, mr, p): (&[f32], &[bool], _) = ($xr, $mr, $p);
        if xr.len() <= CHUNK {
            chunk_sums::<MASKED>(xr, mr, p.kind).row_stats(p.eps)
        } else {
            let mut merge = ChunkMerge::new();
            for (c, xc) in xr.chunks(CHUNK).enumerate() {
                let mc = if MASKED {
                    &mr[c * CHUNK..][..xc.len()]
                } else {
                    &[]
                };
                chunk_sums::<MASKED>(xc, mc, p.kind).merge_into(&mut merge);
            }
            match p.kind {
                NormKind::LayerNorm => merge.layer_stats(p.eps),
                NormKind::RmsNorm => merge.rms_stats(p.eps),
            }
        }
    }};
}
use chunked_stats;

/// One long row's statistics, chunk by chunk.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn long_stats<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    xr: &[f32],
    mr: &[bool],
    p: &Params<SCALE, BIAS>,
) -> RowStats {
    let st = chunked_stats!(xr, mr, p);
    guarded(st, xr, MASKED.then_some(mr), p.kind, p.eps)
}

/// The sums of one chunk of a long row, or of a whole row that fits in one chunk.
enum ChunkSums {
    /// `(shift, Σd, Σd², n)` over `d = x - shift`; `None` when nothing is kept.
    Centred(Option<(f32, f32, f32, usize)>),
    /// `(Σx², n)`.
    Squares(f32, usize),
}

/// Sums one chunk. LayerNorm: one pass over the chunk shifted by its first kept
/// element, as the fixed-width short rows do (see [`GroupSums`]), and a second pass
/// from L1, shifted by the chunk mean just found, only when that element lies far from
/// the mean.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn chunk_sums<const MASKED: bool>(xc: &[f32], mc: &[bool], kind: NormKind) -> ChunkSums {
    match kind {
        NormKind::LayerNorm => {
            let sums = |shift| {
                let ((sd, sd2), n) = centred::<MASKED, UNROLL>(xc, mc, shift);
                (_mm512_reduce_add_ps(sd), _mm512_reduce_add_ps(sd2), n)
            };
            ChunkSums::Centred(shifted_pass(xc, MASKED.then_some(mc), sums))
        }
        NormKind::RmsNorm => {
            let (sq, n) = sum_squares::<MASKED, UNROLL>(xc, mc);
            ChunkSums::Squares(_mm512_reduce_add_ps(sq), n)
        }
    }
}

impl ChunkSums {
    /// Adds the chunk to its row's statistics (a chunk with nothing kept adds nothing).
    #[inline]
    fn merge_into(self, merge: &mut ChunkMerge) {
        match self {
            ChunkSums::Centred(Some((shift, sd, sd2, n))) => merge.add_centred(n, shift, sd, sd2),
            ChunkSums::Centred(None) => {}
            ChunkSums::Squares(sq, n) => merge.add_squares(n, sq),
        }
    }

    /// The statistics of a row that is this one chunk, finished in `f32` as the short
    /// rows' are: the sums are short and centred, so the `f64` merge would add nothing
    /// but its chain of conversions and divisions between each row's statistics and its
    /// output pass (4096x768 and 8192x384: 1.08-1.1x faster without it). A row with
    /// nothing kept gives 0/0 = NaN statistics, as in the merge.
    #[inline]
    fn row_stats(self, eps: f32) -> RowStats {
        match self {
            ChunkSums::Centred(Some((shift, sd, sd2, n))) => layer_stats(shift, sd, sd2, n, eps),
            ChunkSums::Centred(None) => layer_stats(0.0, 0.0, 0.0, 0, eps),
            ChunkSums::Squares(sq, n) => rms_stats(sq, n, eps),
        }
    }
}

/// Stores a full block, streaming (bypassing the caches) when it is 64-byte aligned.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn stream_block(out: &mut [Out; LANES], v: __m512) {
    if (out.as_ptr() as usize).is_multiple_of(64) {
        // SAFETY: the array has 16 elements and is 64-byte aligned, as vmovntps needs.
        unsafe { _mm512_stream_ps(out.as_mut_ptr().cast(), v) }
    } else {
        store_block(out, v);
    }
}

/// One 64-byte line of `f32`s: a whole line of `out`, aligned by its type.
#[repr(C, align(64))]
struct Line([Out; LANES]);

/// Per-lane statistics in the form [`norm_block`] takes them.
#[derive(Clone, Copy)]
struct LaneStats {
    shift: __m512,
    corr: __m512,
    inv: __m512,
}

impl LaneStats {
    /// `a` in the lanes of `earlier`, `b` in the others.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
    #[inline]
    fn blend(a: LaneStats, b: LaneStats, earlier: __mmask16) -> Self {
        let pick = |a, b| _mm512_mask_blend_ps(earlier, b, a);
        LaneStats {
            shift: pick(a.shift, b.shift),
            corr: pick(a.corr, b.corr),
            inv: pick(a.inv, b.inv),
        }
    }

    /// Every lane with the statistics of one row.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
    #[inline]
    fn splat(st: &RowStats) -> Self {
        LaneStats {
            shift: _mm512_set1_ps(st.shift),
            corr: _mm512_set1_ps(st.corr),
            inv: _mm512_set1_ps(st.inv_std),
        }
    }
}

/// The normalisation formula of [`apply`] on one block, with per-lane statistics:
/// `((v - shift) - corr) * (inv [* s]) [+ b]`, the scalar and AVX2 paths' order.
///
/// `inv` meets the scale before the centred value does, so an output whose unscaled
/// value is beyond `f32` (a masked-out 1e37 in a row of small spread) but whose scaled
/// one is not comes out finite; and `corr` is subtracted before anything is multiplied,
/// so an infinite `inv` (`epsilon = 0`, a variance that underflowed) gives ±inf as on
/// the other paths, never `inf - inf`. (Folding `-corr * inv` into one FMA saved an
/// operation per block but broke both.)
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn norm_block<const SCALE: bool, const BIAS: bool>(
    v: __m512,
    st: LaneStats,
    s: __m512,
    b: __m512,
) -> __m512 {
    let centred = _mm512_sub_ps(_mm512_sub_ps(v, st.shift), st.corr);
    let mul = if SCALE {
        _mm512_mul_ps(st.inv, s)
    } else {
        st.inv
    };
    if BIAS {
        _mm512_fmadd_ps(centred, mul, b)
    } else {
        _mm512_mul_ps(centred, mul)
    }
}

/// [`apply`] on whole blocks with streaming stores (`out` line-aligned, its length a
/// multiple of 16; both asserted). The lengths and the alignment are checked once, up
/// front, so that the block loop carries no per-block bounds or alignment tests: 5%
/// at 4096x768, whose output waits on the write-combining buffers anyway.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn apply_stream<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    st: &RowStats,
    scale: &[f32],
    bias: &[f32],
    out: &mut [Out],
    backwards: bool,
) {
    let stats = LaneStats::splat(st);
    let (xb, _) = x.as_chunks::<LANES>();
    // SAFETY: `Line` is 16 `Out`s, so any `Out`s are a valid `Line`.
    let (pre, ob, _) = unsafe { out.align_to_mut::<Line>() };
    let n = xb.len();
    assert!(pre.is_empty() && ob.len() >= n);
    let (sb, _) = scale.as_chunks::<LANES>();
    let (bb, _) = bias.as_chunks::<LANES>();
    assert!((!SCALE || sb.len() >= n) && (!BIAS || bb.len() >= n));
    let mut block = |i: usize| {
        let s = if SCALE { load_block(&sb[i]) } else { stats.inv };
        let b = if BIAS { load_block(&bb[i]) } else { stats.inv };
        let v = norm_block::<SCALE, BIAS>(load_block(&xb[i]), stats, s, b);
        // SAFETY: a `Line` is 64-byte aligned, as vmovntps needs.
        unsafe { _mm512_stream_ps(ob[i].0.as_mut_ptr().cast(), v) }
    };
    if backwards {
        (0..n).rev().for_each(&mut block);
    } else {
        (0..n).for_each(&mut block);
    }
}

/// The line shared by two rows: its first `lo` elements end the previous row (statistics
/// `prev`), the rest start the next one (`st`). `x` and `out` are that 16-element window.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
#[allow(clippy::too_many_arguments)]
fn straddle<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    prev: &RowStats,
    st: &RowStats,
    lo: usize,
    scale: &[f32],
    bias: &[f32],
    out: &mut [Out],
) {
    let next = !tail_mask(lo);
    let lane = |a: f32, b: f32| _mm512_mask_blend_ps(next, _mm512_set1_ps(a), _mm512_set1_ps(b));
    let stats = LaneStats {
        shift: lane(prev.shift, st.shift),
        corr: lane(prev.corr, st.corr),
        inv: lane(prev.inv_std, st.inv_std),
    };
    // Lanes below `lo`: the last `lo` parameters; the others: the first `16 - lo`.
    let params = |s: &[f32]| {
        let end = load(&s[s.len() - lo..], ALL);
        assert!(s.len() >= LANES - lo);
        // SAFETY: `next` selects `16 - lo` lanes, so the expanding load reads the first
        // `16 - lo` elements of `s`, which has at least that many (asserted).
        unsafe { _mm512_mask_expandloadu_ps(end, next, s.as_ptr()) }
    };
    let s = if SCALE { params(scale) } else { stats.inv };
    let b = if BIAS { params(bias) } else { stats.inv };
    let (xw, _) = x.as_chunks::<LANES>();
    let (ow, _) = out.as_chunks_mut::<LANES>();
    stream_block(
        &mut ow[0],
        norm_block::<SCALE, BIAS>(load_block(&xw[0]), stats, s, b),
    );
}

/// `out[j] = ((x[j] - shift) - corr) * inv_std [* scale[j]] [+ bias[j]]` (see
/// [`norm_block`] for the rounding), specialised
/// on which affine parameters are present (absent ones are empty slices and never
/// read). Without a bias nothing is added: `y + 0` would turn -0 into +0.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,popcnt")]
#[inline]
fn apply<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    st: &RowStats,
    scale: &[f32],
    bias: &[f32],
    out: &mut [Out],
    backwards: bool,
) {
    let stats = LaneStats::splat(st);
    let inv = stats.inv;
    let norm = |v, s, b| norm_block::<SCALE, BIAS>(v, stats, s, b);
    let (xb, xt) = x.as_chunks::<LANES>();
    let (ob, ot) = out.as_chunks_mut::<LANES>();
    let (sb, stail) = scale.as_chunks::<LANES>();
    let (bb, btail) = bias.as_chunks::<LANES>();
    let mut block = |i: usize| {
        let s = if SCALE { load_block(&sb[i]) } else { inv };
        let b = if BIAS { load_block(&bb[i]) } else { inv };
        store_block(&mut ob[i], norm(load_block(&xb[i]), s, b));
    };
    if backwards {
        (0..xb.len()).rev().for_each(&mut block);
    } else {
        (0..xb.len()).for_each(&mut block);
    }
    if !xt.is_empty() {
        let k = tail_mask(xt.len());
        let s = if SCALE { load(stail, k) } else { inv };
        let b = if BIAS { load(btail, k) } else { inv };
        store(ot, k, norm(load(xt, k), s, b));
    }
}
