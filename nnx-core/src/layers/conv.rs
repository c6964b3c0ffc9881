//! `Conv`, as `flax.nnx.Conv`: an N-D convolution over channels-last inputs
//! (`[batch.., spatial.., features]`), as one matrix product per feature group.

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, IxDyn, s};

use crate::batching::{Batch, Slot, VmapError};
use crate::init::{Initializer, lecun_normal, zeros};
use crate::layers::batch_axis::as_leading_axis;
use crate::matmul::matmul;
use crate::{ForwardError, Param, Rngs, module};

/// How a convolution pads each spatial axis, as Flax's `padding`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// As much as keeps `ceil(len / stride)` outputs, the odd element after (Flax's
    /// default, `'SAME'`).
    Same,
    /// None: only windows that fit (`'VALID'`).
    Valid,
    /// `kernel_dilation · (kernel_size - 1)` before, none after, so that output `t`
    /// sees inputs up to `t` only (`'CAUSAL'`; 1-D only).
    Causal,
    /// `Same`'s amounts, filled by wrapping around the axis (`'CIRCULAR'`).
    Circular,
    /// `(before, after)` for each spatial axis (Flax's sequence of pairs; an integer
    /// `n` there is `(n, n)` on every axis).
    Explicit(Vec<(usize, usize)>),
}

/// Flax's constructor options for [`Conv`], with Flax's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvConfig {
    /// Input channels (the last axis of the input).
    pub in_features: usize,
    /// Output channels.
    pub out_features: usize,
    /// The window's length on each spatial axis; its length is the number of spatial
    /// axes.
    pub kernel_size: Vec<usize>,
    /// Step between windows, per spatial axis (default 1).
    pub strides: Vec<usize>,
    /// Padding (default [`Padding::Same`]).
    pub padding: Padding,
    /// Spacing inserted between input elements, per axis (default 1, none): the
    /// "transposed" direction, only with [`Padding::Valid`] or [`Padding::Explicit`],
    /// as in JAX.
    pub input_dilation: Vec<usize>,
    /// Spacing between the kernel's taps, per axis (default 1): atrous convolution.
    pub kernel_dilation: Vec<usize>,
    /// Channel groups (default 1): each group of `in_features / groups` inputs makes
    /// its own `out_features / groups` outputs; `groups = in_features` is depthwise.
    pub feature_group_count: usize,
    /// Learn a bias (default true).
    pub use_bias: bool,
}

impl ConvConfig {
    /// Flax's defaults: stride 1, `SAME` padding, no dilation, one group, a bias.
    pub fn new(in_features: usize, out_features: usize, kernel_size: &[usize]) -> Self {
        let ones = vec![1; kernel_size.len()];
        Self {
            in_features,
            out_features,
            kernel_size: kernel_size.to_vec(),
            strides: ones.clone(),
            padding: Padding::Same,
            input_dilation: ones.clone(),
            kernel_dilation: ones,
            feature_group_count: 1,
            use_bias: true,
        }
    }

    /// Why the options do not fit together, if they do not.
    pub(super) fn check(&self) -> Result<(), ForwardError> {
        let error = |message: String| {
            Err(ForwardError::Config {
                module: "Conv",
                message,
            })
        };
        let nd = self.kernel_size.len();
        if nd == 0 {
            return error("kernel_size needs one length per spatial axis, and has none".into());
        }
        for (name, v) in [
            ("strides", &self.strides),
            ("input_dilation", &self.input_dilation),
            ("kernel_dilation", &self.kernel_dilation),
        ] {
            if v.len() != nd {
                return error(format!(
                    "{name} has {} entries for {nd} spatial axes (kernel_size {:?})",
                    v.len(),
                    self.kernel_size
                ));
            }
            if v.contains(&0) {
                return error(format!("{name} = {v:?} has a 0"));
            }
        }
        if self.kernel_size.contains(&0) {
            return error(format!("kernel_size = {:?} has a 0", self.kernel_size));
        }
        let g = self.feature_group_count;
        if g == 0 || !self.in_features.is_multiple_of(g) || !self.out_features.is_multiple_of(g) {
            return error(format!(
                "feature_group_count = {g} must divide in_features = {} and out_features = {}",
                self.in_features, self.out_features
            ));
        }
        match &self.padding {
            Padding::Causal if nd != 1 => error(format!(
                "CAUSAL padding is 1-D only; kernel_size is {:?}",
                self.kernel_size
            )),
            Padding::Explicit(pairs) if pairs.len() != nd => error(format!(
                "padding gives {} (before, after) pairs for {nd} spatial axes",
                pairs.len()
            )),
            Padding::Same | Padding::Causal | Padding::Circular
                if self.input_dilation.iter().any(|&d| d > 1) =>
            {
                error(format!(
                    "input_dilation {:?} needs VALID or explicit padding, as in JAX",
                    self.input_dilation
                ))
            }
            _ => Ok(()),
        }
    }

