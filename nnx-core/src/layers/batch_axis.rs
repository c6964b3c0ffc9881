//! What batching rules share: moving the batch axis first for the computation and to
//! `out_axes` after it, as views wherever the layout allows.

use ndarray::{ArrayD, ArrayViewD, Axis, CowArray, IxDyn};

use crate::ForwardError;
use crate::axis::resolve_axis;
use crate::batching::{Batch, Slot, VmapError};

/// `example` repeated along a new leading axis of length `size`: a broadcast argument
/// (or output) made batch-first for a rule that wants one element per example's element.
pub(crate) fn repeat<T: Clone>(example: ArrayViewD<'_, T>, size: usize) -> ArrayD<T> {
    let mut shape = vec![size];
    shape.extend_from_slice(example.shape());
    let example = example.insert_axis(Axis(0));
    example
        .broadcast(IxDyn(&shape))
        .expect("an axis of length 1 broadcasts to any length")
        .to_owned()
}

/// A batch-first `x`: the mapped axis moved to the front (a view), or a broadcast
/// example repeated `size` times.
pub(crate) fn batch_first(x: Slot<ArrayViewD<'_, f32>>, size: usize) -> CowArray<'_, f32, IxDyn> {
    match x {
        Slot::Mapped { batched, axis } => {
            CowArray::from(move_axis_to_front(batched, axis as usize))
        }
        Slot::Broadcast(example) => CowArray::from(repeat(example, size)),
    }
}

pub(crate) fn move_axis_to_front<T>(view: ArrayViewD<'_, T>, axis: usize) -> ArrayViewD<'_, T> {
    let order: Vec<usize> = std::iter::once(axis)
        .chain((0..view.ndim()).filter(|&a| a != axis))
        .collect();
    view.permuted_axes(IxDyn(&order))
}

/// The batch axis, computed first, moved to `out_axis` (a permutation: no copy).
pub(crate) fn move_batch_axis(y: ArrayD<f32>, out_axis: isize) -> Result<ArrayD<f32>, VmapError> {
    let rank = y.ndim();
    let axis = resolve_axis(out_axis, rank).ok_or(VmapError::OutAxis {
        axis: out_axis,
        rank,
    })?;
    let mut order: Vec<usize> = (1..rank).collect();
    order.insert(axis, 0);
    Ok(y.permuted_axes(IxDyn(&order)))
}

/// A mapped mask as `[batch, ..x's example shape]`: its batch axis first, then its
/// example part broadcast like numpy would against the example of `x`.
pub(crate) fn batched_mask<'a>(
    module: &'static str,
    mask: ArrayViewD<'a, bool>,
    axis: usize,
    x_shape: &[usize],
) -> Result<CowArray<'a, bool, IxDyn>, ForwardError> {
    let mask = move_axis_to_front(mask, axis);
    let error = || ForwardError::MaskShape {
        module,
        mask: mask.shape()[1..].to_vec(),
        x: x_shape[1..].to_vec(),
    };
    let example_rank = mask.ndim() - 1;
    if example_rank > x_shape.len() - 1 {
        return Err(error());
    }
    if mask.shape() == x_shape {
        return Ok(CowArray::from(mask));
    }
    let mut aligned = mask.clone();
    for _ in example_rank..x_shape.len() - 1 {
        aligned = aligned.insert_axis(Axis(1));
    }
    match aligned.broadcast(IxDyn(x_shape)) {
        Some(view) => Ok(CowArray::from(view.to_owned())),
        None => Err(error()),
    }
}

/// A `vmap!` mask slot as `[batch, ..x's example shape]` for `x` of batch-first shape
/// `x_shape`: a mapped mask through [`batched_mask`], a broadcast one broadcast like
/// numpy against one example and repeated for every example.
pub(crate) fn batch_first_mask<'a>(
    module: &'static str,
    mask: Slot<Option<ArrayViewD<'a, bool>>>,
    x_shape: &[usize],
) -> Result<Option<CowArray<'a, bool, IxDyn>>, ForwardError> {
    match mask {
        Slot::Broadcast(None) => Ok(None),
        Slot::Broadcast(Some(mask)) => {
            let error = || ForwardError::MaskShape {
                module,
                mask: mask.shape().to_vec(),
                x: x_shape[1..].to_vec(),
            };
            let example = mask.broadcast(IxDyn(&x_shape[1..])).ok_or_else(error)?;
            Ok(Some(CowArray::from(repeat(example, x_shape[0]))))
        }
        Slot::Mapped { batched, axis } => {
            batched_mask(module, batched, axis as usize, x_shape).map(Some)
        }
    }
}

/// The batching rule of a layer that maps any number of leading axes (Linear, Conv):
/// the batch axis becomes one more, so every example goes through the same products
/// and an empty batch still has its output's shape. A broadcast example runs once and
/// is repeated. `example_rank` is the least rank of one example: the batch axis must
/// not pass for one of its axes; `too_small` is the error for an example of that shape.
pub(crate) fn as_leading_axis<E: Into<VmapError>>(
    x: Slot<ArrayViewD<'_, f32>>,
    batch: Batch<isize>,
    example_rank: usize,
    forward: impl FnOnce(ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, E>,
    too_small: impl FnOnce(&[usize]) -> ForwardError,
) -> Result<ArrayD<f32>, VmapError> {
    let y = match x {
        Slot::Broadcast(example) => {
            repeat(forward(example).map_err(Into::into)?.view(), batch.size)
        }
        Slot::Mapped { batched, axis } => {
            let x = move_axis_to_front(batched, axis as usize);
            if x.ndim() < example_rank + 1 {
                return Err(too_small(&x.shape()[1..]).into());
            }
            forward(x).map_err(Into::into)?
        }
    };
    move_batch_axis(y, batch.out_axes)
}
