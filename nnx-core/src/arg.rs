//! How `call!` and `vmap!` pass what the user wrote to a parameter of a declared type.

use ndarray::{ArrayBase, ArrayView, Data, Dimension, IxDyn};

/// The conversions `call!` and `vmap!` apply to arguments, so `&x`, `x.view()` and
/// `Some(m)` all fit a parameter declared as a view: the parameter's type is always known,
/// so these never make inference ambiguous.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed as `{T}`",
    label = "expected something that converts to `{T}`",
    note = "arrays are passed by reference or as views (`&x`, `x.view()`); a mapped argument has one more axis than the parameter"
)]
pub trait IntoArg<T> {
    /// The argument, as the parameter's type `T`.
    fn into_arg(self) -> T;
}

impl<T> IntoArg<T> for T {
    fn into_arg(self) -> T {
        self
    }
}

impl<'a, A, S: Data<Elem = A>, D: Dimension> IntoArg<ArrayView<'a, A, D>> for &'a ArrayBase<S, D> {
    fn into_arg(self) -> ArrayView<'a, A, D> {
        self.view()
    }
}

impl<'a, A, S: Data<Elem = A>, D: Dimension> IntoArg<Option<ArrayView<'a, A, D>>>
    for &'a ArrayBase<S, D>
{
    fn into_arg(self) -> Option<ArrayView<'a, A, D>> {
        Some(self.view())
    }
}

impl<'a, A, D: Dimension> IntoArg<Option<ArrayView<'a, A, D>>> for ArrayView<'a, A, D> {
    fn into_arg(self) -> Option<ArrayView<'a, A, D>> {
        Some(self)
    }
}

/// An optional borrowed array, as `mask = mask.as_ref()` passes one.
impl<'a, A, S: Data<Elem = A>, D: Dimension> IntoArg<Option<ArrayView<'a, A, D>>>
    for Option<&'a ArrayBase<S, D>>
{
    fn into_arg(self) -> Option<ArrayView<'a, A, D>> {
        self.map(|array| array.view())
    }
}

/// Fixed-rank arrays also convert to dynamic-rank views (`IxDyn` parameters accept any rank).
macro_rules! into_dyn {
    ($($dim:ty),*) => {$(
        impl<'a, A, S: Data<Elem = A>> IntoArg<ArrayView<'a, A, IxDyn>> for &'a ArrayBase<S, $dim> {
            fn into_arg(self) -> ArrayView<'a, A, IxDyn> {
                self.view().into_dyn()
            }
        }

        impl<'a, A, S: Data<Elem = A>> IntoArg<Option<ArrayView<'a, A, IxDyn>>> for &'a ArrayBase<S, $dim> {
            fn into_arg(self) -> Option<ArrayView<'a, A, IxDyn>> {
                Some(self.view().into_dyn())
            }
        }

        impl<'a, A> IntoArg<ArrayView<'a, A, IxDyn>> for ArrayView<'a, A, $dim> {
            fn into_arg(self) -> ArrayView<'a, A, IxDyn> {
                self.into_dyn()
            }
        }

        impl<'a, A> IntoArg<Option<ArrayView<'a, A, IxDyn>>> for ArrayView<'a, A, $dim> {
            fn into_arg(self) -> Option<ArrayView<'a, A, IxDyn>> {
                Some(self.into_dyn())
            }
        }

        impl<'a, A, S: Data<Elem = A>> IntoArg<Option<ArrayView<'a, A, IxDyn>>>
            for Option<&'a ArrayBase<S, $dim>>
        {
            fn into_arg(self) -> Option<ArrayView<'a, A, IxDyn>> {
                self.map(|array| array.view().into_dyn())
            }
        }

        impl<'a, A> IntoArg<Option<ArrayView<'a, A, IxDyn>>> for Option<ArrayView<'a, A, $dim>> {
            fn into_arg(self) -> Option<ArrayView<'a, A, IxDyn>> {
                self.map(ArrayView::into_dyn)
            }
        }
    )*};
}

into_dyn!(
    ndarray::Ix0,
    ndarray::Ix1,
    ndarray::Ix2,
    ndarray::Ix3,
    ndarray::Ix4,
    ndarray::Ix5,
    ndarray::Ix6
);
