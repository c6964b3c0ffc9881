//! The batching rule a module gets for free when its forward already maps any number
//! of leading axes.

use ndarray::{ArrayD, ArrayViewD};

use super::{Batch, Slot, VmapError};
use crate::ForwardError;
use crate::layers::batch_axis::as_leading_axis;

/// The batching rule of a module whose forward maps any number of leading axes of `x`
/// (an MLP of `Linear`s, a transformer block taking `[batch.., T, d]`): the batch axis
/// becomes one more leading axis, so the whole batch goes through one call (one GEMM
/// per layer) instead of one call per example. `example_rank` is the least rank of one
/// example, so that the batch axis never passes for one of its axes. A broadcast `x`
/// runs once and is repeated. `forward` may return a `ForwardError` or a `VmapError`
/// (from a `vmap!` inside it, e.g. over a Dropout that needs a stream per example).
///
/// ```
/// use nnx::batching::{Batch, Slot, VmapError, over_leading_axes};
/// use nnx::ndarray::{Array3, ArrayD, ArrayViewD};
/// use nnx::nn;
/// use nnx::prelude::*;
///
/// #[module]
/// struct Mlp { up: Linear, down: Linear }
///
/// impl Mlp {
///     fn forward_batched(&self, x: Slot<ArrayViewD<'_, f32>>, batch: Batch<isize>)
///         -> Result<ArrayD<f32>, VmapError> {
///         over_leading_axes(x, batch, 1, |x| self.forward(x))
///     }
/// }
///
/// #[module]
/// impl Mlp {
///     #[call]
///     #[batched(forward_batched)]
///     pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
///         call!((self.down)(&nn::relu(&call!((self.up)(x.view()))?)))
///     }
/// }
///
/// let mut rngs = Rngs::new(0);
/// let mlp = Mlp { up: Linear::new(4, 8, &mut rngs), down: Linear::new(8, 4, &mut rngs) };
/// let xs = Array3::<f32>::ones((3, 5, 4));
/// let ys = vmap!(mlp(xs.view()), in_axes = 1)?;  // one call on [5, 3, 4] rows
/// assert_eq!(ys.shape(), &[5, 3, 4]);
/// # Ok::<(), VmapError>(())
/// ```
pub fn over_leading_axes<E: Into<VmapError>>(
    x: Slot<ArrayViewD<'_, f32>>,
    batch: Batch<isize>,
    example_rank: usize,
    forward: impl FnOnce(ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, E>,
) -> Result<ArrayD<f32>, VmapError> {
    as_leading_axis(x, batch, example_rank, forward, |shape| {
        ForwardError::Shape {
            module: "over_leading_axes",
            arg: "x",
            found: shape.to_vec(),
            expected: format!("each example needs at least {example_rank} axes"),
        }
    })
}
