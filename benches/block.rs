//! A pre-LN transformer block forward (LayerNorm → causal multi-head self-attention →
//! residual → LayerNorm → MLP 4·d with gelu → residual; `examples/transformer_block.rs`,
//! the block checked against Flax) against PyTorch's, at d = 768 with 12 heads, batch 8
//! × 128 tokens and 1 × 512, on rayon pools of one and two threads.
//!
//! `cargo bench --bench block` (PyTorch columns need `python3` with `torch`). Criterion
//! times nnx's direct call and `vmap!` over the batch (the block's batching rule,
//! `over_leading_axes`: one call on the whole batch); then a summary prints medians of single calls for
//! both and for PyTorch (`benches/compare/block.py`, `torch.nn` modules, the same shapes)
//! with their ratios, and the peak resident memory of the process.

#[path = "../examples/transformer_block.rs"]
#[allow(dead_code)]
mod example;

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{cpu_name, median_of, pool, torch_medians};
use criterion::{Criterion, criterion_group, criterion_main};
use example::Block;
use nnx::ndarray::{Array3, ArrayD};
use nnx::prelude::*;

const D: usize = 768;
const HEADS: usize = 12;
/// (batch, tokens).
const SHAPES: [(usize, usize); 2] = [(8, 128), (1, 512)];
/// Single calls timed per shape for the summary's medians.
const ROUNDS: usize = 15;

fn input(batch: usize, tokens: usize) -> ArrayD<f32> {
    Array3::from_shape_fn((batch, tokens, D), |(b, t, j)| {
        ((b * 131 + t * 31 + j * 17) % 97) as f32 * 0.02 - 1.0
    })
    .into_dyn()
}

fn criterion_side(c: &mut Criterion) {
    let block = Block::new(D, HEADS, &mut Rngs::new(0)).expect("a block");
    for threads in [1, 2] {
        let pool = pool(threads);
        for (batch, tokens) in SHAPES {
            let x = input(batch, tokens);
            let mut group = c.benchmark_group(format!("block_{batch}x{tokens}_{threads}t"));
            group
                .sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
            group.bench_function("nnx call!(block(x))", |b| {
                pool.install(|| b.iter(|| call!(block(black_box(&x))).unwrap()))
            });
            group.bench_function("nnx vmap!(block(xs))", |b| {
                pool.install(|| b.iter(|| vmap!(block(black_box(x.view()))).unwrap()))
            });
            group.finish();
        }
    }
    summary(&block);
}

/// PyTorch's medians by shape, or why there are none.
fn torch_block(threads: usize) -> Result<Vec<f64>, String> {
    let args = [threads, ROUNDS, D, HEADS].map(|n| n.to_string());
    let shapes = SHAPES.map(|(b, t)| format!("{b}x{t}"));
    torch_medians("block.py", &[args.as_slice(), shapes.as_slice()].concat())
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn summary(block: &Block) {
    let cpu = cpu_name();
    println!("\nPre-LN block, d = {D}, {HEADS} heads; medians of {ROUNDS} single calls, ms; {cpu}");
    println!("shape    threads  nnx call!  nnx vmap!  vmap/call  PyTorch  PyTorch/nnx");
    for threads in [1, 2] {
        let pool = pool(threads);
        let torch = torch_block(threads);
        if let Err(why) = &torch {
            println!("(no PyTorch numbers: {why})");
        }
        for (i, (batch, tokens)) in SHAPES.into_iter().enumerate() {
            let x = input(batch, tokens);
            let direct =
                pool.install(|| median_of(ROUNDS, || drop(black_box(call!(block(&x)).unwrap()))));
            let mapped = pool
                .install(|| median_of(ROUNDS, || drop(black_box(vmap!(block(x.view())).unwrap()))));
            let torch = match &torch {
                Ok(t) => format!("{:>7.1}  {:>11.2}", t[i] * 1e3, t[i] / direct),
                Err(_) => format!("{:>7}  {:>11}", "-", "-"),
            };
            println!(
                "{batch}x{tokens:<6} {threads:>7}  {:>9.1}  {:>9.1}  {:>9.2}  {torch}",
                direct * 1e3,
                mapped * 1e3,
                mapped / direct,
            );
        }
    }
    if let Some(peak) = peak_rss_mib() {
        let weights = block.state().count() as f64 * 4.0 / (1 << 20) as f64;
        println!("peak resident memory {peak:.0} MiB (the block's weights: {weights:.0} MiB)");
    }
}

criterion_group!(benches, criterion_side);
criterion_main!(benches);
