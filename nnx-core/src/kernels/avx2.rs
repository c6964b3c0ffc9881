//! AVX2 + FMA path: 8 lanes. Lane masks are `__m256` values with all bits set in kept
//! lanes; masked-out lanes are zeroed with an AND at load time (which also drops
//! NaN/inf there), so they never reach a sum.
//!
//! Rows of up to 256 features are normalised eight at a time ([`short_rows`]); longer
//! rows one at a time, four accumulators per sum. Large outputs of long rows are
//! written with streaming stores ([`streamed_rows`]), rows of 2048-16384 features in
//! column tiles over [`TILE_ROWS`] rows.
//!
//! A partial last block (of a row, or of the piece of a row a helper is given) is read
//! as the last 8 elements, overlapping the block before, with the lanes already summed
//! dropped, and written again whole (equal values from the same formula); only pieces
//! under 8 elements go through a small stack buffer. Neither uses `vmaskmovps`, whose
//! store form is slow on several AMD cores. All raw-pointer work is in [`load`],
//! [`store`], [`load_block`], [`store_block`], [`bool_lanes`], [`lines_of`] and
//! [`stream_half`], which only touch elements inside the slice they are given.

mod short_rows;

use std::arch::x86_64::*;

use super::affine::{Params, with_affine};
use super::direction::walk_backwards;
use super::lines::lines_template;
use super::row::{RowStats, guarded, layer_stats, rms_stats, shifted_pass};
use super::{NormKind, NormSpec, Out, Stores, TILE, TILE_ROWS, TILED_MAX, TILED_MIN, affine};

const LANES: usize = 8;
/// Independent accumulators: hides the 4-cycle add latency and lowers rounding growth.
const UNROLL: usize = 4;
/// Rows at least this long write a large output ([`Stores::Streaming`]) with streaming
/// stores (see [`streamed_rows`]). Against ordinary stores, at 8-64 MiB outputs (min
/// GiB/s of alternated runs): 16384x256 1.45x slower, 8192x512 even, 4096x768 1.05x
/// faster, 2048x2048 1.3x, 16384x1024 1.4-1.8x. (Rows this long share a line with
/// exactly two rows.)
const STREAM_MIN: usize = 768;
/// Elements per 64-byte line.
const LINE: usize = 2 * LANES;

/// Normalises every `features`-long row of `x` into `out` (the row loop lives here so
/// that `row_stats` and `apply` inline into it).
#[target_feature(enable = "avx2,fma")]
pub(super) fn norm_rows(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
    stores: Stores,
) {
    if stores == Stores::Streaming && features >= STREAM_MIN {
        return with_affine!(spec.scale, spec.bias, |SCALE, BIAS, s, b| {
            let p = Params::new(spec, s, b, true);
            match mask {
                None => streamed_rows::<false, SCALE, BIAS>(x, &[], features, &p, out),
                Some(m) => streamed_rows::<true, SCALE, BIAS>(x, m, features, &p, out),
            }
        });
    }
    if features <= short_rows::SHORT_MAX {
        return short_rows::short_rows(x, mask, features, spec, out);
    }
    let rows = x.chunks_exact(features).zip(out.chunks_exact_mut(features));
    match mask {
        None => rows.for_each(|(xr, or)| {
            apply(xr, &row_stats(xr, None, spec.kind, spec.epsilon), spec, or);
        }),
        Some(mask) => rows
            .zip(mask.chunks_exact(features))
            .for_each(|((xr, or), mr)| {
                apply(
                    xr,
                    &row_stats(xr, Some(mr), spec.kind, spec.epsilon),
                    spec,
                    or,
                )
            }),
    }
}

/// One row's statistics (see `scalar::norm_row` for the structure).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn row_stats(x: &[f32], mask: Option<&[bool]>, kind: NormKind, eps: f32) -> RowStats {
    let st = match kind {
        NormKind::LayerNorm => {
            // With nothing kept, `n = 0` and the statistics are NaN, as 0/0. The count
            // is taken once, not again for a second pass.
            let n = mask.map_or(x.len(), kept_count);
            let sums = |shift| {
                let (sum_d, sum_d2) = centred_lanes(x, mask, shift);
                (hsum(sum_d), hsum(sum_d2), n)
            };
            let (shift, sum_d, sum_d2, n) =
                shifted_pass(x, mask, sums).unwrap_or((0.0, 0.0, 0.0, 0));
            layer_stats(shift, sum_d, sum_d2, n, eps)
        }
        NormKind::RmsNorm => {
            let n = mask.map_or(x.len(), kept_count);
            rms_stats(hsum(square_lanes(x, mask)), n, eps)
        }
    };
    guarded(st, x, mask, kind, eps)
}

