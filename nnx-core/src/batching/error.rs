//! `VmapError`, and how a vmapped method's own errors become one.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::ForwardError;

/// What only the data can reveal when vectorizing. Every message names the argument.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VmapError {
    /// Two things that set the batch size disagree: mapped arguments, `axis_size`, or a
    /// stacked module.
    #[error(
        "batch sizes disagree: {} but {}",
        sized(.first, *.first_size, " along its mapped axis"),
        sized(.second, *.second_size, "")
    )]
    BatchSize {
        /// What set the size first: an argument's name, `self` (a stacked module) or
        /// `(axis_size)`.
        first: &'static str,
        /// The size it set.
        first_size: usize,
        /// What disagreed with it, named the same way.
        second: &'static str,
        /// The size it had.
        second_size: usize,
    },
    /// An `in_axes` axis is out of range for its argument.
    #[error("in_axes: axis {axis} of `{arg}` is out of range for its rank {rank}")]
    Axis {
        /// The argument's name.
        arg: &'static str,
        /// The axis as given in `in_axes` (negative counts from the end).
        axis: isize,
        /// The rank of the batched argument.
        rank: usize,
    },
    /// An `out_axes` axis is out of range for an output.
    #[error(
        "out_axes: axis {axis} is out of range for an output of rank {rank} (batch axis included)"
    )]
    OutAxis {
        /// The axis as given in `out_axes` (negative counts from the end).
        axis: isize,
        /// The output's rank, batch axis included.
        rank: usize,
    },
    /// Nothing sets the batch size: every argument is broadcast and no `axis_size` was given.
    #[error(
        "nothing is mapped: every argument is broadcast (None in in_axes) and no `axis_size` was given"
    )]
    NothingMapped,
    /// The batch has no examples, and no batching rule knows the output's shape.
    #[error(
        "the batch is empty: vmap! runs this method once per example, so no example tells \
         the shape of the output; skip empty batches, or give the module a batching rule \
         (`#[batched(..)]`) that knows it"
    )]
    EmptyBatch,
    /// An example could not be taken from a mapped argument (its rank does not fit), or
    /// the examples' outputs do not stack (their shapes differ).
    #[error("`{arg}`: {message}")]
    Rank {
        /// The argument's name, or `output` for the stacked outputs.
        arg: &'static str,
        /// What went wrong.
        message: String,
    },
    /// Example `index` failed; the runs after it did not happen. The message includes
    /// `error`'s, so it is not also given as the `source` (a chain printer would repeat it).
    #[error("example {index}: {error}")]
    Example {
        /// The example's index along the batch axis.
        index: usize,
        /// Its error.
        error: Box<VmapError>,
    },
    /// A layer refused its input: from a batching rule, which runs the whole batch, or
    /// inside `Example` for one example.
    #[error(transparent)]
    Forward(#[from] ForwardError),
    /// An example's error of the user's own type.
    #[error(transparent)]
    User(UserError),
}

/// One side of a batch-size disagreement, in the words of what set it: an argument
/// (`where_` says where its size was read), `axis_size`, or a stacked module.
fn sized(name: &str, size: usize, where_: &str) -> String {
    match name {
        super::batch::AXIS_SIZE => format!("`axis_size` is {size}"),
        // `self` is a keyword: no argument has that name.
        "self" => format!("the stacked module has {size} members"),
        arg => format!("`{arg}` has {size}{where_}"),
    }
}

/// An error of a vmapped user method, kept as the method returned it: reach it with
/// [`UserError::get`] and `downcast_ref`. (Its `Display` and `source` are the user
/// error's own.)
#[derive(Clone)]
pub struct UserError(Arc<dyn Error + Send + Sync>);

impl UserError {
    /// The error the method returned; `downcast_ref` it to its own type.
    pub fn get(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

/// The same error (one `UserError` cloned), not merely an equal message.
impl PartialEq for UserError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl Error for UserError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// What a vmapped method's error becomes. Any error type works (anything that
/// converts into `Box<dyn Error + Send + Sync>`: `std::error::Error` types, `String`,
/// `&str`, boxed errors): `VmapError` and `ForwardError` keep their own variants, the
/// others become [`VmapError::User`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the error of a vmapped method",
    note = "vmap! reports per-example errors as `VmapError`: use an error type that implements `std::error::Error + Send + Sync` (or a `String`), or mark the method `#[no_vmap]` if it is never vmapped"
)]
pub trait IntoVmapError {
    /// The error as a `VmapError`.
    fn into_vmap_error(self) -> VmapError;
}

impl<E: Into<Box<dyn Error + Send + Sync>>> IntoVmapError for E {
    fn into_vmap_error(self) -> VmapError {
        let boxed: Box<dyn Error + Send + Sync> = self.into();
        match boxed.downcast::<VmapError>() {
            Ok(own) => *own,
            Err(other) => match other.downcast::<ForwardError>() {
                Ok(forward) => VmapError::Forward(*forward),
                Err(other) => VmapError::User(UserError(other.into())),
            },
        }
    }
}
