//! Run-time half of `vmap!`: argument slots with their batch axes, batch-size checks,
//! stacking of per-example outputs, and stacked (ensemble) modules. The macro half is in
//! `nnx-macros`; the types here are what its expansion calls.

mod arg;
mod batch;
mod error;
mod mappable;
mod stack;
mod stacked;

pub use arg::{BatchView, Broadcast, IntoArg, IntoSlot, MapArg, Mapped, Slot};
pub use batch::{Batch, BatchSize, DefaultAxes, IntoAxes};
pub use error::{IntoVmapError, UserError, VmapError};
pub use mappable::{Mappable, NotMappable};
pub use stack::{Unbatched, map_examples};
pub use stacked::Stacked;