lines_template! {
    features: "avx2,fma",
    stats: |xr, mr, p| row_stats(xr, MASKED.then_some(mr), p.kind, p.eps),
    shared: |x, prev, st, lo, s, b, out| shared_line::<SCALE, BIAS>(x, [prev, st], lo, s, b, out),
    edge: |x, st, s, b, out| apply_with::<SCALE, BIAS>(x, st, s, b, out),
    body: |x, st, s, b, out, backwards| {
        stream_with::<SCALE, BIAS>(x, st, s, b, lines_of(out), backwards)
    },
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
fn store(out: &mut [Out], v: __m256) {
    if out.len() >= LANES {
        // SAFETY: `out` has at least 8 elements; storeu has no alignment requirement.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().cast(), v) }
    } else {
        let mut buf = [0.0f32; LANES];
        // SAFETY: `buf` has exactly 8 elements.
        unsafe { _mm256_storeu_ps(buf.as_mut_ptr(), v) };
        for (o, &v) in out.iter_mut().zip(&buf) {
            o.write(v);
        }
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
fn store_block(out: &mut [Out; LANES], v: __m256) {
    // SAFETY: the array has 8 elements; storeu has no alignment requirement.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr().cast(), v) }
}

/// The lane mask of a full block of bools.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn bool_block(m: &[bool; LANES]) -> __m256 {
    bool_lanes(m)
}

/// `(Σd, Σd²)` lane-wise with `d = x - shift`, over masked-in lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn centred_lanes(x: &[f32], mask: Option<&[bool]>, shift: f32) -> (__m256, __m256) {
    let shift = _mm256_set1_ps(shift);
    let zero = _mm256_setzero_ps();
    let step = |(sum, squares), v, keep| {
        let d = _mm256_and_ps(_mm256_sub_ps(v, shift), keep);
        (_mm256_add_ps(sum, d), _mm256_fmadd_ps(d, d, squares))
    };
    let merge = |(a, a2), (b, b2)| (_mm256_add_ps(a, b), _mm256_add_ps(a2, b2));
    fold_blocks(x, mask, (zero, zero), step, merge)
}

/// `Σx²` over masked-in lanes, lane-wise and without the count, as [`centred_lanes`].
#[target_feature(enable = "avx2,fma")]
#[inline]
fn square_lanes(x: &[f32], mask: Option<&[bool]>) -> __m256 {
    let step = |acc, v, _| _mm256_fmadd_ps(v, v, acc);
    fold_blocks(x, mask, _mm256_setzero_ps(), step, |a, b| {
        _mm256_add_ps(a, b)
    })
}

/// How many of `mask` are true, counted 8 at a time as integers (on otherwise idle
/// integer ports) rather than lane by lane alongside the sums.
#[inline]
fn kept_count(mask: &[bool]) -> usize {
    let (eights, rest) = mask.as_chunks::<8>();
    let mut total = 0;
    // Each byte of a part's sum counts one position of its eights: at most 255.
    for part in eights.chunks(255) {
        let bytes = part
            .iter()
            .fold(0u64, |sum, m| sum + u64::from_le_bytes(m.map(u8::from)));
        // Neighbouring bytes added into four 16-bit counts, which the multiply adds
        // into the top 16 bits.
        let pairs = (bytes & 0x00FF_00FF_00FF_00FF) + ((bytes >> 8) & 0x00FF_00FF_00FF_00FF);
        total += (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize;
    }
    total + rest.iter().filter(|&&kept| kept).count()
}

/// Runs `step(acc, values, lanes)` over 8-lane blocks, rotating over [`UNROLL`]
/// independent accumulators, and merges them pairwise at the end. `values` is zero
/// outside `lanes`. Full blocks are typed arrays (no bounds checks); the final partial
/// block is [`tail_block`].
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
    match mask {
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
        }
        Some(m) => {
            let (mblocks, _) = m.as_chunks::<LANES>();
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
        }
    }
    if !tail.is_empty() {
        let (v, keep) = tail_block(x, mask);
        acc[0] = step(acc[0], _mm256_and_ps(v, keep), keep);
    }
    merge(merge(acc[0], acc[1]), merge(acc[2], acc[3]))
}