    /// The kernel's shape: `[kernel_size.., in_features / groups, out_features]`.
    fn kernel_shape(&self) -> Vec<usize> {
        let mut shape = self.kernel_size.clone();
        shape.extend([
            self.in_features / self.feature_group_count,
            self.out_features,
        ]);
        shape
    }

    /// `(before, after)` padding of each spatial axis for an input of spatial `shape`.
    fn pads(&self, shape: &[usize]) -> Vec<(usize, usize)> {
        let taps = |d: usize| (self.kernel_size[d] - 1) * self.kernel_dilation[d] + 1;
        let same = |d: usize| {
            let (len, stride) = (shape[d], self.strides[d]);
            let out = len.div_ceil(stride);
            let total = ((out.max(1) - 1) * stride + taps(d)).saturating_sub(len);
            (total / 2, total - total / 2)
        };
        (0..shape.len())
            .map(|d| match &self.padding {
                Padding::Same | Padding::Circular => same(d),
                Padding::Valid => (0, 0),
                Padding::Causal => (taps(d) - 1, 0),
                Padding::Explicit(pairs) => pairs[d],
            })
            .collect()
    }
}

/// A convolution over the spatial axes of a channels-last input, as Flax's. `kernel` is
/// `[kernel_size.., in_features / groups, out_features]` (lecun_normal), `bias` is
/// `[out_features]` (zeros): Flax's shapes and state paths, so its checkpoints line up.
/// It computes a cross-correlation, as every deep-learning framework does.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// The weights, `[kernel_size.., in_features / groups, out_features]`.
    pub kernel: Param<ArrayD<f32>>,
    /// The bias, `[out_features]`; `None` without `use_bias`.
    pub bias: Option<Param<Array1<f32>>>,
    /// The options it was built with.
    #[module(skip)]
    pub config: ConvConfig,
}

impl Conv {
    /// `in_features` to `out_features` channels with windows of `kernel_size`, Flax's
    /// other defaults, initialized from the `params` stream of `rngs`.
    pub fn new(
        in_features: usize,
        out_features: usize,
        kernel_size: &[usize],
        rngs: &mut Rngs,
    ) -> Result<Self, ForwardError> {
        Self::with_config(
            ConvConfig::new(in_features, out_features, kernel_size),
            rngs,
        )
    }

    /// Any options, Flax's initializers (kernel first, then bias).
    pub fn with_config(config: ConvConfig, rngs: &mut Rngs) -> Result<Self, ForwardError> {
        Self::with_init(config, &lecun_normal(), &zeros(), rngs)
    }

    /// Any options and initializers, as Flax's `kernel_init` and `bias_init`.
    pub fn with_init(
        config: ConvConfig,
        kernel_init: &dyn Initializer,
        bias_init: &dyn Initializer,
        rngs: &mut Rngs,
    ) -> Result<Self, ForwardError> {
        config.check()?;
        let (kernel, bias) = init_params(
            &config.kernel_shape(),
            config.out_features,
            config.use_bias,
            (kernel_init, bias_init),
            rngs,
        );
        Ok(Self {
            kernel,
            bias,
            config,
        })
    }
}

#[module]
impl Conv {
    /// `x` of shape `[batch.., spatial.., in_features]` (or `[spatial.., in_features]`,
    /// one example) to `[batch.., out_spatial.., out_features]`. Under `vmap!` the whole
    /// batch goes through the same products.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        self.config.check()?;
        check_params(
            "Conv",
            &self.kernel,
            &self.config.kernel_shape(),
            self.bias.as_deref(),
            self.config.out_features,
        )?;
        convolve(&self.config, &self.kernel, self.bias.as_deref(), x.view())
            .map_err(|expected| x_error("Conv", x.shape(), expected))
    }
}

