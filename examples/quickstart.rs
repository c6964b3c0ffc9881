//! A first model: a user-defined module around `LayerNorm` and `Linear`, its state tree,
//! a forward pass, and a state round trip. Run with `cargo run --example quickstart`.
//!
//! It uses nothing but the `nnx` crate (arrays come through `nnx::ndarray`), as a user
//! crate with the single dependency line `nnx = ...` would.

use nnx::ndarray::array;
use nnx::prelude::*;

/// A residual block: `x + gate * proj(norm(x))`.
#[module]
struct Residual {
    norm: LayerNorm,
    proj: Linear,
    gate: Param<Array1<f32>>,
    #[module(skip)]
    name: &'static str,
}

impl Residual {
    fn new(features: usize, rngs: &mut Rngs) -> Self {
        Self {
            norm: LayerNorm::new(features),
            proj: Linear::new(features, features, rngs),
            gate: Param::new(Array1::from_elem(features, 0.5)),
            name: "residual",
        }
    }
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
        let h = call!((self.proj)(&h))?;
        Ok(&x + &(h * &*self.gate))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rngs = Rngs::new(0);
    let mut model = Residual::new(4, &mut rngs);
    println!("{}\n", model.tree());
    println!(
        "{} ({}): {} parameters",
        model.name,
        Residual::NAME,
        model.param_count()
    );

    let x = array![[1.0f32, 2.0, 3.0, 4.0], [0.5, -0.5, 0.25, 8.0]];
    println!("\ny = model(x):\n{}", call!(model(&x))?);
    let mask = array![[true, true, false, true], [true, false, true, true]];
    println!(
        "\ny = model(x, mask = m), batched with vmap!:\n{}",
        vmap!(model(x, mask = mask))?
    );

    // Functional state: take it out, change it, put it back.
    let mut state = model.state();
    state.get_mut("gate").expect("a gate").value.fill(0.0);
    model.update(&state)?;
    println!(
        "\nwith gate = 0 the block is the identity:\n{}",
        call!(model(&x))?
    );
    Ok(())
}
