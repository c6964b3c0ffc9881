//! `Linear`, as `flax.nnx.Linear`: `y = x · kernel + bias` over the last axis.

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, Ix2, IxDyn};

use crate::batching::{Batch, Slot, VmapError};
use crate::init::{Initializer, lecun_normal, zeros};
use crate::layers::batch_axis::as_leading_axis;
use crate::matmul::matmul;
use crate::{ForwardError, Param, Rngs, module};

/// A dense layer. `kernel` is `[in_features, out_features]` (lecun_normal), `bias` is
/// `[out_features]` (zeros), as in Flax.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// The weights, `[in_features, out_features]`.
    pub kernel: Param<Array2<f32>>,
    /// The bias, `[out_features]`; `None` for a layer built without one.
    pub bias: Option<Param<Array1<f32>>>,
    /// The input size it was built with (`forward` checks `x` against `kernel` itself).
    #[module(skip)]
    pub in_features: usize,
    /// The output size it was built with.
    #[module(skip)]
    pub out_features: usize,
}

impl Linear {
    /// A layer with a bias, initialized as in Flax (lecun_normal kernel, zero bias) from
    /// the `params` stream of `rngs`.
    pub fn new(in_features: usize, out_features: usize, rngs: &mut Rngs) -> Self {
        Self::with_bias(in_features, out_features, true, rngs)
    }

    /// Like [`Linear::new`], with a bias only if `use_bias`, as Flax's `use_bias`.
    pub fn with_bias(
        in_features: usize,
        out_features: usize,
        use_bias: bool,
        rngs: &mut Rngs,
    ) -> Self {
        let zeros = zeros();
        let bias_init: Option<&dyn Initializer> = use_bias.then_some(&zeros);
        Self::with_init(in_features, out_features, &lecun_normal(), bias_init, rngs)
    }

    /// With other initializers, as Flax's `kernel_init` and `bias_init` (`None`: no
    /// bias), e.g. `Linear::with_init(3, 4, &init::normal(0.02), Some(&init::zeros()), rngs)`.
    /// Both draw from the `params` stream, kernel first, as `flax.nnx.Linear` does.
    pub fn with_init(
        in_features: usize,
        out_features: usize,
        kernel_init: &dyn Initializer,
        bias_init: Option<&dyn Initializer>,
        rngs: &mut Rngs,
    ) -> Self {
        let kernel = kernel_init
            .init(&mut rngs.params(), &[in_features, out_features])
            .into_dimensionality::<Ix2>()
            .expect("an initializer returns the requested rank");
        let bias = bias_init.map(|init| {
            let bias = init.init(&mut rngs.params(), &[out_features]);
            Param::new(
                bias.into_dimensionality()
                    .expect("an initializer returns the requested rank"),
            )
        });
        Self {
            kernel: Param::new(kernel),
            bias,
            in_features,
            out_features,
        }
    }
}

#[module]
impl Linear {
    /// `x` of shape `[.., in_features]` to `[.., out_features]`, through one matrix
    /// product over all leading axes (a copy of `x` only if it is not contiguous).
    /// Under `vmap!` the whole batch goes through that one product.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        // The kernel and bias are public: their own shapes are the truth, not the
        // configuration fields, and a mismatch is an error rather than a panic.
        let (in_features, out_features) = self.kernel.dim();
        if let Some(bias) = self.bias.as_ref().filter(|b| b.len() != out_features) {
            return Err(ForwardError::Shape {
                module: "Linear",
                arg: "bias",
                found: bias.shape().to_vec(),
                expected: format!("the kernel has {out_features} outputs"),
            });
        }
        let Some((&last, leading)) = x.shape().split_last() else {
            return Err(self.shape_error(x.shape()));
        };
        if last != in_features {
            return Err(self.shape_error(x.shape()));
        }
        let rows: usize = leading.iter().product();
        let matrix = x
            .to_shape((rows, in_features))
            .map_err(|_| self.shape_error(x.shape()))?;
        let mut y = matmul(matrix.view(), self.kernel.view());
        if let Some(bias) = &self.bias {
            y += &**bias;
        }
        let mut shape = leading.to_vec();
        shape.push(out_features);
        y.into_shape_with_order(IxDyn(&shape))
            .map_err(|_| self.shape_error(x.shape()))
    }
}

impl Linear {
    /// The batching rule: every example's rows in one matrix product, so an empty batch
    /// still has its output's shape (`[0, out_features]`) and its input's checked.
    fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        as_leading_axis(
            x,
            batch,
            1,
            |x| self.forward(x),
            |example| self.shape_error(example),
        )
    }

    fn shape_error(&self, x: &[usize]) -> ForwardError {
        ForwardError::Shape {
            module: "Linear",
            arg: "x",
            found: x.to_vec(),
            expected: format!("Linear expects [.., {}] (in_features)", self.kernel.nrows()),
        }
    }
}
