//! Turning per-row (or per-chunk) sums into the statistics every path applies; shared
//! by all paths so they differ only in how the sums are accumulated.

use super::NormKind;

/// What the output pass needs: `y = ((x - shift) - corr) * (inv_std [* scale]) [+ bias]`.
///
/// For LayerNorm `shift + corr` is the mean: `shift` is the first-pass mean and `corr`
/// the correction recovered by the second pass. For RMSNorm both are zero, and
/// `(x - 0) - 0 == x` for every `x` (including -0 and NaN), so one formula serves both.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct RowStats {
    pub shift: f32,
    pub corr: f32,
    pub inv_std: f32,
}

/// The first-pass LayerNorm mean. `n == 0` gives 0/0 = NaN, which turns the row into NaN
/// as Flax does.
#[inline]
pub(super) fn first_mean(sum: f32, n: usize) -> f32 {
    sum / n as f32
}

/// LayerNorm statistics from the second pass over `d = x - shift` (masked-in only):
/// `sum_d = Σd`, `sum_d2 = Σd²`.
///
/// Corrected two-pass: the exact mean is `shift + Σd/n`, and
/// `var = Σ(d - c)²/n = Σd²/n - c²` with `c = Σd/n`. Because `c` is tiny next to the
/// spread of `d`, the subtraction loses nothing; it can only dip below zero by rounding
/// on (near-)constant rows, so clamp there (NaN passes the clamp unchanged).
#[inline]
pub(super) fn layer_stats(shift: f32, sum_d: f32, sum_d2: f32, n: usize, eps: f32) -> RowStats {
    let n = n as f32;
    let corr = sum_d / n;
    // An overflowed `Σd²` keeps the variance infinite, not `inf - inf` when `corr²`
    // overflows too, so that `guarded` sees it.
    let var = if sum_d2 == f32::INFINITY {
        f32::INFINITY
    } else {
        sum_d2 / n - corr * corr
    };
    let var = if var < 0.0 { 0.0 } else { var };
    RowStats {
        shift,
        corr,
        inv_std: inv_std(var, eps),
    }
}

/// A shifted single pass (`Σd`, `Σd²` with `d = x - k` for an element `k` of the row)
/// loses `log2(1 + c²/var)` bits to cancellation, `c = Σd/n` being the mean's distance
/// from `k`. Where `c² > FAR_SHIFT · var` (`k` over ~3.9 standard deviations from the
/// mean: about 1 Gaussian row in 9000, or an outlier channel as `k`) the paths that take
/// such a pass sum again around the mean just found, so none loses more than 4 bits.
pub(super) const FAR_SHIFT: f32 = 15.0;

/// Whether shifted sums over `n` elements call for a second pass (see [`FAR_SHIFT`]).
/// False when the sums are NaN (or `n == 0`): the row is NaN either way; and when
/// `Σd²` overflowed, which [`guarded`] handles.
#[inline]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only the x86 paths shift
fn shift_is_far(sum_d: f32, sum_d2: f32, n: usize) -> bool {
    let n = n as f32;
    let corr = sum_d / n;
    corr * corr > FAR_SHIFT * (sum_d2 / n - corr * corr)
}

/// The shifted single pass over one row (or chunk) `x`: `sums(k)` gives `(Σd, Σd², n)`
/// over the kept elements with `d = x - k`. Shifts by the first kept element, and sums
/// again around the mean when that element is far from it ([`FAR_SHIFT`]). Returns the
/// shift used and its sums, or `None` when `mask` keeps nothing.
#[inline]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only the x86 paths shift
pub(super) fn shifted_pass(
    x: &[f32],
    mask: Option<&[bool]>,
    mut sums: impl FnMut(f32) -> (f32, f32, usize),
) -> Option<(f32, f32, f32, usize)> {
    let first = mask.map_or(Some(0), |m| m.iter().position(|&kept| kept))?;
    let mut shift = *x.get(first)?;
    let (mut sum_d, mut sum_d2, n) = sums(shift);
    if shift_is_far(sum_d, sum_d2, n) {
        shift += sum_d / n as f32;
        (sum_d, sum_d2, _) = sums(shift);
    }
    Some((shift, sum_d, sum_d2, n))
}

