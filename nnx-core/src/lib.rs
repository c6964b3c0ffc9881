//! Runtime of nnx: variables, module state, the `vmap!` runtime, layers and the
//! normalisation kernels. Users depend on the `nnx` facade, which re-exports all of this
//! together with the macros.

// The macros generate `::nnx::...` paths; this makes them resolve inside this crate too,
// where the layers are themselves `#[module]`s.
extern crate self as nnx;

mod axis;
pub mod error;
pub mod init;
pub mod kernels;
pub mod layers;
mod mode;
mod module;
mod node;
mod path;
mod rngs;
mod signature;
pub mod state;
mod tree;
mod variable;
pub mod vmap;

pub use error::{ForwardError, StateError};
pub use init::Initializer;
pub use layers::{LayerNorm, Linear, NormConfig, RmsNorm};
pub use mode::Mode;
pub use module::Module;
pub use node::{Node, Visit, VisitMut};
pub use path::{Path, Segment};
pub use rngs::{Key, RngStream, Rngs};
pub use signature::{MethodSignature, ParamInfo, ParamKind, Signatures};
pub use state::{State, Variable};
pub use tree::Tree;
pub use variable::{BatchStat, Param, VarKind};
pub use vmap::{Batch, Mappable, Slot, Stacked, UserError, VmapError};

pub use nnx_macros::{call, module};

/// Vectorizes a module call or a closure over a batch axis, returning
/// `Result<_, nnx::VmapError>`:
///
/// * `vmap!(ln(xs, mask = ms))`: every argument mapped on axis 0;
/// * `vmap!(ln(xs, mask = ms), in_axes = (1, mask = None), out_axes = 1)`;
/// * `vmap!(ensemble(xs), in_axes = (0, self = 0))` over a `Stacked` module;
/// * `vmap!(ln(x), in_axes = None, axis_size = n)`;
/// * `vmap!(|op: &LayerNorm, x: ArrayViewD<f32>| op(x), in_axes = (None, 0))`: a closure.
///
/// Works however the crate is reached (renamed in `Cargo.toml`, or re-exported by
/// another crate): the expansion names the runtime through this macro's `$crate`.
#[macro_export]
macro_rules! vmap {
    ($($input:tt)*) => {
        $crate::__private::vmap! { $crate; $($input)* }
    };
}

/// The array crate nnx is built on, so a user crate needs one dependency line.
pub use ndarray;

/// What generated code names; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::vmap::{
        Batch, BatchSize, BatchView, Broadcast, DefaultAxes, IntoArg, IntoAxes, IntoSlot,
        IntoVmapError, MapArg, Mappable, Mapped, Slot, Stacked, Unbatched, VmapError,
    };
    pub use core::marker::PhantomData;
    pub use core::result::Result;
    pub use nnx_macros::vmap;

    /// The receiver a vmapped `&self` method runs on.
    pub enum Receiver<'m, M> {
        Broadcast(&'m M),
        Stacked(&'m Stacked<M>),
    }

    /// The receiver a vmapped `&mut self` method runs on: only a stack, since examples
    /// that mutate one shared module would race (NNX finds this at run time).
    pub enum ReceiverMut<'m, M> {
        Stacked(&'m mut Stacked<M>),
    }

    /// Satisfied by every type: the guard of `&self` methods, which may be broadcast.
    pub trait MayBroadcast {}
    impl<T: ?Sized> MayBroadcast for T {}
}

/// `use nnx::prelude::*;` brings the macros, the traits whose methods you call, the
/// common types, and ndarray's usual array types.
pub mod prelude {
    pub use ndarray::{
        Array, Array1, Array2, ArrayD, ArrayView, ArrayView1, ArrayView2, ArrayViewD, Axis,
    };

    pub use crate::{
        BatchStat, ForwardError, LayerNorm, Linear, Mode, Module, Node, NormConfig, Param, RmsNorm,
        Rngs, Signatures, Stacked, State, VarKind, VmapError, call, module, vmap,
    };
}
