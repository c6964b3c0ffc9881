//! LayerNorm as a user calls it, `call!(ln(x))`, against PyTorch's CPU `F.layer_norm` on
//! the same shapes, in the same run, on one thread and on two.
//!
//! `cargo bench --bench versus_torch` (needs `python3` with `torch`: `pip install torch`;
//! without it the PyTorch column says so and the nnx side still runs). Criterion times
//! nnx's module call and the copy ceiling (`y = a·x + b` into an existing buffer, the
//! most any LayerNorm reading `x` once and writing `y` once can do); then a summary
//! prints medians of single calls for nnx, the ceiling and PyTorch (timed the same way
//! by `benches/torch/layer_norm.py`), in GB/s of 8 bytes per element, and their ratios.
//!
//! `NNX_BENCH_SHAPES=8192x64,4096x768` restricts the shapes.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nnx::ndarray::Array2;
use nnx::prelude::*;

const SHAPES: [(usize, usize); 5] = [
    (8192, 64),
    (4096, 768),
    (1024, 4096),
    (64, 65536),
    (16384, 1024),
];
/// Single calls timed per shape for the summary's medians.
const ROUNDS: usize = 201;

fn shapes() -> Vec<(usize, usize)> {
    let Ok(list) = std::env::var("NNX_BENCH_SHAPES") else {
        return SHAPES.to_vec();
    };
    list.split(',')
        .filter_map(|s| {
            let (r, f) = s.trim().split_once('x')?;
            Some((r.parse().ok()?, f.parse().ok()?))
        })
        .collect()
}

/// A LayerNorm with a non-trivial scale and bias, and an input in [-1, 3).
fn setup(rows: usize, features: usize) -> (LayerNorm, Array2<f32>) {
    let mut ln = LayerNorm::new(features);
    ln.scale.as_mut().unwrap().value.mapv_inplace(|_| 1.25);
    ln.bias.as_mut().unwrap().value.mapv_inplace(|_| 0.5);
    let x = Array2::from_shape_fn((rows, features), |(i, j)| {
        ((i * 31 + j * 17) % 97) as f32 * 0.04 - 1.0
    });
    (ln, x)
}

/// The copy ceiling: `y = a·x + b` over `x` into `out`, split over the pool's threads.
fn ceiling(x: &[f32], out: &mut [f32]) {
    let half = x.len() / 2;
    if rayon::current_num_threads() == 1 {
        out.iter_mut()
            .zip(x)
            .for_each(|(y, &v)| *y = v * 1.25 + 0.5);
        return;
    }
    let (x0, x1) = x.split_at(half);
    let (o0, o1) = out.split_at_mut(half);
    rayon::join(
        || {
            o0.iter_mut()
                .zip(x0)
                .for_each(|(y, &v)| *y = v * 1.25 + 0.5)
        },
        || {
            o1.iter_mut()
                .zip(x1)
                .for_each(|(y, &v)| *y = v * 1.25 + 0.5)
        },
    );
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

fn criterion_side(c: &mut Criterion) {
    for threads in [1, 2] {
        let pool = pool(threads);
        for (rows, features) in shapes() {
            let (ln, x) = setup(rows, features);
            let mut out = vec![0.0f32; x.len()];
            let mut group = c.benchmark_group(format!("{rows}x{features}_{threads}t"));
            group.throughput(Throughput::Bytes((8 * x.len()) as u64));
            group
                .sample_size(20)
                .warm_up_time(Duration::from_millis(300));
            group.measurement_time(Duration::from_secs(2));
            group.bench_function("nnx call!(ln(x))", |b| {
                pool.install(|| b.iter(|| call!(ln(black_box(&x))).unwrap()))
            });
            group.bench_function("ceiling y = a*x + b", |b| {
                pool.install(|| b.iter(|| ceiling(black_box(x.as_slice().unwrap()), &mut out)))
            });
            group.finish();
        }
    }
    summary();
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Medians of single calls, nnx and the ceiling alternated so both see the same machine.
fn nnx_medians(rows: usize, features: usize) -> (f64, f64) {
    let (ln, x) = setup(rows, features);
    let mut out = vec![0.0f32; x.len()];
    let (mut nnx, mut copy) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        black_box(call!(ln(black_box(&x))).unwrap());
        nnx.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        ceiling(black_box(x.as_slice().unwrap()), &mut out);
        copy.push(start.elapsed().as_secs_f64());
    }
    (median(nnx), median(copy))
}

/// PyTorch's medians by shape, or why there are none.
fn torch_medians(threads: usize, shapes: &[(usize, usize)]) -> Result<Vec<f64>, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/torch/layer_norm.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(threads.to_string())
        .arg(ROUNDS.to_string())
        .args(shapes.iter().map(|(r, f)| format!("{r}x{f}")))
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

fn summary() {
    let shapes = shapes();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split(':').nth(1)?.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let isa = nnx::kernels::default_isa().map_or_else(|e| e.to_string(), |isa| isa.to_string());
    println!(
        "\nLayerNorm, medians of {ROUNDS} single calls, GB/s (8 bytes per element); {cpu}, \
         kernel path {isa}"
    );
    println!("shape        threads  nnx call!  PyTorch  nnx/PyTorch  ceiling  nnx/ceiling");
    for threads in [1, 2] {
        let pool = pool(threads);
        let torch = torch_medians(threads, &shapes);
        if let Err(why) = &torch {
            println!("(no PyTorch numbers: {why})");
        }
        for (i, &(rows, features)) in shapes.iter().enumerate() {
            let (nnx, copy) = pool.install(|| nnx_medians(rows, features));
            let gbs = |seconds: f64| (8 * rows * features) as f64 / seconds / 1e9;
            let torch = torch.as_ref().ok().map(|t| t[i]);
            let torch_cols = match torch {
                Some(t) => format!("{:>7.1}  {:>11.2}", gbs(t), t / nnx),
                None => format!("{:>7}  {:>11}", "-", "-"),
            };
            println!(
                "{:<12} {threads:>7}  {:>9.1}  {torch_cols}  {:>7.1}  {:>11.2}",
                format!("{rows}x{features}"),
                gbs(nnx),
                gbs(copy),
                copy / nnx,
            );
        }
    }
}

criterion_group!(benches, criterion_side);
criterion_main!(benches);
