//! Short rows on the AVX2 path, [`GROUP`] at a time, as the AVX-512 path does with 16:
//! each row is summed lane-wise on its own, the eight rows' horizontal sums are done
//! together by one transposing reduction ([`hsum8`]), and mean, variance, square root
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

use super::super::row::{FAR_SHIFT, RowStats, wide_group_stats};
use super::super::{NormKind, NormSpec};
use super::{
    Formula, LANES, apply_with, bool_block, centred_lanes, kept_count, load_block, square_lanes,
    store_block,
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
    out: &mut [f32],
) {
    match (spec.scale.is_some(), spec.bias.is_some()) {
        (false, false) => rows_with::<false, false>(x, mask, features, spec, out),
        (true, false) => rows_with::<true, false>(x, mask, features, spec, out),
        (false, true) => rows_with::<false, true>(x, mask, features, spec, out),
        (true, true) => rows_with::<true, true>(x, mask, features, spec, out),
    }
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
    out: &mut [f32],
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

/// Short rows of any length. Software-pipelined row by row: row `i` of the next group
/// is summed next to the output of row `i` of this group, so the group's reduction
/// chain (transposing sums, division, square root) overlaps with independent work.
#[target_feature(enable = "avx2,fma")]
fn any_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    features: usize,
    spec: &NormSpec,
    out: &mut [f32],
) {
    let (scale, bias) = (
        spec.scale.unwrap_or_default(),
        spec.bias.unwrap_or_default(),
    );
    let rows = x.len() / features;
    let span = |r: usize| r * features..(r + 1) * features;
    let row_mask = |r: usize| MASKED.then(|| &mask[span(r)]);
    // An unmasked row's mask is empty.
    let mask_span = |r: usize| if MASKED { span(r) } else { 0..0 };
    let mut sums = GroupSums::new();
    for r in 0..GROUP.min(rows) {
        sums.add_any_row::<MASKED>(r, &x[span(r)], &mask[mask_span(r)], spec.kind);
    }
    for start in (0..rows).step_by(GROUP) {
        let group = start..(start + GROUP).min(rows);
        let resum =
            |i: usize, shift| centred_lanes(&x[span(start + i)], row_mask(start + i), shift);
        let stats = sums.finish(spec, resum);
        let stats = stats.guard(x, MASKED.then_some(mask), features, start, spec);
        if rows - group.end < GROUP {
            // Fewer than `GROUP` rows remain. The lanes they leave unused must not keep
            // this group's sums: such a lane could look far, and its re-sum would read
            // a row past the end.
            sums = GroupSums::new();
        }
        for (i, r) in group.enumerate() {
            let next = r + GROUP;
            if next < rows {
                let m = &mask[mask_span(next)];
                sums.add_any_row::<MASKED>(i, &x[span(next)], m, spec.kind);
            }
            let st = stats.row(i);
            apply_with::<SCALE, BIAS>(&x[span(r)], &st, scale, bias, &mut out[span(r)]);
        }
    }
}

/// Short rows of exactly `8 * W` features: [`any_rows`] unrolled at compile time, with
/// each row's sums in a fixed order ([`shifted_sums`]). The group loop repeats
/// [`any_rows`]' rather than sharing it through closures, as the AVX-512 path does
/// (where a shared driver measured 5-8% slower).
#[target_feature(enable = "avx2,fma")]
fn fixed_rows<'a, const W: usize, const MASKED: bool, const SCALE: bool, const BIAS: bool>(
    x: &[f32],
    mask: &[bool],
    spec: &NormSpec<'a>,
    out: &mut [f32],
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
    // it (1.2x at 8192x64 masked). `ahead[i]`: the shift of the next group's row `i`.
    let mut ahead = [0.0; GROUP];
    let mut sums = GroupSums::new();
    for (r, row) in xr.iter().take(GROUP).enumerate() {
        sums.add_fixed_row::<W, MASKED>(r, row, row_mask(r), shift_of(r), spec.kind);
        if MASKED && r + GROUP < xr.len() {
            ahead[r] = shift_of(r + GROUP);
        }
    }
    for start in (0..xr.len()).step_by(GROUP) {
        let group = start..(start + GROUP).min(xr.len());
        let resum = |i: usize, shift| {
            let keep = keep::<W, MASKED>(row_mask(start + i));
            shifted_sums::<W, MASKED>(&xr[start + i], &keep.lanes, shift)
        };
        let stats = sums.finish(spec, resum);
        let stats = stats.guard(x, MASKED.then_some(mask), W * LANES, start, spec);
        if xr.len() - group.end < GROUP {
            // Fewer than `GROUP` rows remain. The lanes they leave unused must not keep
            // this group's sums: such a lane could look far, and its re-sum would read
            // a row past the end.
            sums = GroupSums::new();
        }
        for (i, r) in group.enumerate() {
            let next = r + GROUP;
            if next < xr.len() {
                let k = if MASKED { ahead[i] } else { shift_of(next) };
                sums.add_fixed_row::<W, MASKED>(i, &xr[next], row_mask(next), k, spec.kind);
                if MASKED && next + GROUP < xr.len() {
                    ahead[i] = shift_of(next + GROUP);
                }
            }
            let formula = Formula::splat(&stats.row(i));
            for j in 0..W {
                let s = if SCALE {
                    load_block(&scale[j])
                } else {
                    formula.inv
                };
                let b = if BIAS {
                    load_block(&bias[j])
                } else {
                    formula.inv
                };
                let y = formula.apply::<SCALE, BIAS>(load_block(&xr[r][j]), s, b);
                store_block(&mut or[r][j], y);
            }
        }
    }
}

