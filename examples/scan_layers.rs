//! A stack of 6 residual layers built with `Stacked::new` and applied with `scan!`, as
//! Flax's `nnx.scan` over a stack made by `nnx.vmap`: `cargo run --example scan_layers`.
//! The result equals the explicit loop over the members, bit for bit; the stack's
//! state is shown in Flax's stacked layout (one array per variable, layers first).

use nnx::ndarray::{Array2, ArrayD, ArrayViewD};
use nnx::prelude::*;

/// `x + proj(norm(x))`, the mask choosing what the norm's statistics see.
#[module]
struct Residual {
    norm: LayerNorm,
    proj: Linear,
}

#[module]
impl Residual {
    #[call]
    pub fn forward(
        &self,
        x: ArrayViewD<'_, f32>,
        #[kw] mask: Option<ArrayViewD<'_, bool>>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let h = call!((self.norm)(x.view(), mask = mask))?;
        Ok(&x + &call!((self.proj)(&h))?)
    }
}

/// Runs the example (`tests/` runs it too).
pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (d, layers) = (16, 6);
    let mut rngs = Rngs::new(0);
    let stack = Stacked::new(layers, |_| Residual {
        norm: LayerNorm::new(d),
        proj: Linear::new(d, d, &mut rngs),
    });
    let x = Array2::from_shape_fn((4, d), |(i, j)| ((i * 5 + j * 3) % 7) as f32 * 0.25 - 0.75);
    // The last 4 features of every row stay out of the statistics, in every layer.
    let mask = Array2::from_shape_fn((4, d), |(_, j)| j < d - 4);

    let y = scan!(stack(&x, mask = &mask))?;

    let mut h = x.clone().into_dyn();
    for layer in stack.members() {
        h = call!(layer(&h, mask = &mask))?;
    }
    assert_eq!(y, h);
    println!(
        "scan! over {layers} layers: output {:?}, equal to the loop",
        y.shape()
    );

    let stacked = stack.stacked_state()?;
    for (path, var) in &stacked {
        println!("  {path}: {:?}", var.value.shape());
    }
    Ok(())
}