/// `x` (`[batch.., spatial.., in_features]`, or without batch axes) convolved as
/// `config` says with `kernel` and `bias`, both of the configured shapes. `Err` says
/// what `x` should have been: the spatial axes and `in_features` channels, or a spatial
/// length the kernel fits in once padded (JAX refuses an empty output too).
pub(super) fn convolve(
    config: &ConvConfig,
    kernel: &ArrayD<f32>,
    bias: Option<&Array1<f32>>,
    x: ArrayViewD<'_, f32>,
) -> Result<ArrayD<f32>, String> {
    let nd = config.kernel_size.len();
    let shape = x.shape();
    if shape.len() < nd + 1 || shape[shape.len() - 1] != config.in_features {
        return Err(format!(
            "[batch.., {nd} spatial axes, {}] (in_features)",
            config.in_features
        ));
    }
    let lead = &shape[..shape.len() - nd - 1];
    let spatial = &shape[lead.len()..shape.len() - 1];
    let window = Window::new(config, spatial);
    if let Some(axis) = window.out.iter().position(|&len| len == 0) {
        let reach = (config.kernel_size[axis] - 1) * config.kernel_dilation[axis] + 1;
        return Err(format!(
            "spatial axis {axis} (length {}, padded by {:?}) at least as long as the \
             kernel's reach, {reach}",
            spatial[axis], window.pads[axis]
        ));
    }
    let batch: usize = lead.iter().product();
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let groups = config.feature_group_count;
    let mut y = window.convolve(x, batch, kernel, groups, config.in_features);
    if let Some(bias) = bias {
        y += bias;
    }
    let mut out_shape = lead.to_vec();
    out_shape.extend(&window.out);
    out_shape.push(config.out_features);
    Ok(y.into_shape_with_order(IxDyn(&out_shape))
        .expect("the product has one row per output position"))
}

impl Conv {
    /// The batching rule: the batch axis becomes one more leading axis, so every
    /// example goes through the same products.
    fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        let nd = self.config.kernel_size.len();
        let too_small = |example: &[usize]| {
            x_error("Conv", example, format!("[{nd} spatial axes, in_features]"))
        };
        as_leading_axis(x, batch, nd + 1, |x| self.forward(x), too_small)
    }
}

/// Where each window reads: per spatial axis, the input length, padding, strides and
/// dilations, and the output length they give.
struct Window {
    len: Vec<usize>,
    pads: Vec<(usize, usize)>,
    strides: Vec<usize>,
    input_dilation: Vec<usize>,
    kernel_dilation: Vec<usize>,
    kernel_size: Vec<usize>,
    circular: bool,
    out: Vec<usize>,
}

impl Window {
    fn new(config: &ConvConfig, len: &[usize]) -> Self {
        let pads = config.pads(len);
        let out = (0..len.len())
            .map(|d| {
                let dilated = (len[d].max(1) - 1) * config.input_dilation[d] + 1;
                let dilated = if len[d] == 0 { 0 } else { dilated };
                let padded = dilated + pads[d].0 + pads[d].1;
                let taps = (config.kernel_size[d] - 1) * config.kernel_dilation[d] + 1;
                if padded < taps {
                    0
                } else {
                    (padded - taps) / config.strides[d] + 1
                }
            })
            .collect();
        Window {
            len: len.to_vec(),
            pads,
            strides: config.strides.clone(),
            input_dilation: config.input_dilation.clone(),
            kernel_dilation: config.kernel_dilation.clone(),
            kernel_size: config.kernel_size.clone(),
            circular: config.padding == Padding::Circular,
            out,
        }
    }

    /// The input position (row-major over the spatial axes) that tap `t` of the window
    /// at output position `o` reads, or `None` where it reads padding or a dilation gap.
    fn source(&self, o: &[usize], t: &[usize]) -> Option<usize> {
        let mut at = 0;
        for d in 0..self.len.len() {
            let p = (o[d] * self.strides[d] + t[d] * self.kernel_dilation[d]) as isize
                - self.pads[d].0 as isize;
            let len = self.len[d] as isize;
            let i = if self.circular {
                p.rem_euclid(len)
            } else {
                let step = self.input_dilation[d] as isize;
                if p < 0 || p % step != 0 || p / step >= len {
                    return None;
                }
                p / step
            };
            at = at * self.len[d] + i as usize;
        }
        Some(at)
    }

