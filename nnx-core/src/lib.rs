//! Runtime of nnx: variables, module state, the `vmap!` runtime, layers and the
//! normalisation kernels. Users depend on the `nnx` facade, which re-exports all of this
//! together with the macros.

// All `unsafe` code is in `kernels` and checkpoint's memory map; the compiler holds the
// rest of the crate to that.
#![deny(unsafe_code)]

// The macros generate `::nnx::...` paths; this makes them resolve inside this crate too,
// where the layers are themselves `#[module]`s.
extern crate self as nnx;

mod arg;
mod axis;
pub mod batching;
mod buffer;
pub mod checkpoint;
pub mod error;
mod fast_math;
pub mod init;
#[allow(unsafe_code)]
pub mod kernels;
pub mod layers;
mod matmul;
mod mode;
mod module;
pub mod nn;
mod node;
mod path;
mod private;
mod rngs;
mod signature;
pub mod state;
mod tree;
mod variable;

pub use arg::IntoArg;
pub use batching::{Batch, Mappable, Slot, Stackable, Stacked, UserError, VmapError};
pub use checkpoint::CheckpointError;
pub use error::{ForwardError, StateError};
pub use init::Initializer;
pub use layers::{
    AttentionConfig, BatchNorm, BatchNormConfig, Conv, ConvConfig, ConvTranspose,
    ConvTransposeConfig, Dropout, Embed, GroupNorm, GroupNormConfig, LayerNorm, Linear,
    LinearGeneral, MultiHeadAttention, NormConfig, Padding, RmsNorm, Sequential,
};
pub use mode::Mode;
pub use module::Module;
pub use node::{Node, Visit, VisitMut};
pub use path::{Path, Segment};
pub use rngs::{Key, RngStream, Rngs};
pub use signature::{Callable, MethodSignature, ParamInfo, ParamKind, Signatures};
pub use state::{State, Variable};
pub use tree::Tree;
pub use variable::{BatchStat, Cache, Param, ParseVarKindError, VarKind};

/// Derives the module machinery on a struct and records forward methods' signatures on
/// an impl block. The macro's own reference follows this example.
///
/// ```
/// use nnx::prelude::*;
///
/// #[module]                                  // state walk, update, train/eval, tree
/// struct Scaler {
///     scale: Param<Array1<f32>>,
///     #[module(skip)]                        // configuration, never state
///     name: &'static str,
/// }
///
/// #[module]                                  // signatures and keyword support
/// impl Scaler {
///     #[call]                                // what `call!(s(x))` and `vmap!(s(xs))` run
///     pub fn forward(&self, x: ArrayView1<'_, f32>, #[kw(default = 1.0)] gain: f32) -> Array1<f32> {
///         &x * &*self.scale * gain
///     }
/// }
///
/// let s = Scaler { scale: Param::new(Array1::from(vec![1.0, 2.0])), name: "s" };
/// assert_eq!(s.state().get("scale").map(|v| v.kind), Some(VarKind::Param));
/// let x = Array1::from(vec![3.0f32, 4.0]);
/// assert_eq!(call!(s(&x, gain = 2.0)), Array1::from(vec![6.0, 16.0]));
/// ```
pub use nnx_macros::module;

/// Calls a module's method with keyword arguments, resolved when the code compiles. The
/// macro's own reference follows this example.
///
/// ```
/// use nnx::prelude::*;
///
/// let ln = LayerNorm::new(4);
/// let x = Array2::<f32>::from_shape_fn((2, 4), |(i, j)| (i * 4 + j) as f32);
/// let m = Array2::from_shape_fn((2, 4), |(_, j)| j != 3);
///
/// let y = call!(ln(&x))?;                     // the #[call] method; `mask` is None
/// let y_masked = call!(ln(&x, mask = &m))?;   // keywords by name, after positionals
/// let same = call!(ln.forward(&x, mask = &m))?; // a method by name
/// assert_eq!(y_masked, same);
/// assert_ne!(y, y_masked);                   // the mask changed the statistics
/// # Ok::<(), nnx::ForwardError>(())
/// ```
///
/// Works however the crate is reached, as [`vmap!`] does.
#[macro_export]
macro_rules! call {
    ($($input:tt)*) => {
        $crate::__private::call! { $crate; $($input)* }
    };
}

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
///
/// ```
/// use nnx::prelude::*;
///
/// let ln = LayerNorm::new(8);
/// let xs = Array2::<f32>::from_shape_fn((5, 8), |(i, j)| (i * j) as f32);
/// let ms = Array2::from_shape_fn((5, 8), |(i, j)| (i + j) % 3 != 0);
///
/// // The keyword Flax's nnx.vmap cannot map, resolved to its slot at compile time.
/// let ys = vmap!(ln(xs, mask = ms))?;
/// assert_eq!(ys.index_axis(Axis(0), 2), call!(ln(xs.row(2), mask = ms.row(2)))?);
///
/// // Examples along axis 1, outputs' batch axis last, one mask broadcast to all.
/// let xt = xs.t();
/// let m = ms.row(0);
/// let yt = vmap!(ln(xt, mask = m), in_axes = (1, mask = None), out_axes = -1)?;
/// assert_eq!(yt.index_axis(Axis(1), 4), call!(ln(xs.row(4), mask = m))?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! vmap {
    ($($input:tt)*) => {
        $crate::__private::vmap! { $crate; $($input)* }
    };
}

