//! Batching, the run-time half of `vmap!` (JAX's name for the machinery): argument
//! slots with their batch axes, batch-size checks, stacking of per-example outputs, and
//! stacked (ensemble) modules. The macro half is in
//! `nnx-macros`; the types here are what its expansion calls.

mod batch;
mod error;
mod leading;
mod mappable;
mod slot;
mod stackable;
mod stacked;

pub use batch::{Batch, BatchSize, DefaultAxes, IntoAxes};
pub use error::{IntoVmapError, UserError, VmapError};
pub use leading::over_leading_axes;
pub use mappable::{Mappable, NotMappable};
pub use slot::{BatchView, Slot};
pub use stackable::{Stackable, map_examples};
pub use stacked::Stacked;
