//! Stacking per-example outputs into batched ones, and the per-example loop.

use ndarray::{Array, Array1, ArrayView, Axis, Dimension};

use super::{IntoVmapError, VmapError};
use crate::axis::resolve_axis;

/// A per-example output that `vmap!` knows how to stack into a batched output.
#[diagnostic::on_unimplemented(
    message = "vmap! cannot stack outputs of type `{Self}`",
    note = "vmapped methods return arrays, scalars, pairs of those, or a `Result` of them whose error is a `std::error::Error + Send + Sync` (or a `String`); mark a method `#[no_vmap]` if it is only called, never vmapped"
)]
pub trait Stackable: Sized {
    /// The stacked output: an array with one more axis, or a tuple of those.
    type Batched;
    /// One axis per array in the output (`isize` for one array, a tuple for a tuple).
    type Axes: Copy;

    /// Stacks the examples' outputs, each batch axis where `axes` puts it; for `Result`
    /// outputs, the first error is returned instead (as `VmapError::Example`).
    fn stack(items: Vec<Self>, axes: Self::Axes) -> Result<Self::Batched, VmapError>;

    /// Whether this example failed: the examples after it are not run (a stacked
    /// `&mut self` method stops mutating members at the first failure).
    fn is_failure(&self) -> bool {
        false
    }
}

/// The loop `vmap!` runs where no batching rule applies: `example(index)` for every
/// index below `size`, stopping after the first failure (so a stacked `&mut self`
/// method leaves the later members untouched), then the outputs stacked along `axes`.
pub fn map_examples<O: Stackable>(
    size: usize,
    axes: O::Axes,
    mut example: impl FnMut(usize) -> Result<O, VmapError>,
) -> Result<O::Batched, VmapError> {
    let mut outputs = Vec::with_capacity(size);
    for index in 0..size {
        let output = example(index)?;
        let failed = output.is_failure();
        outputs.push(output);
        if failed {
            break;
        }
    }
    O::stack(outputs, axes)
}

/// Where the batch axis goes in an output whose examples have `rank` axes.
fn insert_axis(axis: isize, rank: usize) -> Result<usize, VmapError> {
    resolve_axis(axis, rank + 1).ok_or(VmapError::OutAxis {
        axis,
        rank: rank + 1,
    })
}

impl<A: Clone, D: Dimension> Stackable for Array<A, D> {
    type Batched = Array<A, D::Larger>;
    type Axes = isize;

    fn stack(items: Vec<Self>, axis: isize) -> Result<Self::Batched, VmapError> {
        // No example ran, so nothing tells the shape (or rank) of one: an error, not a
        // guess, and the first one, before `out_axes` is checked against a guessed rank.
        let Some(first) = items.first() else {
            return Err(VmapError::EmptyBatch);
        };
        let axis = insert_axis(axis, first.ndim())?;
        let views: Vec<ArrayView<'_, A, D>> = items.iter().map(|item| item.view()).collect();
        ndarray::stack(Axis(axis), &views).map_err(|err| VmapError::Rank {
            arg: "output",
            message: format!("examples have different shapes: {err}"),
        })
    }
}

/// Scalars stack into a 1-D array.
macro_rules! scalar_outputs {
    ($($ty:ty),*) => {$(
        impl Stackable for $ty {
            type Batched = Array1<$ty>;
            type Axes = isize;

            fn stack(items: Vec<Self>, axis: isize) -> Result<Self::Batched, VmapError> {
                insert_axis(axis, 0)?;
                Ok(Array1::from(items))
            }
        }
    )*};
}

scalar_outputs!(f32, f64, bool, usize, isize, u32, u64, i32, i64);

/// Methods that only mutate their module return nothing per example, and nothing batched.
impl Stackable for () {
    type Batched = ();
    type Axes = isize;

    fn stack(_: Vec<Self>, _: isize) -> Result<(), VmapError> {
        Ok(())
    }
}

impl<T: Stackable, E: IntoVmapError> Stackable for Result<T, E> {
    type Batched = T::Batched;
    type Axes = T::Axes;

    fn stack(items: Vec<Self>, axes: Self::Axes) -> Result<Self::Batched, VmapError> {
        let mut oks = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Ok(value) => oks.push(value),
                Err(err) => {
                    return Err(VmapError::Example {
                        index,
                        error: Box::new(err.into_vmap_error()),
                    });
                }
            }
        }
        T::stack(oks, axes)
    }

    fn is_failure(&self) -> bool {
        match self {
            Ok(ok) => ok.is_failure(),
            Err(_) => true,
        }
    }
}

impl<T1: Stackable, T2: Stackable> Stackable for (T1, T2) {
    type Batched = (T1::Batched, T2::Batched);
    type Axes = (T1::Axes, T2::Axes);

    fn stack(items: Vec<Self>, axes: Self::Axes) -> Result<Self::Batched, VmapError> {
        let (first, second): (Vec<T1>, Vec<T2>) = items.into_iter().unzip();
        Ok((T1::stack(first, axes.0)?, T2::stack(second, axes.1)?))
    }

    fn is_failure(&self) -> bool {
        self.0.is_failure() || self.1.is_failure()
    }
}
