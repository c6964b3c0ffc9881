//! A pre-LN transformer block written as a user module, loaded with Flax's weights and
//! checked against Flax's output: `cargo run --example transformer_block`.
//!
//! The weights and expected outputs are the vendored Flax vectors
//! (`tests/data/flax/vectors2/block_shared.json`); `tests/block.rs` runs the same code
//! as a test.

use nnx::batching::{Batch, Slot, VmapError, over_leading_axes};
use nnx::layers::make_causal_mask;
use nnx::ndarray::{ArrayD, ArrayViewD, IxDyn};
use nnx::nn;
use nnx::prelude::*;

/// `h = x + attn(ln1(x), causal); y = h + fc2(gelu(fc1(ln2(h))))`, Flax's `PreLNBlock`.
#[module]
pub struct Block {
    /// Before attention.
    pub ln1: LayerNorm,
    /// Causal self-attention.
    pub attn: MultiHeadAttention,
    /// Before the MLP.
    pub ln2: LayerNorm,
    /// `d → 4d`.
    pub fc1: Linear,
    /// `4d → d`.
    pub fc2: Linear,
    /// `nnx.gelu`'s tanh form (Flax's default) or the exact one.
    #[module(skip)]
    pub gelu_approximate: bool,
}

impl Block {
    /// A block of width `d` with `heads` heads, Flax's default initializers.
    pub fn new(d: usize, heads: usize, rngs: &mut Rngs) -> Result<Self, ForwardError> {
        Ok(Self {
            ln1: LayerNorm::new(d),
            attn: MultiHeadAttention::new(heads, d, rngs)?,
            ln2: LayerNorm::new(d),
            fc1: Linear::new(d, 4 * d, rngs),
            fc2: Linear::new(4 * d, d, rngs),
            gelu_approximate: true,
        })
    }

    /// Under `vmap!`, the batch axis becomes one more leading axis of `x`: one call on
    /// the whole batch (one GEMM per layer) rather than one per example.
    fn forward_batched(
        &self,
        x: Slot<ArrayViewD<'_, f32>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        over_leading_axes(x, batch, 2, |x| self.forward(x))
    }
}

#[module]
impl Block {
    /// `x` is `[batch.., T, d]`; every position attends to itself and the ones before.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        let mask = make_causal_mask(&x.shape()[..x.ndim().saturating_sub(1)])?;
        let a = call!((self.ln1)(x.view()))?;
        let h = &x + &call!((self.attn)(&a, mask = &mask, deterministic = Some(true)))?;
        let f = call!((self.fc1)(&call!((self.ln2)(h.view()))?))?;
        Ok(&h + &call!((self.fc2)(&nn::gelu(&f, self.gelu_approximate)))?)
    }
}

/// Flax's parameters for the block and, per vector, its input and expected output.
pub fn flax_vectors() -> Vec<(State, bool, ArrayD<f32>, ArrayD<f32>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/flax/vectors2/block_shared.json"
    );
    let text = std::fs::read_to_string(path).expect("the vendored Flax vectors");
    let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let tensor = |t: &serde_json::Value| {
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let data: Vec<f32> = t["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        ArrayD::from_shape_vec(IxDyn(&shape), data).expect("data fits the shape")
    };
    file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|vector| {
            let mut state = State::new();
            for (path, t) in vector["params"].as_object().unwrap() {
                state.insert(path.as_str(), VarKind::Param, tensor(t));
            }
            let approximate = vector["config"]["gelu_approximate"]
                .as_bool()
                .unwrap_or(true);
            (
                state,
                approximate,
                tensor(&vector["inputs"]["x"]),
                tensor(&vector["expected"]),
            )
        })
        .collect()
}

#[allow(dead_code)] // the test includes this file for `Block` and `flax_vectors` only
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut block = Block::new(48, 6, &mut Rngs::new(0))?;
    println!("{}", block.tree());
    for (state, approximate, x, want) in flax_vectors() {
        block.update(&state)?;
        block.gelu_approximate = approximate;
        let y = call!(block(&x))?;
        let worst = (&y - &want).mapv(f32::abs).fold(0.0f32, |m, &d| m.max(d));
        println!(
            "gelu approximate = {approximate}: output {:?}, max |nnx - Flax| = {worst:.2e}",
            y.shape()
        );
    }
    Ok(())
}