/// RMSNorm statistics from `sum_sq = Σx²` over the `n` masked-in elements.
#[inline]
pub(super) fn rms_stats(sum_sq: f32, n: usize, eps: f32) -> RowStats {
    RowStats {
        shift: 0.0,
        corr: 0.0,
        inv_std: inv_std(sum_sq / n as f32, eps),
    }
}

/// Whether `st` comes from a variance beyond `f32`'s range, which [`wide_stats`]
/// recomputes:
///
/// - overflowed: finite inputs whose squares sum past `f32::MAX` (deviations of about
///   1.8e19/√n and up) give `1/sqrt(inf) = 0`, which would turn the row into its bias,
///   as Flax's `f32` code does. An infinite `eps` gives a legitimate 0. Infinite inputs
///   can land here too (RMSNorm) and get the same result from [`wide_stats`]. Every
///   path marks a sum that overflowed this way (an infinite `Σd²` keeps the variance
///   infinite). The paths that take a first-pass mean (scalar, NEON) can also see
///   it overflow, elements near ±f32::MAX summing past it in one lane: a mean that is
///   not finite comes here too (infinite or NaN elements also do, and stay NaN).
/// - underflowed: with `eps = 0`, a row of subnormal spread has a variance of 0 in
///   `f32`, so `inv_std` is infinite. Its output is ±inf (NaN where `x` is the mean) on
///   every path, as in Flax's `f32` code, since `1/std` itself is beyond `f32`; but the
///   paths' own shifts and corrections differ in their last bits, and with an infinite
///   factor so would the outputs, so the row takes the one `f64` shift instead.
#[inline]
fn overflowed(st: &RowStats, eps: f32) -> bool {
    (st.inv_std == 0.0 && eps.is_finite()) || st.inv_std == f32::INFINITY || !st.shift.is_finite()
}

/// `st`, or, when its variance is beyond `f32` ([`overflowed`]), the row's statistics
/// computed again in `f64` ([`wide_stats`]). Every path guards its rows this way, so
/// they agree on such rows and match the `f64` reference; other rows are untouched.
#[inline]
pub(super) fn guarded(
    st: RowStats,
    x: &[f32],
    mask: Option<&[bool]>,
    kind: NormKind,
    eps: f32,
) -> RowStats {
    if overflowed(&st, eps) {
        wide_stats(x, mask, kind, eps)
    } else {
        st
    }
}

/// A row's statistics by two passes in `f64`, for the rare rows whose `f32` variance
/// overflows: `f64` holds the squares of any `f32`, and `1/sqrt(var + eps)` of such a
/// variance fits an `f32` again (subnormal beyond a standard deviation of ~8.5e37).
/// `shift + corr` carries the mean as in [`ChunkMerge::layer_stats`].
#[cold]
#[inline(never)]
fn wide_stats(x: &[f32], mask: Option<&[bool]>, kind: NormKind, eps: f32) -> RowStats {
    let kept = || {
        x.iter()
            .enumerate()
            .filter(move |&(i, _)| mask.is_none_or(|m| m[i]))
            .map(|(_, &v)| f64::from(v))
    };
    let n = kept().count() as f64;
    let mean = match kind {
        NormKind::LayerNorm => kept().sum::<f64>() / n,
        NormKind::RmsNorm => 0.0,
    };
    let var = kept().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let shift = mean as f32;
    RowStats {
        shift,
        corr: (mean - f64::from(shift)) as f32,
        inv_std: (1.0 / (var + f64::from(eps)).sqrt()) as f32,
    }
}

