//! `Mappable`: the parameter types `vmap!` can slice into examples.

use ndarray::{ArrayView, Axis, Dimension};

/// A parameter type `vmap!` can map over: given the batched value and the batch axis,
/// it hands out one example at a time. Implemented for array views and optional array
/// views; implement it for your own parameter types to map them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a vmapped method",
    note = "vmap! maps array views (`ArrayView`, `Option<ArrayView>`); give anything else (a scalar, a module) `None` in `in_axes` to broadcast it, implement `nnx::Mappable` for your own types, or mark the method `#[no_vmap]` if it is only called, never vmapped"
)]
pub trait Mappable: Sized {
    /// What the caller passes when the parameter is mapped: the same thing with a batch axis.
    type Batched;

    /// The shape of a batched value, batch axis included.
    fn batched_shape(batched: &Self::Batched) -> &[usize];

    /// Example `index` along `axis` (already checked to be in range).
    /// Errors are messages; the caller adds the argument's name.
    fn example(batched: &Self::Batched, axis: usize, index: usize) -> Result<Self, String>;
}

impl<'a, A, D: Dimension> Mappable for ArrayView<'a, A, D> {
    type Batched = ArrayView<'a, A, D::Larger>;

    fn batched_shape(batched: &Self::Batched) -> &[usize] {
        batched.shape()
    }

    fn example(batched: &Self::Batched, axis: usize, index: usize) -> Result<Self, String> {
        // `D::Larger::Smaller` is `D` for every ndarray dimension, but the type system
        // cannot see it; the conversion below only re-labels the rank.
        batched
            .clone()
            .index_axis_move(Axis(axis), index)
            .into_dimensionality::<D>()
            .map_err(|err| err.to_string())
    }
}

impl<'a, A, D: Dimension> Mappable for Option<ArrayView<'a, A, D>> {
    type Batched = ArrayView<'a, A, D::Larger>;

    fn batched_shape(batched: &Self::Batched) -> &[usize] {
        batched.shape()
    }

    fn example(batched: &Self::Batched, axis: usize, index: usize) -> Result<Self, String> {
        ArrayView::<'a, A, D>::example(batched, axis, index).map(Some)
    }
}

/// The `Batched` type of parameters that are broadcast only (scalars): no value has it,
/// so mapping such a parameter does not compile.
#[derive(Debug, Clone, Copy)]
pub enum NotMappable<T> {
    #[doc(hidden)]
    __Never(std::convert::Infallible, std::marker::PhantomData<T>),
}

macro_rules! broadcast_only {
    ($($ty:ty),*) => {$(
        broadcast_only!(impl [] $ty);
    )*};
    (impl [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> Mappable for $ty {
            type Batched = NotMappable<$ty>;

            fn batched_shape(batched: &Self::Batched) -> &[usize] {
                match *batched {
                    NotMappable::__Never(never, _) => match never {},
                }
            }

            fn example(batched: &Self::Batched, _: usize, _: usize) -> Result<Self, String> {
                match *batched {
                    NotMappable::__Never(never, _) => match never {},
                }
            }
        }
    };
}

broadcast_only!(
    f32, f64, bool, usize, isize, u8, u16, u32, u64, i8, i16, i32, i64
);
// References and owned collections a keyword may take (`#[kw(default = "mean")]
// reduction: &str`, `axes: Vec<isize>`): passed to every example as they are.
broadcast_only!(impl ['a, T: ?Sized] &'a T);
broadcast_only!(impl ['a, T: ?Sized] Option<&'a T>);
broadcast_only!(impl [T] Vec<T>);
broadcast_only!(String, Option<String>);
// A random key (`#[kw] dropout_rng: Option<Key>`): the same key for every example.
broadcast_only!(crate::Key, Option<crate::Key>);
// Optional scalars (`#[kw] deterministic: Option<bool>`, "use the module's setting").
broadcast_only!(
    Option<f32>,
    Option<f64>,
    Option<bool>,
    Option<usize>,
    Option<isize>,
    Option<u32>,
    Option<u64>,
    Option<i32>,
    Option<i64>
);