/// The lane-wise sums of up to [`GROUP`] short rows, row `i` of the group in lane `i`
/// of the statistics.
///
/// LayerNorm takes one pass shifted by the row's first kept element, with a second pass
/// for rows where that element is far from the mean, exactly as `row::shifted_pass`
/// decides per row (see `row::FAR_SHIFT`), here for the whole group in one vector.
struct GroupSums {
    count: [f32; GROUP],
    shift: [f32; GROUP],
    sum: [__m256; GROUP],
    squares: [__m256; GROUP],
}

/// What the output of a group of rows needs, row `i` at index `i`.
struct GroupStats {
    shift: [f32; GROUP],
    corr: [f32; GROUP],
    inv: [f32; GROUP],
    /// Bit `i`: row `i`'s variance overflowed `f32` (`1/sqrt(inf) = 0` with a finite
    /// `eps`); [`GroupStats::guard`] replaces its statistics.
    overflowed: i32,
}

impl GroupSums {
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn new() -> Self {
        let zero = _mm256_setzero_ps();
        GroupSums {
            // Lanes no row is added to keep zero sums over a count of 1: finite
            // statistics, never far, never written.
            count: [1.0; GROUP],
            shift: [0.0; GROUP],
            sum: [zero; GROUP],
            squares: [zero; GROUP],
        }
    }

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

    /// Sums a row of `W` blocks (`mask`: its mask, `None` when unmasked) into lane
    /// `i`, as [`GroupSums::add_any_row`] does for any length; `shift` is the row's
    /// [`first_kept`] element.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn add_fixed_row<const W: usize, const MASKED: bool>(
        &mut self,
        i: usize,
        row: &[[f32; LANES]; W],
        mask: Option<&[[bool; LANES]; W]>,
        shift: f32,
        kind: NormKind,
    ) {
        let RowKeep { lanes: k, count } = keep::<W, MASKED>(mask);
        self.count[i] = count as f32;
        match kind {
            NormKind::LayerNorm => {
                self.shift[i] = shift;
                (self.sum[i], self.squares[i]) = shifted_sums::<W, MASKED>(row, &k, shift);
            }
            NormKind::RmsNorm => {
                let v: [__m256; W] = std::array::from_fn(|j| {
                    let v = kept::<MASKED>(load_block(&row[j]), k[j]);
                    _mm256_mul_ps(v, v)
                });
                self.squares[i] = tree(v);
            }
        }
    }

    /// The group's statistics. `resum(i, shift)` sums row `i` again around `shift`
    /// (`Σd`, `Σd²` lane-wise), for the rows that need a second pass. Rows whose
    /// variance overflowed `f32` are marked in `overflowed` for [`GroupStats::guard`].
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn finish(
        &mut self,
        spec: &NormSpec,
        resum: impl FnMut(usize, f32) -> (__m256, __m256),
    ) -> GroupStats {
        let n = load_block(&self.count);
        let (corr, var) = match spec.kind {
            NormKind::LayerNorm => {
                layer_group_stats(&self.sum, &self.squares, n, &mut self.shift, resum)
            }
            NormKind::RmsNorm => (_mm256_setzero_ps(), _mm256_div_ps(hsum8(&self.squares), n)),
        };
        let var_eps = _mm256_add_ps(var, _mm256_set1_ps(spec.epsilon));
        let inv = _mm256_div_ps(_mm256_set1_ps(1.0), _mm256_sqrt_ps(var_eps));
        let zero_inv = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(inv, _mm256_setzero_ps()));
        GroupStats {
            shift: self.shift,
            corr: to_array(corr),
            inv: to_array(inv),
            overflowed: if spec.epsilon.is_finite() {
                zero_inv
            } else {
                0
            },
        }
    }
}

impl GroupStats {
    /// The statistics, with those of rows whose variance overflowed `f32` computed again
    /// in `f64` (`row::wide_stats`); the group's rows start at row `start` of `x`.
    #[inline]
    fn guard(
        self,
        x: &[f32],
        mask: Option<&[bool]>,
        features: usize,
        start: usize,
        spec: &NormSpec,
    ) -> Self {
        if self.overflowed == 0 {
            return self;
        }
        self.replace_overflowed(x, mask, features, start, spec.kind, spec.epsilon)
    }

