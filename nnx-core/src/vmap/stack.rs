use ndarray::{Array, Array1, ArrayView, Axis, Dimension, IxDyn};

use super::{IntoVmapError, VmapError};
use crate::axis::resolve_axis;

/// A per-example output that `vmap!` knows how to stack into a batched output.
#[diagnostic::on_unimplemented(
    message = "vmap! cannot stack outputs of type `{Self}`",
    note = "vmapped methods return arrays, scalars, pairs of those, or a `Result` of them whose error is a `std::error::Error + Send + Sync` (or a `String`); mark a method `#[no_vmap]` if it is only called, never vmapped"
)]
pub trait Unbatched: Sized {
    type Batched;
    /// One axis per array in the output (`isize` for one array, a tuple for a tuple).
    type Axes: Copy;

    fn stack(items: Vec<Self>, axes: Self::Axes) -> Result<Self::Batched, VmapError>;

    /// Whether this example failed: the examples after it are not run (a stacked
    /// `&mut self` method stops mutating members at the first failure).
    fn is_failure(&self) -> bool {
        false
    }
}

/// Where the batch axis goes in an output whose examples have `rank` axes.
fn insert_axis(axis: isize, rank: usize) -> Result<usize, VmapError> {
    resolve_axis(axis, rank + 1).ok_or(VmapError::OutAxis {
        axis,
        rank: rank + 1,
    })
}

impl<A: Clone, D: Dimension> Unbatched for Array<A, D> {
    type Batched = Array<A, D::Larger>;
    type Axes = isize;

    fn stack(items: Vec<Self>, axis: isize) -> Result<Self::Batched, VmapError> {
        let rank = items
            .first()
            .map_or(D::NDIM.unwrap_or(0), |item| item.ndim());
        let axis = insert_axis(axis, rank)?;
        let views: Vec<ArrayView<'_, A, D>> = items.iter().map(|item| item.view()).collect();
        if views.is_empty() {
            // An empty batch: the per-example shape is unknown, so every axis is empty.
            let shape = IxDyn(&vec![0; rank + 1]);
            return Array::from_shape_vec(shape, Vec::new())
                .and_then(|empty| empty.into_dimensionality())
                .map_err(|err| VmapError::Rank {
                    arg: "output",
                    message: err.to_string(),
                });
        }
        ndarray::stack(Axis(axis), &views).map_err(|err| VmapError::Rank {
            arg: "output",
            message: format!("examples have different shapes: {err}"),
        })
    }
}

/// Scalars stack into a 1-D array.
macro_rules! scalar_outputs {
    ($($ty:ty),*) => {$(
        impl Unbatched for $ty {
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
impl Unbatched for () {
    type Batched = ();
    type Axes = isize;

    fn stack(_: Vec<Self>, _: isize) -> Result<(), VmapError> {
        Ok(())
    }
}

impl<T: Unbatched, E: IntoVmapError> Unbatched for Result<T, E> {
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
                        source: Box::new(err.into_vmap_error()),
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

impl<T1: Unbatched, T2: Unbatched> Unbatched for (T1, T2) {
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
