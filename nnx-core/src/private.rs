//! What `#[module]`, `call!` and `vmap!` expansions name, through `nnx::__private`. Not
//! a public API: it changes with the macros, which is why the crates pin each other's
//! exact versions.

pub use crate::arg::IntoArg;
pub use crate::batching::{
    Batch, BatchSize, BatchView, Broadcast, DefaultAxes, IntoAxes, IntoSlot, IntoVmapError, MapArg,
    Mappable, Mapped, Slot, Stackable, Stacked, VmapError, map_examples,
};
pub use crate::{Callable, MethodSignature, ParamInfo, ParamKind, Signatures};
pub use core::marker::PhantomData;
pub use core::option::Option;
pub use core::result::Result;
pub use nnx_macros::vmap;

/// The receiver a vmapped `&self` method runs on.
pub enum Receiver<'m, M> {
    /// One module, shared by every example.
    Broadcast(&'m M),
    /// A stack whose member `i` runs example `i` (`self = 0`).
    Stacked(&'m Stacked<M>),
}

/// The receiver a vmapped `&mut self` method runs on: only a stack, since examples
/// that mutate one shared module would race (NNX finds this at run time).
pub enum ReceiverMut<'m, M> {
    /// A stack whose member `i` runs example `i` (`self = 0`).
    Stacked(&'m mut Stacked<M>),
}

/// Satisfied by every type: the guard of `&self` methods, which may be broadcast.
pub trait MayBroadcast {}
impl<T: ?Sized> MayBroadcast for T {}

/// What `self = 0` in `in_axes` calls on the receiver: a [`Stacked`] module's first
/// member fixes the method's types for the expansion. (A method, so that another
/// receiver is one error at `self`.)
pub trait StackedReceiver {
    /// The members' type.
    type Member;

    /// The first member.
    fn __nnx_first(&self) -> &Self::Member;
}

impl<M> StackedReceiver for Stacked<M> {
    type Member = M;

    fn __nnx_first(&self) -> &M {
        &self.members()[0]
    }
}
