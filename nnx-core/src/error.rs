//! Run-time errors: what only the data can reveal. Each message names the argument or path.

use crate::VarKind;
use crate::kernels::KernelError;

/// Why [`Module::update`](crate::Module::update) refused a state. Nothing was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The state has a variable at a path where the module has none.
    #[error("the state has `{path}` but the module has no variable at that path")]
    UnknownPath {
        /// The dotted path, as in the state (`norm.scale`).
        path: String,
    },
    /// A full update's state lacks a variable of a kind it holds others of.
    #[error(
        "the state has no `{path}`: a state holding {kind}s must hold every {kind} of the module; \
         use `update_partial` to update a subset"
    )]
    MissingPath {
        /// The module's path that the state lacks (the first in declaration order).
        path: String,
        /// The kind of the missing variable.
        kind: VarKind,
    },
    /// A variable's shape in the state differs from its shape in the module.
    #[error("`{path}` has shape {found:?} in the state but {expected:?} in the module")]
    ShapeMismatch {
        /// The variable's dotted path.
        path: String,
        /// Its shape in the module.
        expected: Vec<usize>,
        /// Its shape in the state.
        found: Vec<usize>,
    },
    /// A variable's kind in the state differs from its kind in the module.
    #[error("`{path}` is a {found} in the state but a {expected} in the module")]
    KindMismatch {
        /// The variable's dotted path.
        path: String,
        /// Its kind in the module.
        expected: VarKind,
        /// Its kind in the state.
        found: VarKind,
    },
    /// The stacked layout needs every member to hold the variable, with one shape.
    #[error(
        "`{path}` cannot be stacked: {detail}; the stacked layout needs members of equal \
         shapes (the per-member `state()` takes any)"
    )]
    MemberMismatch {
        /// The variable's path within a member.
        path: String,
        /// The first member that differs from member 0.
        member: usize,
        /// How it differs, in words.
        detail: String,
    },
    /// A stacked-layout variable's leading axis does not count the ensemble's members.
    #[error(
        "`{path}` has shape {found:?} in the stacked state: its first axis must count the \
         {members} members"
    )]
    MemberCount {
        /// The variable's path within a member.
        path: String,
        /// The ensemble's number of members.
        members: usize,
        /// The variable's shape in the state.
        found: Vec<usize>,
    },
}

/// Why a layer's forward pass refused its inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// An input, or a parameter the layer holds, has a shape the layer cannot use.
    #[error("{module}: `{arg}` has shape {found:?}; {expected}")]
    Shape {
        /// The layer that refused the input, as it prints (`LayerNorm`).
        module: &'static str,
        /// The argument or parameter at fault (`x`, `scale`, `bias`).
        arg: &'static str,
        /// Its shape.
        found: Vec<usize>,
        /// What the layer expects instead, in words.
        expected: String,
    },
    /// `mask` does not broadcast to the shape of `x`.
    #[error("{module}: `mask` of shape {mask:?} does not broadcast to `x` of shape {x:?}")]
    MaskShape {
        /// The layer that refused the input, as it prints (`LayerNorm`).
        module: &'static str,
        /// The shape of `mask`.
        mask: Vec<usize>,
        /// The shape of `x`.
        x: Vec<usize>,
    },
    /// An axis of the layer's configuration is out of range for the input's rank.
    #[error("{module}: axis {axis} of `{arg}` is out of range for rank {rank}")]
    Axis {
        /// The layer that refused the input, as it prints (`LayerNorm`).
        module: &'static str,
        /// The configuration field that names the axis (`reduction_axes`, `feature_axes`).
        arg: &'static str,
        /// The axis as configured (negative counts from the end).
        axis: isize,
        /// The rank of `x` (of one example, under `vmap!`).
        rank: usize,
    },
    /// An index is out of range for the table it looks up (Flax returns NaN there).
    #[error(
        "{module}: `{arg}` holds {index} at position {position:?}, out of range for {len} \
         rows (valid: -{len}..{len})"
    )]
    Index {
        /// The layer that refused the input (`Embed`).
        module: &'static str,
        /// The argument holding the index.
        arg: &'static str,
        /// The index as given.
        index: i64,
        /// Where it is in the argument.
        position: Vec<usize>,
        /// The number of rows of the table.
        len: usize,
    },
    /// A layer's configuration does not fit its input or itself (`num_heads` not
    /// dividing the features, a group count not dividing the channels, ...).
    #[error("{module}: {message}")]
    Config {
        /// The layer, as it prints.
        module: &'static str,
        /// What does not fit, naming the options involved.
        message: String,
    },
    /// The normalisation kernel refused the call (an unusable `NNX_ISA`, say). The
    /// message includes the kernel's, so it is not also given as the `source`.
    #[error("{module}: {error}")]
    Kernel {
        /// The layer whose kernel failed, as it prints (`LayerNorm`).
        module: &'static str,
        /// The kernel's error.
        error: KernelError,
    },
}