    /// `x` (`batch` examples of `[spatial.., in_features]`, row-major) convolved with
    /// `kernel`: `[batch · outputs, out_features]`. Each group's windows are gathered
    /// into one `[batch · outputs, taps · group inputs]` matrix (im2col) and multiplied
    /// by that group's `[taps · group inputs, group outputs]` slice of the kernel.
    fn convolve(
        &self,
        x: &[f32],
        batch: usize,
        kernel: &ArrayD<f32>,
        groups: usize,
        in_features: usize,
    ) -> Array2<f32> {
        let positions: usize = self.len.iter().product();
        let outputs: usize = self.out.iter().product();
        let taps: usize = self.kernel_size.iter().product();
        let (group_in, out_features) = (in_features / groups, *kernel.shape().last().unwrap());
        let group_out = out_features / groups;
        let kernel = kernel
            .view()
            .into_shape_with_order((taps * group_in, out_features))
            .expect("a standard-layout kernel of that many elements");
        // The source of every (output, tap) pair, shared by all examples and groups.
        let sources: Vec<Option<usize>> = indices(&self.out)
            .flat_map(|o| indices(&self.kernel_size).map(move |t| (o.clone(), t)))
            .map(|(o, t)| self.source(&o, &t))
            .collect();
        let mut y = Array2::zeros((batch * outputs, out_features));
        let mut patches = Array2::zeros((batch * outputs, taps * group_in));
        for g in 0..groups {
            for (row, mut patch) in patches.rows_mut().into_iter().enumerate() {
                let (b, o) = (row / outputs, row % outputs);
                let patch = patch
                    .as_slice_mut()
                    .expect("a row of a standard-layout array");
                let example = &x[b * positions * in_features..][..positions * in_features];
                for (t, cell) in patch.chunks_exact_mut(group_in).enumerate() {
                    match sources[o * taps + t] {
                        Some(at) => cell.copy_from_slice(
                            &example[at * in_features + g * group_in..][..group_in],
                        ),
                        None => cell.fill(0.0),
                    }
                }
            }
            let cols = g * group_out..(g + 1) * group_out;
            let product = matmul(patches.view(), kernel.slice(s![.., cols.clone()]));
            y.slice_mut(s![.., cols]).assign(&product);
        }
        y
    }
}

/// Every multi-index below `shape`, in row-major order.
fn indices(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + Clone + '_ {
    let total: usize = shape.iter().product();
    (0..total).map(move |mut flat| {
        let mut index = vec![0; shape.len()];
        for d in (0..shape.len()).rev() {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        index
    })
}

/// The error for an input `x` of shape `found` that is not what `expected` says.
pub(super) fn x_error(module: &'static str, found: &[usize], expected: String) -> ForwardError {
    ForwardError::Shape {
        module,
        arg: "x",
        found: found.to_vec(),
        expected,
    }
}

/// A convolution's variables as Flax makes them: the kernel of `kernel_shape` drawn
/// first, then (with `use_bias`) the bias of `out_features`, from the `params` stream.
pub(super) fn init_params(
    kernel_shape: &[usize],
    out_features: usize,
    use_bias: bool,
    (kernel_init, bias_init): (&dyn Initializer, &dyn Initializer),
    rngs: &mut Rngs,
) -> (Param<ArrayD<f32>>, Option<Param<Array1<f32>>>) {
    let kernel = Param::new(kernel_init.init(&mut rngs.params(), kernel_shape));
    let bias = use_bias.then(|| {
        let b = bias_init.init(&mut rngs.params(), &[out_features]);
        Param::new(
            b.into_dimensionality()
                .expect("an initializer returns the requested rank"),
        )
    });
    (kernel, bias)
}

/// `kernel` and `bias` are public fields: a replaced one of another shape than the
/// configuration's is an error naming `module`, not a panic in the product.
pub(super) fn check_params(
    module: &'static str,
    kernel: &ArrayD<f32>,
    kernel_shape: &[usize],
    bias: Option<&Array1<f32>>,
    out_features: usize,
) -> Result<(), ForwardError> {
    if kernel.shape() != kernel_shape {
        return Err(ForwardError::Shape {
            module,
            arg: "kernel",
            found: kernel.shape().to_vec(),
            expected: format!("{kernel_shape:?} from the configuration"),
        });
    }
    if let Some(bias) = bias.filter(|b| b.len() != out_features) {
        return Err(ForwardError::Shape {
            module,
            arg: "bias",
            found: bias.shape().to_vec(),
            expected: format!("[{out_features}] (out_features)"),
        });
    }
    Ok(())
}