/// Applies the members of a [`Stacked`] module in turn, each to the previous one's
/// output, as `nnx.scan` over a stack of layers; returns the last output as
/// `Result<_, E>`, `E` being the members' error (the first `Err` stops the scan):
///
/// * `scan!(layers(x))`: member 0 on `x`, member 1 on its output, and so on;
/// * `scan!(layers(x, mask = m))`: every argument but the first (the carry) is
///   evaluated once and passed to each member;
/// * `scan!(layers.method(x, ..))`: a named method instead of the `#[call]` one;
/// * `scan!(layers(x), out_axes = 0)`: members return `(carry, output)`; the result is
///   `(last carry, outputs stacked along the axis)` and the error a `VmapError` (Flax's
///   `out_axes=(nnx.Carry, 0)`).
///
/// Each member call is a [`call!`], checked the same way: a misspelled keyword, or a
/// member whose output cannot be its next input, is a compile error. Members with a
/// `&mut self` method (BatchNorm in training) are borrowed mutably, each updating its
/// own state.
///
/// ```
/// use nnx::prelude::*;
///
/// let mut rngs = Rngs::new(0);
/// let layers = Stacked::new(6, |_| Linear::new(8, 8, &mut rngs));
/// let x = Array2::<f32>::ones((2, 8));
/// let y = scan!(layers(&x))?;
///
/// let mut h = x.clone().into_dyn();                  // the same, written out
/// for layer in layers.members() {
///     h = call!(layer(&h))?;
/// }
/// assert_eq!(y, h);
/// # Ok::<(), ForwardError>(())
/// ```
#[macro_export]
macro_rules! scan {
    ($($input:tt)*) => {
        $crate::__private::scan! { $crate; $($input)* }
    };
}

/// The array crate nnx is built on, so a user crate needs one dependency line.
pub use ndarray;
/// The traits [`Key`] implements (`Rng` for raw numbers, `SeedableRng`), at the version
/// nnx uses, so a layer of your own draws from an [`Rngs`] stream without a second
/// dependency to keep in step.
pub use rand_chacha::rand_core;
/// Distributions to sample with a [`Key`] (`StandardNormal`, `Bernoulli`, ...).
pub use rand_distr;

// The traits whose names rustc prints when a macro is misused: reachable at the root,
// rustc writes them as `ModuleMethods`, not `nnx::__private::ModuleMethods`.
#[doc(hidden)]
pub use private::{
    CallMethod, Keywords, Methods, ModuleBorrow, ModuleMethods, Mutable, Needs, ScanMembers,
    ScanOutputs, Shared, StackedReceiver, VmapKeywords, VmapMethods,
};

/// What generated code names; not a public API (see `private.rs`).
#[doc(hidden)]
pub mod __private {
    pub use crate::private::*;
}

/// `use nnx::prelude::*;` brings the macros, the traits whose methods you call, the
/// common types, and ndarray's usual array types.
pub mod prelude {
    pub use ndarray::{
        Array, Array1, Array2, ArrayD, ArrayView, ArrayView1, ArrayView2, ArrayViewD, Axis,
    };

    pub use crate::{
        BatchNorm, BatchStat, Callable, Conv, Dropout, Embed, ForwardError, GroupNorm, LayerNorm,
        Linear, Mode, Module, MultiHeadAttention, Node, NormConfig, Param, RmsNorm, Rngs,
        Signatures, Stacked, State, VarKind, VmapError, call, module, scan, vmap,
    };
}
