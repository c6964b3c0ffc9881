//! Short rows on the AVX2 path, [`GROUP`] at a time, as the AVX-512 path does with 16:
//! each row is summed lane-wise on its own, the eight rows' horizontal sums are done
//! together by one transposing reduction ([`hsum_rows`]), and mean, variance, square root
//! and division run once per group in one vector, each lane seeing only its own row.
//! Rows of a few blocks otherwise spend most of their time in those per-row chains:
//! against one row at a time (min GiB/s of alternated runs, unmasked / masked, with
//! what was added since: the unrolled widths, the masked shift looked up ahead),
//! 8192x64 19.6 -> 40.7 / 12.6 -> 31.2, 4096x128 26.2 -> 40.2 / 17.9 -> 28.6,
//! 2048x256 30.3 -> 40.4 / 23.8 -> 25.3; RMSNorm 8192x64 28 -> 44.
//!
//! Which scheme a row takes depends on its length alone, and each lane of a group's
//! arithmetic sees only its own row, so a row's result never depends on the rows it
//! is grouped with (which keeps `Threads::Auto` bitwise equal to `Single`).

use std::arch::x86_64::*;

use super::super::affine::with_affine;
use super::super::group::{group_template, pipelined_groups};
use super::super::row::{FAR_SHIFT, RowStats, wide_group_stats};
use super::super::{NormKind, NormSpec, Out, block_as_out};
use super::{
    Formula, LANES, apply_with, bool_block, centred_lanes, kept_count, load_block, square_lanes,
    store_block,
};
// The intrinsics `group_template!` computes with, by the names it uses on every path.
use std::arch::x86_64::{
    _mm256_add_ps as add_ps, _mm256_cmp_ps as cmp_ps, _mm256_div_ps as div_ps,
    _mm256_fmadd_ps as fmadd_ps, _mm256_max_ps as max_ps, _mm256_mul_ps as mul_ps,
    _mm256_set1_ps as set1_ps, _mm256_setzero_ps as setzero_ps, _mm256_sqrt_ps as sqrt_ps,
    _mm256_sub_ps as sub_ps,
};

/// Rows up to this long take the grouped scheme.
pub(super) const SHORT_MAX: usize = 256;
/// Rows normalised together: one per lane of the statistics.
const GROUP: usize = LANES;

/// Normalises every `features`-long row of `x` (`features <= SHORT_MAX`) into `out`.
#[target_feature(enable = "avx2,fma")]
pub(super) fn short_rows(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
) {
    with_affine!(spec.scale, spec.bias, |SCALE, BIAS, _s, _b| {
        rows_with::<SCALE, BIAS>(x, mask, features, spec, out)
    })
}

/// [`short_rows`] specialised on the affine parameters present. Rows of 16, 32, 64 and
/// 128 features are unrolled ([`fixed_rows`]): against [`any_rows`] before it was
/// specialised on the mask (min GiB/s, alternated), 32768x16 7.4 -> 21-25, 16384x32
/// 13.6 -> 36 (masked 5.6 -> 20.5, 9.7 -> 26).
/// Unrolling 256 features was slower (37 -> 28: 32 blocks spill).
#[target_feature(enable = "avx2,fma")]
fn rows_with<const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
) {
    match (mask, features) {
        (None, 16) => fixed_rows::<2, false, SCALE, BIAS>(x, &[], spec, out),
        (Some(m), 16) => fixed_rows::<2, true, SCALE, BIAS>(x, m, spec, out),
        (None, 32) => fixed_rows::<4, false, SCALE, BIAS>(x, &[], spec, out),
        (Some(m), 32) => fixed_rows::<4, true, SCALE, BIAS>(x, m, spec, out),
        (None, 64) => fixed_rows::<8, false, SCALE, BIAS>(x, &[], spec, out),
        (Some(m), 64) => fixed_rows::<8, true, SCALE, BIAS>(x, m, spec, out),
        (None, 128) => fixed_rows::<16, false, SCALE, BIAS>(x, &[], spec, out),
        (Some(m), 128) => fixed_rows::<16, true, SCALE, BIAS>(x, m, spec, out),
        (None, _) => any_rows::<false, SCALE, BIAS>(x, &[], features, spec, out),
        (Some(m), _) => any_rows::<true, SCALE, BIAS>(x, m, features, spec, out),
    }
}