/// The values and kept lanes of the last `x.len() % 8` elements of `x` (a partial
/// block). Where `x` has a whole block before them, this is `x`'s last 8 elements, the
/// lanes already summed dropped: a full load, instead of a copy through a stack buffer
/// (1.3x at 100 features).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tail_block(x: &[f32], mask: Option<&[bool]>) -> (__m256, __m256) {
    debug_assert!(mask.is_none_or(|m| m.len() == x.len()));
    let len = x.len() % LANES;
    match x.last_chunk::<LANES>() {
        Some(last) => {
            // Lanes `8 - len..8`.
            let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let fresh = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32((LANES - 1 - len) as i32));
            let fresh = _mm256_castsi256_ps(fresh);
            let keep = match mask.and_then(|m| m.last_chunk::<LANES>()) {
                Some(m) => _mm256_and_ps(bool_block(m), fresh),
                None => fresh,
            };
            (load_block(last), keep)
        }
        None => {
            let keep = mask.map_or_else(|| tail_lanes(len), |m| bool_lanes(m));
            (load(x), keep)
        }
    }
}

/// `out[j] = ((x[j] - shift) - corr) * (inv_std [* scale[j]]) [+ bias[j]]` for the row
/// `x`, with ordinary stores. (Unlike the streamed rows, which walk backwards where
/// forwards would 4K-alias, these always walk forwards: choosing the direction per row
/// measured 1.1-1.4x slower at 8192x64, 1024x512 and 512x1024, in cache or not.)
#[target_feature(enable = "avx2,fma")]
fn apply(x: &[f32], st: &RowStats, spec: &NormSpec, out: &mut [Out]) {
    with_affine!(spec.scale, spec.bias, |SCALE, BIAS, s, b| {
        apply_with::<SCALE, BIAS>(x, st, s, b, out)
    })
}

/// One 64-byte line of `out`, aligned by its type: two 8-lane halves.
#[repr(C, align(64))]
struct Line([[Out; LANES]; 2]);

/// `out` (line-aligned, a whole number of lines) viewed as [`Line`]s.
fn lines_of(out: &mut [Out]) -> &mut [Line] {
    // SAFETY: `Line` is 16 `Out`s, so any `Out`s are a valid `Line`.
    let (head, lines, tail) = unsafe { out.align_to_mut::<Line>() };
    assert!(head.is_empty() && tail.is_empty());
    lines
}

/// Writes `v` into half `h` (0 or 1) of `line` with a streaming store.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn stream_half(line: &mut Line, h: usize, v: __m256) {
    // SAFETY: a `Line` is 64-byte aligned, so each of its 8-lane halves is 32-byte
    // aligned, as vmovntps needs; indexing keeps the store inside the line.
    unsafe { _mm256_stream_ps(line.0[h].as_mut_ptr().cast(), v) }
}

/// [`apply_with`] into whole lines, with streaming stores.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn stream_with<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    st: &RowStats,
    scale: &[f32],
    bias: &[f32],
    lines: &mut [Line],
    backwards: bool,
) {
    let formula = Formula::splat(st);
    let inv = formula.inv;
    let (xb, _) = x.as_chunks::<LANES>();
    let (sb, _) = scale.as_chunks::<LANES>();
    let (bb, _) = bias.as_chunks::<LANES>();
    let count = lines.len();
    assert!(xb.len() == 2 * count);
    assert!((!SCALE || sb.len() == xb.len()) && (!BIAS || bb.len() == xb.len()));
    let mut line = |i: usize| {
        for h in 0..2 {
            let j = 2 * i + h;
            let s = if SCALE { load_block(&sb[j]) } else { inv };
            let b = if BIAS { load_block(&bb[j]) } else { inv };
            stream_half(
                &mut lines[i],
                h,
                formula.apply::<SCALE, BIAS>(load_block(&xb[j]), s, b),
            );
        }
    };
    if backwards {
        (0..count).rev().for_each(&mut line);
    } else {
        (0..count).for_each(&mut line);
    }
}

