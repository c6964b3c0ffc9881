//! Which tensor of a file each variable comes from, and in which layout: the identity
//! for nnx (Flax) names, or what a [`TorchMapping`](super::TorchMapping) computes.

use std::fmt;
use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewD, ArrayViewMutD, Ix2, IxDyn};

use crate::VarKind;

/// How a variable's array is laid out in the file, relative to nnx's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The same shape and order.
    Same,
    /// The same order, flattened to one axis (attention's `[heads, head_dim]` biases as
    /// PyTorch's `[heads * head_dim]`).
    Flatten,
    /// A dense kernel `[in.., out..]` (its first `in_axes` axes are inputs) stored as
    /// PyTorch stores `nn.Linear.weight`: `[prod(out), prod(in)]`, transposed.
    Linear {
        /// How many leading axes of nnx's kernel are input axes.
        in_axes: usize,
    },
    /// A convolution kernel `[k.., in, out]` (Flax's) stored as PyTorch stores
    /// `nn.ConvNd.weight`: `[out, in, k..]`.
    Conv,
}

impl Layout {
    /// The shape in the file of a variable of shape `shape`; `None` if the layout does
    /// not apply (more input axes than the kernel has).
    pub fn file_shape(self, shape: &[usize]) -> Option<Vec<usize>> {
        match self {
            Layout::Same => Some(shape.to_vec()),
            Layout::Flatten => Some(vec![shape.iter().product()]),
            Layout::Linear { in_axes } => {
                let (i, o) = split(shape, in_axes)?;
                Some(vec![o, i])
            }
            Layout::Conv => (shape.len() >= 3).then(|| {
                let (spatial, channels) = shape.split_at(shape.len() - 2);
                [channels[1], channels[0]]
                    .into_iter()
                    .chain(spatial.iter().copied())
                    .collect()
            }),
        }
    }
}

/// `(prod(in), prod(out))` of a kernel whose first `in_axes` axes are inputs.
fn split(shape: &[usize], in_axes: usize) -> Option<(usize, usize)> {
    (in_axes <= shape.len()).then(|| {
        let (i, o) = shape.split_at(in_axes);
        (i.iter().product(), o.iter().product())
    })
}

/// One variable and where it is in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEntry {
    /// The variable's path in the module (`attn.query.kernel`).
    pub path: String,
    /// Its kind.
    pub kind: VarKind,
    /// Its shape in the module.
    pub shape: Vec<usize>,
    /// The tensor's key in the file (`attn.in_proj_weight`).
    pub key: String,
    /// The whole tensor's shape in the file.
    pub key_shape: Vec<usize>,
    /// The rows of the tensor (along its first axis) that hold this variable, when
    /// several variables are fused into one tensor; `None` for the whole tensor.
    pub rows: Option<Range<usize>>,
    /// How its layout differs.
    pub layout: Layout,
    /// The mapping rule that produced the entry (`nn.Linear`), if any.
    pub rule: Option<String>,
}

/// Every variable of a module and the tensor it is saved to and loaded from, in the
/// module's order. Printing it shows the mapping a load or save will apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// One entry per variable.
    pub entries: Vec<PlanEntry>,
}

impl Plan {
    /// nnx's own naming: each variable under its path, in its layout.
    pub fn identity(inventory: &[(String, VarKind, Vec<usize>)]) -> Plan {
        let entries = inventory
            .iter()
            .map(|(path, kind, shape)| PlanEntry {
                path: path.clone(),
                kind: *kind,
                shape: shape.clone(),
                key: path.clone(),
                key_shape: shape.clone(),
                rows: None,
                layout: Layout::Same,
                rule: None,
            })
            .collect();
        Plan { entries }
    }
}

