//! `Sequential`, as `flax.nnx.Sequential`: layers applied one after another, each
//! output the next input, with the state paths `layers.0.kernel`, `layers.1...`.

use std::fmt;

use ndarray::{ArrayD, ArrayViewD};

use crate::layers::{
    BatchNorm, Conv, Dropout, GroupNorm, LayerNorm, Linear, LinearGeneral, MultiHeadAttention,
    RmsNorm,
};
use crate::{ForwardError, Node, Path, Visit, VisitMut, module};

/// One step of a [`Sequential`]: a module (or a function) from one array to the next.
///
/// nnx's single-input layers implement it with their keywords at their defaults (the
/// mode decides for Dropout and BatchNorm; no mask; MultiHeadAttention attends to its
/// input). Implement it for your own `#[module]` to put it in a `Sequential`:
///
/// ```
/// use nnx::layers::Layer;
/// use nnx::prelude::*;
///
/// #[module]
/// struct Residual {
///     inner: Linear,
/// }
///
/// impl Layer for Residual {
///     fn forward(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
///         Ok(call!((self.inner)(x.view()))? + &x)
///     }
/// }
/// ```
pub trait Layer: Node {
    /// The layer's output for `x`.
    fn forward(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError>;
}

/// `impl Layer` through each layer's own `forward` with the keywords given, called by
/// its full path: `self.forward(..)` would find `Layer::forward` first, whose `&mut
/// self` matches the receiver before the layer's own `&self` method does.
macro_rules! layer_with_defaults {
    ($($layer:ty => ($($keyword:expr),*);)*) => {$(
        impl Layer for $layer {
            fn forward(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
                <$layer>::forward(self, x $(, $keyword)*)
            }
        }
    )*};
}

layer_with_defaults! {
    Linear => ();
    LinearGeneral => ();
    Conv => ();
    LayerNorm => (None);
    RmsNorm => (None);
    GroupNorm => (None);
    BatchNorm => (None, None);
    Dropout => (None);
    MultiHeadAttention => (None, None, None, None, false, None);
}

/// A function without state as a [`Layer`]: an activation such as
/// `Function::new(|x| nnx::nn::relu(&x))`, or a reshape. It has no variables, so it
/// takes a place in `layers` (and a number in the paths) as in Flax, and adds nothing to
/// the state.
pub struct Function<F>(F);

impl<F> Function<F>
where
    F: Fn(ArrayViewD<'_, f32>) -> ArrayD<f32>,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        Function(f)
    }
}

impl<F> Node for Function<F> {
    fn walk(&self, _: &mut Path, _: &mut dyn Visit) {}

    fn walk_mut(&mut self, _: &mut Path, _: &mut dyn VisitMut) {}
}

impl<F> Layer for Function<F>
where
    F: Fn(ArrayViewD<'_, f32>) -> ArrayD<f32>,
{
    fn forward(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        Ok((self.0)(x))
    }
}

/// Layers applied in order, each output the next input, as Flax's `nnx.Sequential`:
/// the same state paths (`layers.0.kernel`), so a Flax `Sequential`'s checkpoint lines
/// up. Its forward takes `&mut self`, as a model with Dropout or BatchNorm needs.
///
/// ```
/// use nnx::layers::{Function, Sequential};
/// use nnx::prelude::*;
///
/// let mut rngs = Rngs::new(0);
/// let mut mlp = Sequential::new()
///     .then(Linear::new(4, 16, &mut rngs))
///     .then(Function::new(|x| nnx::nn::relu(&x)))
///     .then(Linear::new(16, 2, &mut rngs));
/// let y = call!(mlp(&Array2::<f32>::ones((8, 4))))?;
/// assert_eq!(y.shape(), &[8, 2]);
/// assert!(mlp.state().get("layers.2.kernel").is_some());
/// # Ok::<(), nnx::ForwardError>(())
/// ```
#[module]
pub struct Sequential {
    /// The steps, in order.
    pub layers: Vec<Box<dyn Layer>>,
}

impl Sequential {
    /// No layers: the identity, until [`then`](Sequential::then) adds some.
    pub fn new() -> Self {
        Sequential { layers: Vec::new() }
    }

    /// `self` followed by `layer`.
    pub fn then(mut self, layer: impl Layer + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }
}

impl Default for Sequential {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sequential")
            .field("layers", &self.layers.len())
            .finish()
    }
}

#[module]
impl Sequential {
    /// Each layer's output is the next one's input; the first error stops the chain.
    #[call]
    pub fn forward(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        let mut layers = self.layers.iter_mut();
        let Some(first) = layers.next() else {
            return Ok(x.to_owned());
        };
        let mut y = first.forward(x)?;
        for layer in layers {
            y = layer.forward(y.view())?;
        }
        Ok(y)
    }
}

impl Layer for Sequential {
    fn forward(&mut self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        Sequential::forward(self, x)
    }
}
