//! A pre-LN transformer block forward (LayerNorm → causal multi-head self-attention →
//! residual → LayerNorm → MLP 4·d with gelu → residual; `examples/transformer_block.rs`,
//! the block checked against Flax) against PyTorch's, at d = 768 with 12 heads, batch 8
//! × 128 tokens and 1 × 512, on rayon pools of one and two threads.
//!
//! `cargo bench --bench block` (PyTorch columns need `python3` with `torch`). Criterion
//! times nnx's direct call and `vmap!` over the batch (the block has no batching rule,
//! so that is one call per example); then a summary prints medians of single calls for
//! both and for PyTorch (`benches/torch/block.py`, `torch.nn` modules, the same shapes)
//! with their ratios, and the peak resident memory of the process.

#[path = "../examples/transformer_block.rs"]
#[allow(dead_code)]
mod example;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

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

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
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

fn median_of(mut call: impl FnMut()) -> f64 {
    call();
    let mut times: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            call();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// PyTorch's medians by shape, or why there are none.
fn torch_medians(threads: usize) -> Result<Vec<f64>, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/torch/block.py");
    let shapes = SHAPES.map(|(b, t)| format!("{b}x{t}"));
    let output = Command::new("python3")
        .arg(script)
        .args([threads, ROUNDS, D, HEADS].map(|n| n.to_string()))
        .args(&shapes)
        .output()
        .map_err(|err| format!("python3: {err}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(stderr.lines().last().unwrap_or("failed").to_owned());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let seconds = line.split_whitespace().nth(1).unwrap_or("");
            seconds
                .parse()
                .map_err(|_| format!("unexpected line {line:?}"))
        })
        .collect()
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn summary(block: &Block) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split(':').nth(1)?.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    println!("\nPre-LN block, d = {D}, {HEADS} heads; medians of {ROUNDS} single calls, ms; {cpu}");
    println!("shape    threads  nnx call!  nnx vmap!  vmap/call  PyTorch  PyTorch/nnx");
    for threads in [1, 2] {
        let pool = pool(threads);
        let torch = torch_medians(threads);
        if let Err(why) = &torch {
            println!("(no PyTorch numbers: {why})");
        }
        for (i, (batch, tokens)) in SHAPES.into_iter().enumerate() {
            let x = input(batch, tokens);
            let direct = pool.install(|| median_of(|| drop(black_box(call!(block(&x)).unwrap()))));
            let mapped =
                pool.install(|| median_of(|| drop(black_box(vmap!(block(x.view())).unwrap()))));
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
