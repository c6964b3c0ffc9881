//! Arguments of a vmapped call as `in_axes` made them: broadcast, or mapped on an axis.

use ndarray::{ArrayBase, ArrayView, Data, Dimension};

use super::{Mappable, VmapError};
use crate::axis::resolve_axis;

/// One argument of a vmapped call: the same value for every example, or a batched value
/// with the axis to map. Batching rules receive their arguments in this form, with the
/// axis already checked and made non-negative.
#[derive(Debug, Clone)]
pub enum Slot<T: Mappable> {
    /// The same value for every example (`None` in `in_axes`).
    Broadcast(T),
    /// A value with a batch axis, sliced into one example per index.
    Mapped {
        /// The value, batch axis included.
        batched: T::Batched,
        /// The batch axis; non-negative once [`Slot::check`] has run.
        axis: isize,
    },
}

impl<T: Mappable> Slot<T> {
    /// The mapped axis, once checked (non-negative), or `None` when broadcast.
    pub fn axis(&self) -> Option<usize> {
        match self {
            Slot::Broadcast(_) => None,
            Slot::Mapped { axis, .. } => Some(*axis as usize),
        }
    }

    /// Checks the axis against the batched rank, makes it non-negative, and returns the
    /// batch size (`None` when broadcast).
    pub fn check(&mut self, arg: &'static str) -> Result<Option<usize>, VmapError> {
        let Slot::Mapped { batched, axis } = self else {
            return Ok(None);
        };
        let shape = T::batched_shape(batched);
        let rank = shape.len();
        let resolved = resolve_axis(*axis, rank).ok_or(VmapError::Axis {
            arg,
            axis: *axis,
            rank,
        })?;
        *axis = resolved as isize;
        Ok(Some(shape[resolved]))
    }

    /// Example `index`: a clone when broadcast, a slice along the axis when mapped.
    pub fn example(&self, index: usize, arg: &'static str) -> Result<T, VmapError>
    where
        T: Clone,
    {
        match self {
            Slot::Broadcast(value) => Ok(value.clone()),
            Slot::Mapped { batched, axis } => T::example(batched, *axis as usize, index)
                .map_err(|message| VmapError::Rank { arg, message }),
        }
    }
}

/// How `vmap!` borrows a mapped array: `x`, `&x`, `x.view()` or any reference to them,
/// called as `BatchView::view_of(&x)`, so that mapping something else (a scalar without
/// `None` in `in_axes`, most often) is this message, at the argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be mapped over a batch axis",
    label = "mapped on axis 0 unless in_axes says otherwise",
    note = "vmap! maps arrays; to pass a scalar or another value unchanged to every example, give it `None` in `in_axes`, e.g. `in_axes = (0, rate = None)`"
)]
pub trait BatchView<A, D> {
    /// `ArrayView<'v, A, D>` in every implementation: `vmap!` borrows a mapped argument
    /// through this projection, so where the bound fails the view is an error type and
    /// the conversion after it is not reported too.
    type View<'v>
    where
        Self: 'v,
        A: 'v;

    /// The array, as [`BatchView::View`].
    fn view_of(&self) -> Self::View<'_>;
}

impl<A, S: Data<Elem = A>, D: Dimension> BatchView<A, D> for ArrayBase<S, D> {
    type View<'v>
        = ArrayView<'v, A, D>
    where
        Self: 'v,
        A: 'v;

    fn view_of(&self) -> Self::View<'_> {
        self.view()
    }
}

/// References and owning pointers look through to the array, as method calls did.
macro_rules! through_pointer {
    ($($ptr:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<A, D, V: BatchView<A, D> + ?Sized> BatchView<A, D> for $ptr {
            // Through `V`'s own projection: where `V` is not an array, the view is an
            // error type and the conversion after it is not reported too.
            type View<'v>
                = V::View<'v>
            where
                Self: 'v,
                A: 'v;

            fn view_of(&self) -> Self::View<'_> {
                (**self).view_of()
            }
        }
    )*};
}

through_pointer!(&V, &mut V, Box<V>, std::rc::Rc<V>, std::sync::Arc<V>);