/// Short rows of any length, software-pipelined by [`pipelined_groups`].
#[target_feature(enable = "avx2,fma")]
fn any_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
) {
    let (scale, bias) = (
        spec.scale.unwrap_or_default(),
        spec.bias.unwrap_or_default(),
    );
    let span = |r: usize| r * features..(r + 1) * features;
    let row_mask = |r: usize| MASKED.then(|| &mask[span(r)]);
    // An unmasked row's mask is empty.
    let mask_span = |r: usize| if MASKED { span(r) } else { 0..0 };
    pipelined_groups! {
        rows: x.len() / features,
        spec: (spec.kind, spec.epsilon),
        guard: (x, MASKED.then_some(mask), features),
        add: |sums, i, r| {
            sums.add_any_row::<MASKED>(i, &x[span(r)], &mask[mask_span(r)], spec.kind)
        },
        resum: |r, shift| centred_lanes(&x[span(r)], row_mask(r), shift),
        write: |stats, i, r| {
            let st = stats.row(i);
            apply_with::<SCALE, BIAS>(&x[span(r)], &st, scale, bias, &mut out[span(r)])
        },
    }
}

/// Short rows of exactly `8 * W` features: [`any_rows`] unrolled at compile time, with
/// each row's sums in a fixed order (`shifted_sums`).
#[target_feature(enable = "avx2,fma")]
fn fixed_rows<'a, const W: usize, const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    spec: &NormSpec<'a>,
    out: &mut [Out],
) {
    // Stands in for an absent `scale` or `bias` (never read then).
    let absent = [[0.0; LANES]; W];
    let blocks = |p: Option<&'a [f32]>| p.and_then(|p| p.as_chunks::<LANES>().0.first_chunk::<W>());
    let full = |p: Option<&[f32]>| p.is_none_or(|p| p.len() == W * LANES);
    debug_assert!(full(spec.scale) && full(spec.bias));
    let (scale, bias) = (
        blocks(spec.scale).unwrap_or(&absent),
        blocks(spec.bias).unwrap_or(&absent),
    );
    let (xr, _) = x.as_chunks::<LANES>();
    let (xr, _) = xr.as_chunks::<W>();
    let (or, _) = out.as_chunks_mut::<LANES>();
    let (or, _) = or.as_chunks_mut::<W>();
    let (mr, _) = mask.as_chunks::<LANES>();
    let (mr, _) = mr.as_chunks::<W>();
    let row_mask = |r: usize| if MASKED { Some(&mr[r]) } else { None };
    let shift_of = |r: usize| match spec.kind {
        NormKind::LayerNorm => first_kept::<W, MASKED>(&xr[r], row_mask(r)),
        NormKind::RmsNorm => 0.0,
    };
    // A masked row's shift is looked up a group before its sums need it: finding its
    // first kept element is a chain of dependent loads, which held up the sums behind
    // it (1.2x at 8192x64 masked). `ahead[i]`: the shift of the next row summed into
    // lane `i`.
    let mut ahead = [0.0; GROUP];
    if MASKED {
        for (r, a) in ahead.iter_mut().enumerate().take(xr.len()) {
            *a = shift_of(r);
        }
    }
    pipelined_groups! {
        rows: xr.len(),
        spec: (spec.kind, spec.epsilon),
        guard: (x, MASKED.then_some(mask), W * LANES),
        add: |sums, i, r| {
            let k = if MASKED { ahead[i] } else { shift_of(r) };
            let keep = keep::<W, MASKED>(row_mask(r));
            sums.add_fixed_row::<W, MASKED>(i, &xr[r], keep, k, spec.kind);
            if MASKED && r + GROUP < xr.len() {
                ahead[i] = shift_of(r + GROUP);
            }
        },
        resum: |r, shift| {
            let keep = keep::<W, MASKED>(row_mask(r));
            shifted_sums::<W, MASKED>(&xr[r], &keep.lanes, shift)
        },
        write: |stats, i, r| {
            let formula = Formula::splat(&stats.row(i));
            for j in 0..W {
                let s = if SCALE { load_block(&scale[j]) } else { formula.inv };
                let b = if BIAS { load_block(&bias[j]) } else { formula.inv };
                let y = formula.apply::<SCALE, BIAS>(load_block(&xr[r][j]), s, b);
                store_block(&mut or[r][j], y);
            }
        },
    }
}

group_template! {
    features: "avx2,fma",
    vector: __m256,
    mask: __m256,
    blend: |m, a, b| _mm256_blendv_ps(a, b, m),
    bits: |m| _mm256_movemask_ps(m) as u32,
    kept_sub: |v, shift, keep| kept::<MASKED>(_mm256_sub_ps(v, shift), keep),
    kept_square: |v, keep| {
        let v = kept::<MASKED>(v, keep);
        _mm256_mul_ps(v, v)
    },
}

/// A row's lane-wise sums as a group keeps them: as they are, 8 lanes already (the
/// AVX-512 path folds its 16 to 8).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn halve(v: __m256) -> __m256 {
    v
}