/// One line per variable: `attn.query.kernel [48, 6, 8] <- attn.in_proj_weight[0..48]
/// [144, 48] transposed (nn.MultiheadAttention)`.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.entries.iter().map(|e| e.path.len()).max().unwrap_or(0);
        for e in &self.entries {
            let shape = format!("{:?}", e.shape);
            let mut source = e.key.clone();
            if let Some(rows) = &e.rows {
                source += &format!("[{}..{}]", rows.start, rows.end);
            }
            write!(
                f,
                "{:<width$}  {shape:<14} <- {source} {:?}",
                e.path, e.key_shape
            )?;
            match e.layout {
                Layout::Same => {}
                Layout::Flatten => f.write_str(" flattened")?,
                Layout::Linear { in_axes } => write!(f, " transposed (in_axes = {in_axes})")?,
                Layout::Conv => f.write_str(" [out, in, k..]")?,
            }
            if let Some(rule) = &e.rule {
                write!(f, " ({rule})")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Writes `src` (the entry's rows of the file tensor, in the file's layout, decoded)
/// into `dest` (the variable, in nnx's layout).
pub(crate) fn to_nnx(layout: Layout, src: &[f32], mut dest: ArrayViewMutD<'_, f32>) {
    match layout {
        Layout::Conv => {
            let Some(file_shape) = layout.file_shape(dest.shape()) else {
                return;
            };
            if let Ok(src) = ArrayViewD::from_shape(IxDyn(&file_shape), src) {
                let order = conv_to_nnx(dest.ndim());
                dest.assign(&src.permuted_axes(IxDyn(&order)));
            }
        }
        Layout::Same | Layout::Flatten => {
            if let Ok(src) = ArrayViewD::from_shape(IxDyn(dest.shape()), src) {
                dest.assign(&src);
            }
        }
        Layout::Linear { in_axes } => {
            let Some((i, o)) = split(dest.shape(), in_axes) else {
                return;
            };
            let Ok(src) = ArrayView2::from_shape((o, i), src) else {
                return;
            };
            let src = src.t();
            if dest.is_standard_layout() {
                if let Ok(mut dest) = dest.into_shape_with_order((i, o)) {
                    dest.assign(&src);
                }
            } else if let Ok(src) = src
                .as_standard_layout()
                .into_shape_with_order(IxDyn(dest.shape()))
            {
                dest.assign(&src);
            }
        }
    }
}

/// Appends `src` (a variable in nnx's layout) to `out` as little-endian `f32` bytes in
/// the file's layout.
pub(crate) fn to_file(layout: Layout, src: ArrayViewD<'_, f32>, out: &mut Vec<u8>) {
    let push = |out: &mut Vec<u8>, x: &f32| out.extend_from_slice(&x.to_le_bytes());
    match layout {
        Layout::Same | Layout::Flatten => src.iter().for_each(|x| push(out, x)),
        Layout::Conv => {
            let rank = src.ndim();
            // The inverse of `conv_to_nnx`: file axis `a` is nnx axis `order[a]`.
            let mut order = vec![0; rank];
            for (nnx_axis, &file_axis) in conv_to_nnx(rank).iter().enumerate() {
                order[file_axis] = nnx_axis;
            }
            src.permuted_axes(IxDyn(&order))
                .iter()
                .for_each(|x| push(out, x));
        }
        Layout::Linear { in_axes } => {
            let Some((i, o)) = split(src.shape(), in_axes) else {
                return;
            };
            let src = src.as_standard_layout();
            if let Ok(matrix) = src.view().into_dimensionality::<IxDyn>().and_then(|v| {
                v.into_shape_with_order(IxDyn(&[i, o]))
                    .and_then(|v| v.into_dimensionality::<Ix2>())
            }) {
                matrix.t().iter().for_each(|x| push(out, x));
            }
        }
    }
}

/// For each nnx axis of a rank-`rank` convolution kernel (`[k.., in, out]`), the axis of
/// PyTorch's `[out, in, k..]` it comes from.
fn conv_to_nnx(rank: usize) -> Vec<usize> {
    (2..rank).chain([1, 0]).collect()
}
