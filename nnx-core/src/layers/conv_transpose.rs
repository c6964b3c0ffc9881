//! `ConvTranspose`, as `flax.nnx.ConvTranspose` (`jax.lax.conv_transpose`): the input
//! spread out by the strides, then convolved with stride 1.

use ndarray::{Array1, ArrayD, ArrayViewD, Axis};

use crate::batching::{Batch, Slot, VmapError};
use crate::init::{Initializer, lecun_normal, zeros};
use crate::layers::batch_axis::as_leading_axis;
use crate::layers::conv::{check_params, convolve, init_params, x_error};
use crate::layers::{ConvConfig, Padding};
use crate::{ForwardError, Param, Rngs, module};

/// Flax's constructor options for [`ConvTranspose`], with Flax's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvTransposeConfig {
    /// Input channels (the last axis of the input).
    pub in_features: usize,
    /// Output channels.
    pub out_features: usize,
    /// The window's length on each spatial axis.
    pub kernel_size: Vec<usize>,
    /// How far apart the input elements are spread, per axis (default 1): stride 2
    /// doubles each spatial length.
    pub strides: Vec<usize>,
    /// [`Padding::Same`] (default: output length = input length × stride),
    /// [`Padding::Valid`] (the inverse of a `VALID` [`Conv`](crate::Conv)'s shape
    /// change) or explicit pairs, applied to the spread input as JAX does (not
    /// PyTorch's `padding`). Flax's `CIRCULAR` and `CAUSAL` are not supported yet.
    pub padding: Padding,
    /// Spacing between the kernel's taps, per axis (default 1).
    pub kernel_dilation: Vec<usize>,
    /// Learn a bias (default true).
    pub use_bias: bool,
    /// The kernel is stored `[k.., out_features, in_features]` and applied flipped
    /// along its spatial axes: the gradient of the `Conv` with that kernel (default
    /// false, as Flax).
    pub transpose_kernel: bool,
}

impl ConvTransposeConfig {
    /// Flax's defaults: stride 1, `SAME` padding, no dilation, a bias.
    pub fn new(in_features: usize, out_features: usize, kernel_size: &[usize]) -> Self {
        let ones = vec![1; kernel_size.len()];
        Self {
            in_features,
            out_features,
            kernel_size: kernel_size.to_vec(),
            strides: ones.clone(),
            padding: Padding::Same,
            kernel_dilation: ones,
            use_bias: true,
            transpose_kernel: false,
        }
    }

    /// The kernel's shape, as Flax stores it.
    fn kernel_shape(&self) -> Vec<usize> {
        let mut shape = self.kernel_size.clone();
        if self.transpose_kernel {
            shape.extend([self.out_features, self.in_features]);
        } else {
            shape.extend([self.in_features, self.out_features]);
        }
        shape
    }

    /// The stride-1 convolution of the spread input that this transposed convolution
    /// is (`jax.lax.conv_transpose`'s padding for `SAME` and `VALID`).
    fn as_conv(&self) -> Result<ConvConfig, ForwardError> {
        let error = |message: String| ForwardError::Config {
            module: "ConvTranspose",
            message,
        };
        let nd = self.kernel_size.len();
        let pads = match &self.padding {
            Padding::Same | Padding::Valid => {
                if self.strides.len() != nd || self.kernel_dilation.len() != nd {
                    return Err(error(format!(
                        "strides {:?} and kernel_dilation {:?} need one entry per axis of \
                         kernel_size {:?}",
                        self.strides, self.kernel_dilation, self.kernel_size
                    )));
                }
                (0..nd)
                    .map(|d| {
                        let taps = (self.kernel_size[d].max(1) - 1) * self.kernel_dilation[d] + 1;
                        transpose_padding(taps, self.strides[d], self.padding == Padding::Same)
                    })
                    .collect()
            }
            Padding::Explicit(pairs) => pairs.clone(),
            other => {
                return Err(error(format!(
                    "{other:?} padding is not supported yet; use Same, Valid or Explicit"
                )));
            }
        };
        let config = ConvConfig {
            strides: vec![1; nd],
            padding: Padding::Explicit(pads),
            input_dilation: self.strides.clone(),
            kernel_dilation: self.kernel_dilation.clone(),
            use_bias: self.use_bias,
            ..ConvConfig::new(self.in_features, self.out_features, &self.kernel_size)
        };
        config.check().map_err(|e| match e {
            ForwardError::Config { message, .. } => {
                error(message.replace("input_dilation", "strides"))
            }
            other => other,
        })?;
        Ok(config)
    }
}