/// The line two rows share: its first `lo` elements end the row of statistics
/// `stats[0]`, the rest start the row of `stats[1]`. `x` and `out` are that line, `scale`
/// and `bias` the rows' (the earlier row's last `lo` elements, the later row's first).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn shared_line<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    stats: [&RowStats; 2],
    lo: usize,
    scale: &[f32],
    bias: &[f32],
    out: &mut [Out],
) {
    // Lanes below `lo`: the last `lo` parameters; the others: the first `16 - lo`.
    let window = |p: &[f32]| {
        let mut w = [0.0f32; LINE];
        w[..lo].copy_from_slice(&p[p.len() - lo..]);
        w[lo..].copy_from_slice(&p[..LINE - lo]);
        w
    };
    let (sw, bw) = (SCALE.then(|| window(scale)), BIAS.then(|| window(bias)));
    let (xb, _) = x.as_chunks::<LANES>();
    let [line] = lines_of(out) else {
        unreachable!("a shared line is one line")
    };
    for h in 0..2 {
        // Lane i of this half is element 8h + i of the line: the earlier row's below `lo`.
        let earlier = tail_lanes(lo.saturating_sub(LANES * h));
        let formula = Formula::blend(stats, earlier);
        let part =
            |w: &Option<[f32; LINE]>| w.as_ref().map_or(formula.inv, |w| load(&w[LANES * h..]));
        let v = formula.apply::<SCALE, BIAS>(load_block(&xb[h]), part(&sw), part(&bw));
        stream_half(line, h, v);
    }
}

/// [`apply`] specialised on which affine parameters are present (absent ones are empty
/// slices and never read). Without a bias nothing is added: `y + 0` would turn -0 into +0.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn apply_with<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    st: &RowStats,
    scale: &[f32],
    bias: &[f32],
    out: &mut [Out],
) {
    debug_assert_eq!(x.len(), out.len());
    let formula = Formula::splat(st);
    let inv = formula.inv;
    let norm = |v, s, b| formula.apply::<SCALE, BIAS>(v, s, b);
    let (xb, xt) = x.as_chunks::<LANES>();
    let (ob, _) = out.as_chunks_mut::<LANES>();
    let (sb, stail) = scale.as_chunks::<LANES>();
    let (bb, btail) = bias.as_chunks::<LANES>();
    for (i, (xv, o)) in xb.iter().zip(ob).enumerate() {
        let s = if SCALE { load_block(&sb[i]) } else { inv };
        let b = if BIAS { load_block(&bb[i]) } else { inv };
        store_block(o, norm(load_block(xv), s, b));
    }
    if xt.is_empty() {
        return;
    }
    // `scale` and `bias`, when present, are as long as `x`.
    let last = |p: &[f32]| load(&p[p.len() - LANES..]);
    match (x.last_chunk::<LANES>(), out.last_chunk_mut::<LANES>()) {
        // The row's last 8 elements again, overlapping the blocks just written: each
        // element gets the same value from the same formula, and no stack buffer.
        (Some(xl), Some(ol)) => {
            let s = if SCALE { last(scale) } else { inv };
            let b = if BIAS { last(bias) } else { inv };
            store_block(ol, norm(load_block(xl), s, b));
        }
        _ => {
            let s = if SCALE { load(stail) } else { inv };
            let b = if BIAS { load(btail) } else { inv };
            let body = out.len() - xt.len();
            store(&mut out[body..], norm(load(xt), s, b));
        }
    }
}

/// A row's statistics in every lane, and the output formula of [`apply`].
#[derive(Clone, Copy)]
struct Formula {
    shift: __m256,
    corr: __m256,
    inv: __m256,
}

impl Formula {
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn splat(st: &RowStats) -> Self {
        Formula {
            shift: _mm256_set1_ps(st.shift),
            corr: _mm256_set1_ps(st.corr),
            inv: _mm256_set1_ps(st.inv_std),
        }
    }

    /// `stats[0]` in the lanes of `earlier`, `stats[1]` in the others.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn blend(stats: [&RowStats; 2], earlier: __m256) -> Self {
        let lane = |a: f32, b: f32| _mm256_blendv_ps(_mm256_set1_ps(b), _mm256_set1_ps(a), earlier);
        Formula {
            shift: lane(stats[0].shift, stats[1].shift),
            corr: lane(stats[0].corr, stats[1].corr),
            inv: lane(stats[0].inv_std, stats[1].inv_std),
        }
    }

    /// `((v - shift) - corr) * (inv [* s]) [+ b]`; `s` and `b` are not read when absent.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn apply<const SCALE: bool, const BIAS: bool>(self, v: __m256, s: __m256, b: __m256) -> __m256 {
        let mul = if SCALE {
            _mm256_mul_ps(self.inv, s)
        } else {
            self.inv
        };
        let y = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(v, self.shift), self.corr), mul);
        if BIAS { _mm256_add_ps(y, b) } else { y }
    }
}
