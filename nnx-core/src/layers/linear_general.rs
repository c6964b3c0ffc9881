//! `LinearGeneral`, as `flax.nnx.LinearGeneral`: a dense layer over several input axes
//! into several output axes, as attention's projections use it.

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::init::{Initializer, lecun_normal};
use crate::matmul::matmul;
use crate::{ForwardError, Param, Rngs, module};

/// `y[.., out..] = Σ x[.., in..] · kernel[in.., out..] + bias[out..]`: the last
/// `in_shape.len()` axes of the input are contracted with the kernel's first axes.
/// Attention's query projection is `[in_features] → [heads, head_dim]`, its output
/// projection `[heads, head_dim] → [out_features]`.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct LinearGeneral {
    /// `[in_shape.., out_shape..]`, initialized as a `[prod(in), prod(out)]` matrix (as
    /// Flax does, so the fans are the flattened ones).
    pub kernel: Param<ArrayD<f32>>,
    /// `[out_shape..]` (zeros), absent without bias.
    pub bias: Option<Param<ArrayD<f32>>>,
    /// How many leading kernel axes are input axes.
    #[module(skip)]
    pub in_axes: usize,
}

impl LinearGeneral {
    /// Flax's defaults: lecun_normal kernel, zero bias, both from the `params` stream.
    pub fn new(in_shape: &[usize], out_shape: &[usize], use_bias: bool, rngs: &mut Rngs) -> Self {
        let (fan_in, fan_out) = (in_shape.iter().product(), out_shape.iter().product());
        let flat = lecun_normal().init(&mut rngs.params(), &[fan_in, fan_out]);
        let shape: Vec<usize> = in_shape.iter().chain(out_shape).copied().collect();
        let bias = use_bias.then(|| {
            let zeros = crate::init::zeros().init(&mut rngs.params(), out_shape);
            Param::new(zeros)
        });
        Self {
            kernel: Param::new(
                flat.into_shape_with_order(IxDyn(&shape))
                    .expect("same size"),
            ),
            bias,
            in_axes: in_shape.len(),
        }
    }

    fn shape_error(&self, x: &ArrayViewD<'_, f32>) -> ForwardError {
        ForwardError::Shape {
            module: "LinearGeneral",
            arg: "x",
            found: x.shape().to_vec(),
            expected: format!(
                "its last axes must be {:?} (the kernel's input axes)",
                &self.kernel.shape()[..self.in_axes]
            ),
        }
    }
}

#[module]
impl LinearGeneral {
    /// Contracts the last input axes of `x` with the kernel.
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        // `in_axes` and `kernel` are public: a replaced one that does not fit is an
        // error, not a panic.
        if self.in_axes > self.kernel.ndim() {
            return Err(ForwardError::Shape {
                module: "LinearGeneral",
                arg: "kernel",
                found: self.kernel.shape().to_vec(),
                expected: format!("in_axes = {} input axes", self.in_axes),
            });
        }
        let (in_shape, out_shape) = self.kernel.shape().split_at(self.in_axes);
        let lead = x
            .ndim()
            .checked_sub(self.in_axes)
            .filter(|&lead| &x.shape()[lead..] == in_shape)
            .ok_or_else(|| self.shape_error(&x))?;
        let rows: usize = x.shape()[..lead].iter().product();
        let (k, n): (usize, usize) = (in_shape.iter().product(), out_shape.iter().product());
        let matrix = x.to_shape((rows, k)).map_err(|_| self.shape_error(&x))?;
        let kernel = self
            .kernel
            .to_shape((k, n))
            .expect("the kernel's axes split into in and out");
        let mut y = matmul(matrix.view(), kernel.view());
        if let Some(bias) = &self.bias {
            let bias = bias.to_shape(n).map_err(|_| ForwardError::Shape {
                module: "LinearGeneral",
                arg: "bias",
                found: bias.shape().to_vec(),
                expected: format!("it must hold the kernel's {n} outputs"),
            })?;
            y += &bias;
        }
        let shape: Vec<usize> = x.shape()[..lead].iter().chain(out_shape).copied().collect();
        Ok(y.into_shape_with_order(IxDyn(&shape))
            .expect("rows × out elements"))
    }
}