/// `(before, after)` padding of the spread input for a kernel of `taps` (dilated) and
/// `stride`, as `jax.lax.conv_transpose` computes it.
fn transpose_padding(taps: usize, stride: usize, same: bool) -> (usize, usize) {
    let (len, before) = if same {
        let len = taps + stride - 2;
        let before = if stride > taps - 1 {
            taps - 1
        } else {
            len.div_ceil(2)
        };
        (len, before)
    } else {
        (taps + stride - 2 + taps.saturating_sub(stride), taps - 1)
    };
    (before, len - before)
}

/// A transposed convolution over channels-last inputs, as Flax's: the input spread by
/// `strides`, padded, and convolved with stride 1, so stride 2 doubles each spatial
/// length (a decoder's upsampling). `kernel` is `[kernel_size.., in_features,
/// out_features]` (`[.., out, in]` with `transpose_kernel`), `bias` `[out_features]`.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct ConvTranspose {
    /// The weights, in Flax's layout.
    pub kernel: Param<ArrayD<f32>>,
    /// The bias, `[out_features]`; `None` without `use_bias`.
    pub bias: Option<Param<Array1<f32>>>,
    /// The options it was built with.
    #[module(skip)]
    pub config: ConvTransposeConfig,
}

impl ConvTranspose {
    /// `in_features` to `out_features` channels with windows of `kernel_size`, Flax's
    /// other defaults, initialized from the `params` stream of `rngs`.
    pub fn new(
        in_features: usize,
        out_features: usize,
        kernel_size: &[usize],
        rngs: &mut Rngs,
    ) -> Result<Self, ForwardError> {
        Self::with_config(
            ConvTransposeConfig::new(in_features, out_features, kernel_size),
            rngs,
        )
    }

    /// Any options, Flax's initializers (kernel first, then bias).
    pub fn with_config(config: ConvTransposeConfig, rngs: &mut Rngs) -> Result<Self, ForwardError> {
        Self::with_init(config, &lecun_normal(), &zeros(), rngs)
    }

    /// Any options and initializers, as Flax's `kernel_init` and `bias_init`.
    pub fn with_init(
        config: ConvTransposeConfig,
        kernel_init: &dyn Initializer,
        bias_init: &dyn Initializer,
        rngs: &mut Rngs,
    ) -> Result<Self, ForwardError> {
        config.as_conv()?;
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
impl ConvTranspose {
    /// `x` of shape `[batch.., spatial.., in_features]` (or without batch axes) to
    /// `[batch.., out_spatial.., out_features]`.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        let conv = self.config.as_conv()?;
        check_params(
            "ConvTranspose",
            &self.kernel,
            &self.config.kernel_shape(),
            self.bias.as_deref(),
            self.config.out_features,
        )?;
        let y = if self.config.transpose_kernel {
            // Flip the spatial axes and swap the channel axes, as JAX does.
            let nd = self.config.kernel_size.len();
            let mut k = self.kernel.view();
            for axis in 0..nd {
                k.invert_axis(Axis(axis));
            }
            k.swap_axes(nd, nd + 1);
            convolve(
                &conv,
                &k.as_standard_layout().into_owned(),
                self.bias.as_deref(),
                x.view(),
            )
        } else {
            convolve(&conv, &self.kernel, self.bias.as_deref(), x.view())
        };
        y.map_err(|expected| x_error("ConvTranspose", x.shape(), expected))
    }
}

impl ConvTranspose {
    /// The batching rule: the batch axis becomes one more leading axis.
    fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        let nd = self.config.kernel_size.len();
        let too_small = |example: &[usize]| {
            x_error(
                "ConvTranspose",
                example,
                format!("[{nd} spatial axes, in_features]"),
            )
        };
        as_leading_axis(x, batch, nd + 1, |x| self.forward(x), too_small)
    }
}