    /// [`GroupStats::guard`]'s rare part, out of line so that the group loop keeps its
    /// registers.
    #[cold]
    #[inline(never)]
    fn replace_overflowed(
        mut self,
        x: &[f32],
        mask: Option<&[bool]>,
        features: usize,
        start: usize,
        kind: NormKind,
        eps: f32,
    ) -> Self {
        // Lanes past the last row of a short group are never marked: their sums are 0,
        // so their `inv` is `1/sqrt(eps)`, not 0.
        let overflowed = self.overflowed as u32;
        for (i, st) in wide_group_stats(overflowed, x, mask, features, start, kind, eps) {
            (self.shift[i], self.corr[i], self.inv[i]) = (st.shift, st.corr, st.inv_std);
        }
        self
    }

    /// Row `i`'s statistics.
    fn row(&self, i: usize) -> RowStats {
        RowStats {
            shift: self.shift[i],
            corr: self.corr[i],
            inv_std: self.inv[i],
        }
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

/// `(Σd, Σd²)` lane-wise over the kept lanes of one fixed-width row, `d = x - shift`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn shifted_sums<const W: usize, const MASKED: bool>(
    row: &[[f32; LANES]; W],
    keep: &[__m256; W],
    shift: f32,
) -> (__m256, __m256) {
    let sh = _mm256_set1_ps(shift);
    let d: [__m256; W] =
        std::array::from_fn(|j| kept::<MASKED>(_mm256_sub_ps(load_block(&row[j]), sh), keep[j]));
    let squares = d[1..]
        .iter()
        .fold(_mm256_mul_ps(d[0], d[0]), |a, &d| _mm256_fmadd_ps(d, d, a));
    (tree(d), squares)
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

/// LayerNorm `(corr, var)` of a group, lane by lane as `row::layer_stats`, from the
/// rows' lane-wise shifted sums and kept counts `n`. Rows whose shift is far from their
/// mean are summed again by `resum(i, shift)` around the mean just found, which becomes
/// their `shift`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn layer_group_stats(
    sum: &[__m256; GROUP],
    squares: &[__m256; GROUP],
    n: __m256,
    shift: &mut [f32; GROUP],
    mut resum: impl FnMut(usize, f32) -> (__m256, __m256),
) -> (__m256, __m256) {
    let zero = _mm256_setzero_ps();
    // `max(0, var)` returns `var` when it is NaN (vmaxps returns its second operand).
    let finish = |sum: &[__m256; GROUP], squares: &[__m256; GROUP]| {
        let corr = _mm256_div_ps(hsum8(sum), n);
        let squares = hsum8(squares);
        let var = _mm256_sub_ps(_mm256_div_ps(squares, n), _mm256_mul_ps(corr, corr));
        // An overflowed `Σd²` keeps the variance infinite, not `inf - inf`, as in
        // `row::layer_stats`, so that `GroupStats::guard` sees it.
        let inf = _mm256_set1_ps(f32::INFINITY);
        let overflow = _mm256_cmp_ps::<_CMP_EQ_OQ>(squares, inf);
        let var = _mm256_blendv_ps(var, inf, overflow);
        (corr, _mm256_max_ps(zero, var))
    };
    let (corr, var) = finish(sum, squares);
    let far_limit = _mm256_mul_ps(_mm256_set1_ps(FAR_SHIFT), var);
    let far = _mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_mul_ps(corr, corr), far_limit);
    let far_rows = _mm256_movemask_ps(far);
    if far_rows == 0 {
        return (corr, var);
    }
    let first_corr = to_array(corr);
    let (mut sum, mut squares) = ([zero; GROUP], [zero; GROUP]);
    // Lanes past the last row of a short group have zero sums: never far.
    for i in 0..GROUP {
        if far_rows & (1 << i) != 0 {
            shift[i] += first_corr[i];
            (sum[i], squares[i]) = resum(i, shift[i]);
        }
    }
    let (corr2, var2) = finish(&sum, &squares);
    (
        _mm256_blendv_ps(corr, corr2, far),
        _mm256_blendv_ps(var, var2, far),
    )
}

/// `lanes[i]` = horizontal sum of `v[i]` for all eight rows at once: three levels of
/// pairwise adds that transpose as they go. Every row's lanes are added in the same
/// pattern, `((0+1)+(2+3)) + ((4+5)+(6+7))`, whatever its position, so a row's sum does
/// not depend on the other rows.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn hsum8(v: &[__m256; GROUP]) -> __m256 {
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

#[target_feature(enable = "avx2,fma")]
#[inline]
fn to_array(v: __m256) -> [f32; GROUP] {
    let mut a = [0.0; GROUP];
    store_block(&mut a, v);
    a
}
