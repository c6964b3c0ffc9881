//! Checkpoints: a module's variables to and from [safetensors] files, under nnx's
//! (Flax's) paths or PyTorch's `state_dict` names.
//!
//! ```
//! use nnx::checkpoint;
//! use nnx::prelude::*;
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("linear.safetensors");
//! let lin = Linear::new(3, 2, &mut Rngs::new(0));
//! checkpoint::save(&lin, &file)?;                      // keys `kernel`, `bias`
//!
//! let mut other = Linear::new(3, 2, &mut Rngs::new(1));
//! checkpoint::load_into(&mut other, &file)?;           // strict, all or nothing
//! assert_eq!(other.state(), lin.state());              // bit for bit
//! assert_eq!(checkpoint::load(&file)?, lin.state());   // or as a State
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! * **Saving** ([`save`], [`save_torch`]) writes F32 tensors keyed by path, records
//!   each variable's kind (`Param`, `BatchStat`, `RngKey`, `RngCount`) in the metadata
//!   (PyTorch files leave random streams out: PyTorch has none), and renames the new
//!   file over the old one, so a reader never sees half a file.
//! * **Loading** ([`load`], [`load_into`], [`Checkpoint`]) memory-maps the file and
//!   checks the whole header first; a load into a module matches and checks every
//!   tensor before writing any (all or nothing), then copies each straight into its
//!   variable, so it needs no memory beyond the module and about one tensor.
//! * **Dtypes**: F32 loads bit for bit; F16 and BF16 widen to F32 exactly; F64 rounds to
//!   the nearest F32. Every other dtype (integers, bool, FP8, ...) is a
//!   [`CheckpointError::UnsupportedDtype`] if the load needs that tensor.
//! * **Strictness**: a load is strict by default: a variable the file lacks (but a random
//!   stream's, which then keeps its state and is listed in the report), a tensor
//!   nothing takes, a shape or recorded kind that differs is an error naming the path,
//!   the key and both shapes. [`LoadOptions::lenient`] loads what fits and lists the rest
//!   in the [`LoadReport`].
//! * **PyTorch**: [`LoadOptions::torch`] and [`save_torch`] go through a
//!   [`TorchMapping`]: per-layer rules (data you can print, edit and extend) for names
//!   (`weight` ↔ `kernel`/`scale`/`embedding`, `running_mean` ↔ `mean`) and layouts
//!   (`nn.Linear.weight` is the transposed kernel; `nn.MultiheadAttention` fuses the
//!   query, key and value kernels into `in_proj_weight`).
//! * **Bad files** (truncated, a header that is not JSON or points past the end,
//!   overlapping or out-of-range offsets, a byte length that does not fit the shape,
//!   duplicate keys, empty, a directory, no file) are each a typed
//!   [`CheckpointError`] naming the file and the problem, never a panic.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

mod dtype;
mod error;
mod header;
mod load;
#[allow(unsafe_code)]
mod mmap;
mod plan;
mod save;
mod torch;
mod vars;

use std::path::Path;

pub use error::{CheckpointError, FormatError};
pub use load::{Checkpoint, LoadOptions, LoadReport, Naming, Skipped};
pub use plan::{Layout, Plan, PlanEntry};
pub use save::{save, save_torch};
pub use torch::{LayerRule, ParamRule, TorchMapping};
pub use vars::Variables;

use crate::State;

/// Every tensor of `file` as a [`State`], keyed as in the file; kinds as recorded by
/// [`save`] (`Param` where none is).
pub fn load(file: impl AsRef<Path>) -> Result<State, CheckpointError> {
    Checkpoint::open(file)?.to_state()
}

/// Loads `file` into `target` (a module or a [`State`]) strictly, under nnx's paths:
/// every variable must be in the file with its shape, and every tensor must belong to
/// a variable. On `Err` the target is unchanged.
pub fn load_into<V: Variables + ?Sized>(
    target: &mut V,
    file: impl AsRef<Path>,
) -> Result<LoadReport, CheckpointError> {
    Checkpoint::open(file)?.load_into(target, &LoadOptions::default())
}