/// [`wide_stats`] of the rows of a group whose bit is set in `overflowed` (bit `i`: row
/// `start + i` of `x`, rows of `features` elements), as `(i, stats)`; the grouped short
/// rows of the SIMD paths use it where a lane's variance overflowed.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only the x86 paths group
pub(super) fn wide_group_stats<'a>(
    overflowed: u32,
    x: &'a [f32],
    mask: Option<&'a [bool]>,
    features: usize,
    start: usize,
    kind: NormKind,
    eps: f32,
) -> impl Iterator<Item = (usize, RowStats)> + 'a {
    // A partial group's unused lanes can be marked too (their empty sums give an
    // infinite `inv` with `eps = 0`); they have no row to recompute.
    (0..u32::BITS as usize)
        .filter(move |&i| overflowed & (1 << i) != 0 && (start + i + 1) * features <= x.len())
        .map(move |i| {
            let span = (start + i) * features..(start + i + 1) * features;
            let m = mask.map(|m| &m[span.clone()]);
            (i, wide_stats(&x[span], m, kind, eps))
        })
}

/// Full-precision `1/sqrt(var + eps)` (no approximate rsqrt instruction).
#[inline]
fn inv_std(var: f32, eps: f32) -> f32 {
    1.0 / (var + eps).sqrt()
}

/// Exact merge of per-chunk statistics of one row (Chan et al.), in `f64` so the merge
/// itself adds no error worth speaking of: the `f32` work stays inside each chunk, where
/// the sums are short and centred.
///
/// Chunks without kept elements contribute nothing; a row with none at all gives NaN
/// statistics (as `0/0` in the unchunked formulas), and NaN/inf in any chunk's sums make
/// the whole row NaN, as they do unchunked.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only the AVX-512 path chunks
pub(super) struct ChunkMerge {
    n: f64,
    mean: f64,
    m2: f64,
    sum_sq: f64,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl ChunkMerge {
    pub fn new() -> Self {
        ChunkMerge {
            n: 0.0,
            mean: 0.0,
            m2: 0.0,
            sum_sq: 0.0,
        }
    }

    /// LayerNorm: a chunk of `n > 0` kept elements with first-pass mean `shift` and
    /// `sum_d = Σd`, `sum_d2 = Σd²` over `d = x - shift`.
    #[inline]
    pub fn add_centred(&mut self, n: usize, shift: f32, sum_d: f32, sum_d2: f32) {
        let nc = n as f64;
        if sum_d2 == f32::INFINITY || shift.is_infinite() {
            // The chunk's sums overflowed (finite inputs whose sum or squares pass
            // `f32::MAX`): `Σd` may be infinite too, and its `inf - inf` would make the
            // row NaN where [`guarded`] can recover it. An infinite variance is the mark
            // it looks for, as in `layer_stats`; NaN from a later chunk still wins.
            self.n += nc;
            self.m2 += f64::INFINITY;
            return;
        }
        let (sum_d, sum_d2) = (f64::from(sum_d), f64::from(sum_d2));
        // Chunk mean and centred sum of squares: Σ(d - c)² = Σd² - c·Σd with c = Σd/n.
        let mean_c = f64::from(shift) + sum_d / nc;
        let m2_c = sum_d2 - sum_d * (sum_d / nc);
        let total = self.n + nc;
        let delta = mean_c - self.mean;
        self.mean += delta * (nc / total);
        self.m2 += m2_c + delta * delta * (self.n * nc / total);
        self.n = total;
    }

    /// RMSNorm: a chunk of `n` kept elements with `sum_sq = Σx²`.
    #[inline]
    pub fn add_squares(&mut self, n: usize, sum_sq: f32) {
        self.n += n as f64;
        self.sum_sq += f64::from(sum_sq);
    }

    /// The LayerNorm row statistics: `shift + corr` carries the mean to ~`f64` accuracy.
    pub fn layer_stats(&self, eps: f32) -> RowStats {
        let mean = if self.n == 0.0 { f64::NAN } else { self.mean };
        let shift = mean as f32;
        let corr = (mean - f64::from(shift)) as f32;
        // NaN from a poisoned chunk (or from 0/0) passes the clamp unchanged.
        let var = (self.m2 / self.n) as f32;
        let var = if var < 0.0 { 0.0 } else { var };
        RowStats {
            shift,
            corr,
            inv_std: inv_std(var, eps),
        }
    }

    /// The RMSNorm row statistics.
    pub fn rms_stats(&self, eps: f32) -> RowStats {
        RowStats {
            shift: 0.0,
            corr: 0.0,
            inv_std: inv_std((self.sum_sq / self.n) as f32, eps),
        }
    }
}
