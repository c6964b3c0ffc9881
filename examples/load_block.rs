//! The pre-LN transformer block of `examples/transformer_block.rs`, loaded from
//! safetensors files instead of JSON: once from `block_shared.safetensors` (Flax's state
//! paths) and once from `block_shared_torch.safetensors` (a PyTorch `state_dict`: fused
//! `in_proj_weight`, transposed `nn.Linear` weights), each checked against Flax's output
//! in `block_shared.json`: `cargo run --example load_block`. `tests/checkpoint_block.rs`
//! runs the same code as a test.

#[path = "transformer_block.rs"]
#[allow(dead_code)] // its `main` is the other example's
mod transformer_block;

use nnx::checkpoint::{Checkpoint, LoadOptions, TorchMapping};
use nnx::prelude::*;
pub use transformer_block::{Block, flax_vectors};

/// The vendored file `name` of Flax's reference vectors.
pub fn vendored(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/flax/vectors2")
        .join(name)
}

/// A block with other weights (seed 1), loaded from `file`: under Flax's paths, or
/// through the PyTorch mapping.
pub fn load_block(file: &str, torch: bool) -> Result<Block, Box<dyn std::error::Error>> {
    let mut block = Block::new(48, 6, &mut Rngs::new(1))?;
    let options = if torch {
        LoadOptions::torch(TorchMapping::pytorch())
    } else {
        LoadOptions::default()
    };
    let report = Checkpoint::open(vendored(file))?.load_into(&mut block, &options)?;
    assert!(report.is_complete(), "a strict load skips nothing");
    Ok(block)
}

/// Runs both loaded blocks on Flax's inputs: `(file, gelu approximate, nnx output,
/// Flax's output)` per file and vector.
#[allow(clippy::type_complexity)]
pub fn outputs()
-> Result<Vec<(&'static str, bool, ArrayD<f32>, ArrayD<f32>)>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for (file, torch) in [
        ("block_shared.safetensors", false),
        ("block_shared_torch.safetensors", true),
    ] {
        let mut block = load_block(file, torch)?;
        for (_, approximate, x, want) in flax_vectors() {
            block.gelu_approximate = approximate;
            out.push((file, approximate, call!(block(&x))?, want));
        }
    }
    Ok(out)
}

#[allow(dead_code)] // the test includes this file for `outputs` and `load_block` only
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let block = Block::new(48, 6, &mut Rngs::new(1))?;
    println!("PyTorch names of the block's variables:");
    println!("{}", TorchMapping::pytorch().plan(&block)?);
    for (file, approximate, y, want) in outputs()? {
        let worst = (&y - &want).mapv(f32::abs).fold(0.0f32, |m, &d| m.max(d));
        println!("{file}, gelu approximate = {approximate}: max |nnx - Flax| = {worst:.2e}");
    }
    Ok(())
}