impl GroupSums {
    /// Sums `row` (`mask`: its mask) into lane `i`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn add_any_row<const MASKED: bool>(
        &mut self,
        i: usize,
        row: &[f32],
        mask: &[bool],
        kind: NormKind,
    ) {
        // Known at compile time, so that the sums inline without the other case.
        let mask = MASKED.then_some(mask);
        match kind {
            NormKind::LayerNorm => {
                // With nothing kept the count is 0 and the statistics NaN whatever the
                // shift.
                let first = mask.map_or(Some(0), first_kept_index);
                self.shift[i] = first.map_or(0.0, |j| row[j]);
                (self.sum[i], self.squares[i]) = centred_lanes(row, mask, self.shift[i]);
            }
            NormKind::RmsNorm => self.squares[i] = square_lanes(row, mask),
        }
        let n = mask.map_or(row.len(), kept_count);
        self.count[i] = n as f32;
    }
}

/// Which elements of a fixed-width row the mask keeps.
struct RowKeep<const W: usize> {
    /// Lane mask per block.
    lanes: [__m256; W],
    count: usize,
}

/// [`RowKeep`] of a fixed-width row from its mask (`None`: every element kept).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn keep<const W: usize, const MASKED: bool>(mask: Option<&[[bool; LANES]; W]>) -> RowKeep<W> {
    match mask {
        Some(mask) if MASKED => {
            let lanes: [__m256; W] = std::array::from_fn(|j| bool_block(&mask[j]));
            RowKeep {
                lanes,
                count: kept_count(mask.as_flattened()),
            }
        }
        _ => RowKeep {
            lanes: [_mm256_castsi256_ps(_mm256_set1_epi32(-1)); W],
            count: W * LANES,
        },
    }
}

/// A fixed-width row's first kept element (its first element when unmasked), the
/// LayerNorm shift; 0 when nothing is kept, where the count is 0 and the statistics
/// NaN whatever the shift. The bools are read 8 at a time as integers.
#[inline]
fn first_kept<const W: usize, const MASKED: bool>(
    row: &[[f32; LANES]; W],
    mask: Option<&[[bool; LANES]; W]>,
) -> f32 {
    let Some(mask) = mask.filter(|_| MASKED) else {
        return row[0][0];
    };
    first_kept_index(mask.as_flattened()).map_or(0.0, |j| row.as_flattened()[j])
}

/// The index of the first true bool, found 8 bools at a time as an integer: a loop
/// over single bools costs a branch per element.
#[inline]
fn first_kept_index(mask: &[bool]) -> Option<usize> {
    let (eights, rest) = mask.as_chunks::<8>();
    // `from_le_bytes` puts bool 0 in the lowest byte, so the first true bool is the
    // lowest set byte.
    let whole = eights.iter().enumerate().find_map(|(j, m)| {
        let bits = u64::from_le_bytes(m.map(u8::from));
        (bits != 0).then(|| 8 * j + bits.trailing_zeros() as usize / 8)
    });
    whole.or_else(|| Some(8 * eights.len() + rest.iter().position(|&kept| kept)?))
}

/// `v` with the lanes outside `keep` zeroed (unmasked rows keep every lane).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn kept<const MASKED: bool>(v: __m256, keep: __m256) -> __m256 {
    if MASKED { _mm256_and_ps(v, keep) } else { v }
}

/// Pairwise sum of `W` vectors, neighbours first (a fixed order, which is all that
/// keeps rows independent of each other; `W` a power of two).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tree<const W: usize>(mut v: [__m256; W]) -> __m256 {
    const { assert!(W.is_power_of_two()) };
    let mut n = W;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            v[i] = _mm256_add_ps(v[2 * i], v[2 * i + 1]);
        }
    }
    v[0]
}

/// `lanes[i]` = horizontal sum of `v[i]` for all eight rows at once: three levels of
/// pairwise adds that transpose as they go. Every row's lanes are added in the same
/// pattern, `((0+1)+(2+3)) + ((4+5)+(6+7))`, whatever its position, so a row's sum does
/// not depend on the other rows.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn hsum_rows(v: &[__m256; GROUP]) -> __m256 {
    // Per 128-bit half, rows 2k and 2k + 1 as [a0+a1, a2+a3, b0+b1, b2+b3].
    let pairs: [__m256; 4] = std::array::from_fn(|k| _mm256_hadd_ps(v[2 * k], v[2 * k + 1]));
    // Per 128-bit half, the sums of four lanes of rows 0-3 and of rows 4-7.
    let low_rows = _mm256_hadd_ps(pairs[0], pairs[1]);
    let high_rows = _mm256_hadd_ps(pairs[2], pairs[3]);
    // Each row's lower half plus its upper half.
    let lower = _mm256_permute2f128_ps::<0x20>(low_rows, high_rows);
    let upper = _mm256_permute2f128_ps::<0x31>(low_rows, high_rows);
    _mm256_add_ps(lower, upper)
}
