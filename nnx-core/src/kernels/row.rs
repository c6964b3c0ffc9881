//! Turning per-row sums into the statistics every path applies; shared by all paths so
//! they differ only in how the sums are accumulated.

/// What the output pass needs: `y = ((x - shift) - corr) * (inv_std [* scale]) [+ bias]`.
///
/// For LayerNorm `shift + corr` is the mean: `shift` is the first-pass mean and `corr`
/// the correction recovered by the second pass. For RMSNorm both are zero, and
/// `(x - 0) - 0 == x` for every `x` (including -0 and NaN), so one formula serves both.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    let var = sum_d2 / n - corr * corr;
    let var = if var < 0.0 { 0.0 } else { var };
    RowStats {
        shift,
        corr,
        inv_std: inv_std(var, eps),
    }
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

/// Full-precision `1/sqrt(var + eps)` (no approximate rsqrt instruction).
#[inline]
fn inv_std(var: f32, eps: f32) -> f32 {
    1.0 / (var + eps).sqrt()
}
