//! What a user calls, against PyTorch on CPU on the same shapes, in the same run, on one
//! thread and on two: LayerNorm (`call!(ln(x))` against `F.layer_norm`) and Linear
//! (`call!(lin(x))` against `F.linear`).
//!
//! `cargo bench --bench versus_torch` (needs `python3` with `torch`: `pip install torch`;
//! without it the PyTorch columns say so and the nnx side still runs). Criterion times
//! the nnx calls (LayerNorm's `call!`, `vmap!` and `forward_into` a reused buffer, which
//! allocates nothing); then a summary prints medians of single calls for nnx and PyTorch
//! (timed the same way by `benches/compare/ops.py`) with their ratios: GB/s at 8 bytes
//! per element for LayerNorm, GFLOP/s (2·rows·in·out) for Linear.
//!
//! Both run on rayon pools of one and of two threads. On a CPU with AVX-512, Linear's
//! product is the `gemm` crate's, on that pool; elsewhere it is matrixmultiply's, on its
//! own threads (`MATMUL_NUM_THREADS`, default the physical cores, read once per
//! process), so there `MATMUL_NUM_THREADS=1` gives the one-thread numbers.
//! `NNX_BENCH_ONLY=layer_norm|linear` runs one half.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{cpu_name, median_of, pool, torch_medians};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nnx::ndarray::Array2;
use nnx::prelude::*;

const NORM_SHAPES: [(usize, usize); 5] = [
    (8192, 64),
    (4096, 768),
    (1024, 4096),
    (64, 65536),
    (16384, 1024),
];
/// rows × in → out: a transformer's projections and MLP at d = 768, and a decode step.
const LINEAR_SHAPES: [(usize, usize, usize); 4] = [
    (4096, 768, 768),
    (4096, 768, 3072),
    (4096, 3072, 768),
    (64, 4096, 4096),
];
/// Single calls timed per shape for the summary's medians.
const ROUNDS: usize = 101;

fn runs(half: &str) -> bool {
    std::env::var("NNX_BENCH_ONLY").map_or(true, |only| only == half)
}

/// A LayerNorm with a non-trivial scale and bias, and an input in [-1, 3).
fn norm_setup(rows: usize, features: usize) -> (LayerNorm, Array2<f32>) {
    let mut ln = LayerNorm::new(features);
    ln.scale.as_mut().unwrap().value.fill(1.25);
    ln.bias.as_mut().unwrap().value.fill(0.5);
    let x = Array2::from_shape_fn((rows, features), |(i, j)| {
        ((i * 31 + j * 17) % 97) as f32 * 0.04 - 1.0
    });
    (ln, x)
}

fn linear_setup(rows: usize, inputs: usize, outputs: usize) -> (Linear, Array2<f32>) {
    let lin = Linear::new(inputs, outputs, &mut Rngs::new(0));
    let x = Array2::from_shape_fn((rows, inputs), |(i, j)| ((i * 7 + j * 3) % 13) as f32 * 0.1);
    (lin, x)
}

/// `ln.forward_into`: the module writing into a buffer the caller reuses.
fn into(ln: &LayerNorm, x: &Array2<f32>, out: &mut Array2<f32>) {
    ln.forward_into(x.view().into_dyn(), None, out.view_mut().into_dyn())
        .unwrap()
}

fn criterion_side(c: &mut Criterion) {
    for threads in [1, 2] {
        let pool = pool(threads);
        for (rows, features) in NORM_SHAPES.into_iter().filter(|_| runs("layer_norm")) {
            let (ln, x) = norm_setup(rows, features);
            let mut out = Array2::zeros(x.raw_dim());
            let mut group = c.benchmark_group(format!("layer_norm_{rows}x{features}_{threads}t"));
            group.throughput(Throughput::Bytes((8 * x.len()) as u64));
            group
                .sample_size(20)
                .warm_up_time(Duration::from_millis(300));
            group.measurement_time(Duration::from_secs(2));
            group.bench_function("nnx call!(ln(x))", |b| {
                pool.install(|| b.iter(|| call!(ln(black_box(&x))).unwrap()))
            });
            group.bench_function("nnx vmap!(ln(xs))", |b| {
                pool.install(|| b.iter(|| vmap!(ln(black_box(x.view()))).unwrap()))
            });
            group.bench_function("nnx ln.forward_into(x, out)", |b| {
                pool.install(|| b.iter(|| into(&ln, black_box(&x), &mut out)))
            });
            group.finish();
        }
    }
    for threads in [1, 2] {
        let pool = pool(threads);
        for (rows, inputs, outputs) in LINEAR_SHAPES.into_iter().filter(|_| runs("linear")) {
            let (lin, x) = linear_setup(rows, inputs, outputs);
            let name = format!("linear_{rows}x{inputs}x{outputs}_{threads}t");
            let mut group = c.benchmark_group(name);
            group.throughput(Throughput::Elements((2 * rows * inputs * outputs) as u64));
            group
                .sample_size(10)
                .warm_up_time(Duration::from_millis(300));
            group.measurement_time(Duration::from_secs(2));
            group.bench_function("nnx call!(lin(x))", |b| {
                pool.install(|| b.iter(|| call!(lin(black_box(&x))).unwrap()))
            });
            group.finish();
        }
    }
    summary();
}

