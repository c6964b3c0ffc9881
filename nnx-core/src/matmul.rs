//! The one matrix product every layer uses (Linear, Embed::attend, LinearGeneral,
//! attention), so that its backend can change in one place.

use ndarray::{Array2, ArrayView2};

/// `a · b` for `[m, k] · [k, n]`, into a new row-major `[m, n]` array.
pub(crate) fn matmul(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Array2<f32> {
    a.dot(&b)
}
