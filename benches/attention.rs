//! Causal multi-head self-attention (`MultiHeadAttention`, d = 768, 12 heads) at batch
//! 8 × 128 and 8 × 512 tokens: nnx's direct call on the batch, `vmap!` over the batch
//! (the layer's batching rule: one call on the whole batch), and PyTorch's
//! `nn.MultiheadAttention` (`benches/compare/attention.py`), on rayon pools of one and two
//! threads.
//!
//! `cargo bench --bench attention` (PyTorch's column needs `python3` with `torch`).
//! Criterion times the two nnx forms; a summary then prints medians of single calls for
//! all three with their ratios.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{cpu_name, median_of, pool, torch_medians};
use criterion::{Criterion, criterion_group, criterion_main};
use nnx::layers::make_causal_mask;
use nnx::ndarray::{Array3, ArrayD};
use nnx::prelude::*;

const D: usize = 768;
const HEADS: usize = 12;
/// (batch, tokens).
const SHAPES: [(usize, usize); 2] = [(8, 128), (8, 512)];
/// Single calls timed per shape for the summary's medians.
const ROUNDS: usize = 15;

fn input(batch: usize, tokens: usize) -> ArrayD<f32> {
    Array3::from_shape_fn((batch, tokens, D), |(b, t, j)| {
        ((b * 131 + t * 31 + j * 17) % 97) as f32 * 0.02 - 1.0
    })
    .into_dyn()
}

/// The direct call: the batch is a leading axis of `x`; one mask for every example.
fn direct(attn: &MultiHeadAttention, x: &ArrayD<f32>, mask: &ArrayD<bool>) -> ArrayD<f32> {
    call!(attn(x, mask = mask, deterministic = Some(true))).unwrap()
}

/// `vmap!` over the batch, the mask broadcast to every example.
fn mapped(attn: &MultiHeadAttention, x: &ArrayD<f32>, mask: &ArrayD<bool>) -> ArrayD<f32> {
    let deterministic = Some(true);
    vmap!(
        attn(x.view(), mask = mask.view(), deterministic = deterministic),
        in_axes = (0, mask = None, deterministic = None)
    )
    .unwrap()
}

fn criterion_side(c: &mut Criterion) {
    let attn = MultiHeadAttention::new(HEADS, D, &mut Rngs::new(0)).expect("12 heads divide 768");
    for threads in [1, 2] {
        let pool = pool(threads);
        for (batch, tokens) in SHAPES {
            let (x, mask) = (input(batch, tokens), make_causal_mask(&[tokens]).unwrap());
            let mut group = c.benchmark_group(format!("attention_{batch}x{tokens}_{threads}t"));
            group
                .sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
            group.bench_function("nnx call!(attn(x))", |b| {
                pool.install(|| b.iter(|| direct(&attn, black_box(&x), &mask)))
            });
            group.bench_function("nnx vmap!(attn(xs))", |b| {
                pool.install(|| b.iter(|| mapped(&attn, black_box(&x), &mask)))
            });
            group.finish();
        }
    }
    summary(&attn);
}

fn summary(attn: &MultiHeadAttention) {
    let cpu = cpu_name();
    println!(
        "\nCausal self-attention, d = {D}, {HEADS} heads; medians of {ROUNDS} single calls, ms; {cpu}"
    );
    println!("shape    threads  nnx call!  nnx vmap!  vmap/call  PyTorch  PyTorch/nnx");
    for threads in [1, 2] {
        let pool = pool(threads);
        let args = [threads, ROUNDS, D, HEADS].map(|n| n.to_string());
        let shapes = SHAPES.map(|(b, t)| format!("{b}x{t}"));
        let torch = torch_medians(
            "attention.py",
            &[args.as_slice(), shapes.as_slice()].concat(),
        );
        if let Err(why) = &torch {
            println!("(no PyTorch numbers: {why})");
        }
        for (i, (batch, tokens)) in SHAPES.into_iter().enumerate() {
            let (x, mask) = (input(batch, tokens), make_causal_mask(&[tokens]).unwrap());
            let call =
                pool.install(|| median_of(ROUNDS, || drop(black_box(direct(attn, &x, &mask)))));
            let vmap =
                pool.install(|| median_of(ROUNDS, || drop(black_box(mapped(attn, &x, &mask)))));
            let torch = match &torch {
                Ok(t) => format!("{:>7.1}  {:>11.2}", t[i] * 1e3, t[i] / call),
                Err(_) => format!("{:>7}  {:>11}", "-", "-"),
            };
            println!(
                "{batch}x{tokens:<6} {threads:>7}  {:>9.1}  {:>9.1}  {:>9.2}  {torch}",
                call * 1e3,
                vmap * 1e3,
                vmap / call,
            );
        }
    }
}

criterion_group!(benches, criterion_side);
criterion_main!(benches);
