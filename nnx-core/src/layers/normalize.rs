//! Flax's `_normalize` for any reduction and feature axes, on top of the row kernel:
//! reduction axes are moved last (a view; one copy only if that is not contiguous), the
//! kernel runs over `[groups, reduced]` rows, and the result is permuted back (a view).

use ndarray::{Array1, ArrayD, ArrayViewD, ArrayViewMutD, CowArray, Dimension, IxDyn};

use crate::ForwardError;
use crate::axis::resolve_axis;
use crate::batching::{Batch, Slot, VmapError};
use crate::kernels::{self, NormKind, NormSpec};
use crate::layers::batch_axis::{batch_first, batch_first_mask, move_batch_axis};

/// A norm layer's configuration as the numerics need it.
pub(crate) struct Normalize<'p> {
    pub module: &'static str,
    pub kind: NormKind,
    pub epsilon: f32,
    pub num_features: usize,
    pub reduction_axes: &'p [isize],
    pub feature_axes: &'p [isize],
    pub scale: Option<&'p Array1<f32>>,
    pub bias: Option<&'p Array1<f32>>,
}

impl Normalize<'_> {
    pub fn forward(
        &self,
        x: ArrayViewD<'_, f32>,
        mask: Option<ArrayViewD<'_, bool>>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let mask = match mask {
            Some(mask) => Some(broadcast_mask(self.module, mask, x.shape())?),
            None => None,
        };
        self.run(x, mask.as_ref().map(|m| m.view()), 0)
    }

    /// The batching rule: `x` (and a mapped mask) carry a batch axis; the kernel runs
    /// once over every example's rows.
    pub fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        mask: Slot<Option<ArrayViewD<'_, bool>>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        let x = batch_first(x, batch.size);
        let mask = batch_first_mask(self.module, mask, x.shape())?;
        let y = self.run(x.view(), mask.as_ref().map(|m| m.view()), 1)?;
        move_batch_axis(y, batch.out_axes)
    }

    /// [`Normalize::forward`] into `out`, which has `x`'s shape. Normalizing the trailing
    /// axes of row-major `x`, `mask` and `out` (the usual case) writes straight into
    /// `out`; any other layout is computed aside and copied in.
    pub fn forward_into(
        &self,
        x: ArrayViewD<'_, f32>,
        mask: Option<ArrayViewD<'_, bool>>,
        mut out: ArrayViewMutD<'_, f32>,
    ) -> Result<(), ForwardError> {
        if out.shape() != x.shape() {
            return Err(ForwardError::Shape {
                module: self.module,
                arg: "out",
                found: out.shape().to_vec(),
                expected: format!("it must have the shape of x, {:?}", x.shape()),
            });
        }
        let mask = match mask {
            Some(mask) => Some(broadcast_mask(self.module, mask, x.shape())?),
            None => None,
        };
        let rows = self.rows(x.shape(), 0)?;
        let in_place = rows.fused && rows.order.iter().enumerate().all(|(i, &a)| i == a);
        let mask_slice = mask.as_ref().map(|m| m.as_slice());
        match (x.as_slice(), mask_slice, out.as_slice_mut()) {
            (Some(x), None | Some(Some(_)), Some(out)) if in_place => {
                let mask = mask_slice.flatten();
                self.with_spec(true, |spec| {
                    kernels::norm_rows_into(x, mask, rows.len, spec, out)
                })
                .map_err(|error| ForwardError::Kernel {
                    module: self.module,
                    error,
                })
            }
            _ => {
                let y = self.run(x, mask.as_ref().map(|m| m.view()), 0)?;
                out.assign(&y);
                Ok(())
            }
        }
    }

    /// Normalizes `x`, whose first `leading` axes are batch axes outside the signature.
    fn run(
        &self,
        x: ArrayViewD<'_, f32>,
        mask: Option<ArrayViewD<'_, bool>>,
        leading: usize,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let rows = self.rows(x.shape(), leading)?;
        let x_rows = x.permuted_axes(IxDyn(&rows.order));
        let x_rows = x_rows.as_standard_layout();
        let mask_rows = mask.map(|m| m.permuted_axes(IxDyn(&rows.order)));
        let mask_rows = mask_rows.as_ref().map(|m| m.as_standard_layout());
        let out = self
            .with_spec(rows.fused, |spec| {
                kernels::norm_rows(
                    contiguous(&x_rows),
                    mask_rows.as_ref().map(|m| contiguous(m)),
                    rows.len,
                    spec,
                )
            })
            .map_err(|error| ForwardError::Kernel {
                module: self.module,
                error,
            })?;
        let out = ArrayD::from_shape_vec(x_rows.raw_dim(), out)
            .expect("the kernel returns one element per element of x");
        let mut out = out.permuted_axes(IxDyn(&inverse(&rows.order)));
        if !rows.fused {
            self.apply_affine(&mut out, &rows.features);
        }
        Ok(out)
    }

    /// How an input of `shape` (after `leading` batch axes) becomes the kernel's rows;
    /// checks the axes, the feature count and the parameters on the way.
    fn rows(&self, shape: &[usize], leading: usize) -> Result<Rows, ForwardError> {
        let rank = shape.len() - leading;
        let reduce = self.axes("reduction_axes", self.reduction_axes, rank, leading)?;
        let features = self.axes("feature_axes", self.feature_axes, rank, leading)?;
        let feature_count: usize = features.iter().map(|&a| shape[a]).product();
        if feature_count != self.num_features {
            return Err(ForwardError::Shape {
                module: self.module,
                arg: "x",
                found: shape.to_vec(),
                expected: format!(
                    "its feature axes {:?} must hold num_features = {} elements",
                    self.feature_axes, self.num_features
                ),
            });
        }
        self.check_params()?;
        let order = (0..shape.len())
            .filter(|a| !reduce.contains(a))
            .chain(reduce.iter().copied())
            .collect();
        Ok(Rows {
            len: reduce.iter().map(|&a| shape[a]).product(),
            // Scale and bias ride in the kernel when they run along the rows it normalizes.
            fused: reduce == features,
            order,
            features,
        })
    }

    /// Calls `f` with the kernel's spec; `scale` and `bias` go in when `fused`.
    fn with_spec<R>(&self, fused: bool, f: impl FnOnce(&NormSpec) -> R) -> R {
        // Parameters a user replaced with a strided array are copied once, not dropped.
        let scale = self.scale.map(|s| s.as_standard_layout());
        let bias = self.bias.map(|b| b.as_standard_layout());
        f(&NormSpec {
            kind: self.kind,
            epsilon: self.epsilon,
            scale: scale.as_ref().filter(|_| fused).map(|s| contiguous(s)),
            bias: bias.as_ref().filter(|_| fused).map(|b| contiguous(b)),
        })
    }

    /// `scale` and `bias` are public fields: a replaced one of the wrong length is an
    /// error, not a panic in the broadcasting below.
    fn check_params(&self) -> Result<(), ForwardError> {
        for (arg, param) in [("scale", self.scale), ("bias", self.bias)] {
            if let Some(param) = param.filter(|p| p.len() != self.num_features) {
                return Err(ForwardError::Shape {
                    module: self.module,
                    arg,
                    found: param.shape().to_vec(),
                    expected: format!("it must hold num_features = {}", self.num_features),
                });
            }
        }
        Ok(())
    }

    /// `y * scale + bias` with the parameters reshaped onto the feature axes, as Flax does
    /// when they do not run along the normalized rows.
    fn apply_affine(&self, out: &mut ArrayD<f32>, features: &[usize]) {
        let mut shape = vec![1; out.ndim()];
        for &axis in features {
            shape[axis] = out.shape()[axis];
        }
        let reshape = |p: &Array1<f32>| {
            p.to_shape(IxDyn(&shape))
                .expect("check_params and the feature-axes check fix the length")
                .into_owned()
        };
        if let Some(scale) = self.scale {
            *out *= &reshape(scale);
        }
        if let Some(bias) = self.bias {
            *out += &reshape(bias);
        }
    }

    /// Axes as given (negative from the end of the example's rank), shifted past the
    /// leading batch axes, sorted so the flattened rows follow row-major order.
    fn axes(
        &self,
        arg: &'static str,
        axes: &[isize],
        rank: usize,
        leading: usize,
    ) -> Result<Vec<usize>, ForwardError> {
        let mut out = Vec::with_capacity(axes.len());
        for &axis in axes {
            let resolved = resolve_axis(axis, rank).ok_or(ForwardError::Axis {
                module: self.module,
                arg,
                axis,
                rank,
            })?;
            out.push(resolved + leading);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// The kernel's view of an input: rows along the reduction axes.
struct Rows {
    /// Axes in the order that puts the reduction axes last.
    order: Vec<usize>,
    /// Elements per row.
    len: usize,
    /// The feature axes, sorted.
    features: Vec<usize>,
    /// Whether the features are exactly the reduction axes (scale and bias in the kernel).
    fused: bool,
}

fn contiguous<'a, T, D: Dimension>(array: &'a CowArray<'_, T, D>) -> &'a [T] {
    array
        .as_slice()
        .expect("as_standard_layout returns a row-major array")
}

fn inverse(order: &[usize]) -> Vec<usize> {
    let mut inverse = vec![0; order.len()];
    for (position, &axis) in order.iter().enumerate() {
        inverse[axis] = position;
    }
    inverse
}

/// `mask` broadcast to `shape` like numpy; a copy only when the shapes differ, since
/// the kernel needs one mask element per element of `x` anyway.
fn broadcast_mask<'a>(
    module: &'static str,
    mask: ArrayViewD<'a, bool>,
    shape: &[usize],
) -> Result<CowArray<'a, bool, IxDyn>, ForwardError> {
    if mask.shape() == shape {
        return Ok(CowArray::from(mask));
    }
    match mask.broadcast(IxDyn(shape)) {
        Some(view) => Ok(CowArray::from(view.to_owned())),
        None => Err(ForwardError::MaskShape {
            module,
            mask: mask.shape().to_vec(),
            x: shape.to_vec(),
        }),
    }
}
