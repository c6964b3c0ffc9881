//! Run-time errors: what only the data can reveal. Each message names the argument or path.

use crate::VarKind;
use crate::kernels::KernelError;

/// Why [`Module::update`](crate::Module::update) refused a state. Nothing was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("the state has `{path}` but the module has no variable at that path")]
    UnknownPath { path: String },
    #[error(
        "the state has no `{path}`: a state holding {kind}s must hold every {kind} of the module; \
         use `update_partial` to update a subset"
    )]
    MissingPath { path: String, kind: VarKind },
    #[error("`{path}` has shape {found:?} in the state but {expected:?} in the module")]
    ShapeMismatch {
        path: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("`{path}` is a {found} in the state but a {expected} in the module")]
    KindMismatch {
        path: String,
        expected: VarKind,
        found: VarKind,
    },
}

/// Why a layer's forward pass refused its inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    #[error("{module}: `{arg}` has shape {found:?}; {expected}")]
    Shape {
        module: &'static str,
        arg: &'static str,
        found: Vec<usize>,
        expected: String,
    },
    #[error("{module}: `mask` of shape {mask:?} does not broadcast to `x` of shape {x:?}")]
    MaskShape {
        module: &'static str,
        mask: Vec<usize>,
        x: Vec<usize>,
    },
    #[error("{module}: axis {axis} of `{arg}` is out of range for rank {rank}")]
    Axis {
        module: &'static str,
        arg: &'static str,
        axis: isize,
        rank: usize,
    },
    /// The normalisation kernel refused the call (an unusable `NNX_ISA`, say). The
    /// message includes the kernel's, so it is not also given as the `source`.
    #[error("{module}: {error}")]
    Kernel {
        module: &'static str,
        error: KernelError,
    },
}
