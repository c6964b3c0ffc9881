#![doc = include_str!("../README.md")]

// The API, item by item: a new `pub` item in nnx-core is not API until it is listed here.
pub use nnx_core::{
    AttentionConfig, Batch, BatchNorm, BatchNormConfig, BatchStat, Cache, Callable,
    CheckpointError, Conv, ConvConfig, ConvTranspose, ConvTransposeConfig, Dropout, Embed,
    ForwardError, GroupNorm, GroupNormConfig, Initializer, IntoArg, Key, LayerNorm, Linear,
    LinearGeneral, Mappable, MethodSignature, Mode, Module, MultiHeadAttention, Node, NormConfig,
    Padding, Param, ParamInfo, ParamKind, ParseVarKindError, Path, RmsNorm, RngStream, Rngs,
    Segment, Sequential, Signatures, Slot, Stackable, Stacked, State, StateError, Tree, UserError,
    VarKind, Variable, Visit, VisitMut, VmapError, call, module,
};
pub use nnx_core::{batching, checkpoint, error, init, kernels, layers, nn, prelude, state};
pub use nnx_core::{ndarray, rand_core, rand_distr};
pub use nnx_core::{scan, vmap};

#[doc(hidden)]
pub use nnx_core::__private;
// Named in rustc's messages when a macro is misused; at the root, they print short.
#[doc(hidden)]
pub use nnx_core::{
    CallMethod, Keywords, Methods, ModuleBorrow, ModuleMethods, Mutable, Needs, ScanMembers,
    ScanOutputs, Shared, StackedReceiver, VmapKeywords, VmapMethods,
};
