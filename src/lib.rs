#![doc = include_str!("../README.md")]

// The API, item by item: a new `pub` item in nnx-core is not API until it is listed here.
pub use nnx_core::{
    Batch, BatchStat, Callable, ForwardError, Initializer, Key, LayerNorm, Linear, Mappable,
    MethodSignature, Mode, Module, Node, NormConfig, Param, ParamInfo, ParamKind,
    ParseVarKindError, Path, RmsNorm, RngStream, Rngs, Segment, Signatures, Slot, Stacked, State,
    StateError, Tree, UserError, VarKind, Variable, Visit, VisitMut, VmapError, call, module,
};
pub use nnx_core::{error, init, kernels, layers, prelude, state};
pub use nnx_core::{ndarray, rand_core, rand_distr};
// The `vmap!` macro and the `vmap` module (its runtime types) share the name.
pub use nnx_core::vmap;

#[doc(hidden)]
pub use nnx_core::__private;