/// `ops.py`'s arguments: the op, threads, rounds, then the shapes.
fn ops_args(op: &str, threads: usize, shapes: &[String]) -> Vec<String> {
    [op.to_owned(), threads.to_string(), ROUNDS.to_string()]
        .into_iter()
        .chain(shapes.iter().cloned())
        .collect()
}

fn torch_columns(
    torch: &Result<Vec<f64>, String>,
    i: usize,
    rate: impl Fn(f64) -> f64,
    nnx: f64,
) -> String {
    match torch {
        Ok(t) => format!("{:>8.1}  {:>11.2}", rate(t[i]), t[i] / nnx),
        Err(_) => format!("{:>8}  {:>11}", "-", "-"),
    }
}

fn summary() {
    let cpu = cpu_name();
    let isa = nnx::kernels::default_isa().map_or_else(|e| e.to_string(), |isa| isa.to_string());
    println!("\nMedians of {ROUNDS} single calls; {cpu}, kernel path {isa}");
    if runs("layer_norm") {
        println!(
            "\nLayerNorm, GB/s\nshape        threads  nnx call!  nnx vmap!  forward_into   PyTorch  call!/PyTorch  call!/into"
        );
        let names: Vec<String> = NORM_SHAPES
            .iter()
            .map(|(r, f)| format!("{r}x{f}"))
            .collect();
        for threads in [1, 2] {
            let pool = pool(threads);
            let torch = torch_medians("ops.py", &ops_args("layer_norm", threads, &names));
            if let Err(why) = &torch {
                println!("(no PyTorch numbers: {why})");
            }
            for (i, &(rows, features)) in NORM_SHAPES.iter().enumerate() {
                let (ln, x) = norm_setup(rows, features);
                let mut out = Array2::zeros(x.raw_dim());
                let time = |f: &mut (dyn FnMut() + Send)| pool.install(|| median_of(ROUNDS, f));
                let call = time(&mut || drop(black_box(call!(ln(black_box(&x))).unwrap())));
                let vmap = time(&mut || drop(black_box(vmap!(ln(black_box(x.view()))).unwrap())));
                let into = time(&mut || into(&ln, black_box(&x), &mut out));
                let gbs = |seconds: f64| (8 * rows * features) as f64 / seconds / 1e9;
                println!(
                    "{:<12} {threads:>7}  {:>9.1}  {:>9.1}  {:>12.1}  {}  {:>10.2}",
                    names[i],
                    gbs(call),
                    gbs(vmap),
                    gbs(into),
                    torch_columns(&torch, i, gbs, call),
                    into / call,
                );
            }
        }
    }
    if runs("linear") {
        println!(
            "\nLinear, GFLOP/s (with AVX-512: gemm on the rayon pool; otherwise matrixmultiply, \
             whose threads are MATMUL_NUM_THREADS whatever the pool)"
        );
        println!("shape            threads  nnx call!   PyTorch  nnx/PyTorch");
        let names: Vec<String> = LINEAR_SHAPES
            .iter()
            .map(|(r, i, o)| format!("{r}x{i}x{o}"))
            .collect();
        for threads in [1, 2] {
            let pool = pool(threads);
            let torch = torch_medians("ops.py", &ops_args("linear", threads, &names));
            if let Err(why) = &torch {
                println!("(no PyTorch numbers: {why})");
            }
            for (i, &(rows, inputs, outputs)) in LINEAR_SHAPES.iter().enumerate() {
                let (lin, x) = linear_setup(rows, inputs, outputs);
                let nnx = pool.install(|| {
                    median_of(ROUNDS, || {
                        drop(black_box(call!(lin(black_box(&x))).unwrap()))
                    })
                });
                let gflops = |seconds: f64| (2 * rows * inputs * outputs) as f64 / seconds / 1e9;
                println!(
                    "{:<16} {threads:>7}  {:>9.1}  {}",
                    names[i],
                    gflops(nnx),
                    torch_columns(&torch, i, gflops, nnx),
                );
            }
        }
    }
}

criterion_group!(benches, criterion_side);
criterion_main!(benches);
