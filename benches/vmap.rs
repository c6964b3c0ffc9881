//! What `vmap!` costs over calling the work directly, on the same arrays.
//!
//! * LayerNorm with a mask on [4096, 768]: `vmap!(ln(xs, mask = ms))` (batching rule)
//!   against one direct kernel call (`norm_rows`, allocating like vmap does) and the
//!   module's own call on the whole 2-D array.
//! * A user module without a batching rule: `vmap!` (per-example calls + stacking)
//!   against the loop a user would write by hand.
//!
//! `cargo bench --bench vmap`. Throughput is bytes read + written (8 per element).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array1, Array2, ArrayD, ArrayViewD, Axis};
use nnx::kernels::{NormKind, NormSpec, norm_rows};
use nnx::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn data(rows: usize, cols: usize) -> (Array2<f32>, Array2<bool>) {
    let x = Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 31 + j * 17) % 97) as f32 * 0.1 - 4.0
    });
    let m = Array2::from_shape_fn((rows, cols), |(i, j)| (i + 3 * j) % 5 != 0);
    (x, m)
}

fn layer_norm(c: &mut Criterion) {
    let (rows, cols) = (4096, 768);
    let (x, m) = data(rows, cols);
    let ln = LayerNorm::new(cols);
    let mut group = c.benchmark_group("layernorm_4096x768_mask");
    group.throughput(Throughput::Bytes((8 * rows * cols) as u64));
    group.bench_function("kernel norm_rows (direct)", |b| {
        let spec = NormSpec {
            kind: NormKind::LayerNorm,
            epsilon: 1e-6,
            scale: ln.scale.as_ref().and_then(|s| s.as_slice()),
            bias: ln.bias.as_ref().and_then(|s| s.as_slice()),
        };
        b.iter(|| {
            norm_rows(
                black_box(x.as_slice().unwrap()),
                Some(m.as_slice().unwrap()),
                cols,
                &spec,
            )
            .unwrap()
        })
    });
    group.bench_function("call!(ln(x, mask)) on the 2-D batch", |b| {
        b.iter(|| call!(ln(black_box(&x), mask = &m)).unwrap())
    });
    group.bench_function("vmap!(ln(xs, mask = ms))", |b| {
        b.iter(|| vmap!(ln(black_box(&x), mask = &m)).unwrap())
    });
    // The same two calls alternated within each sample, so both see the same machine
    // and allocator state (the VM is shared and noisy); each reports only its own time.
    let direct = || call!(ln(black_box(&x), mask = &m)).unwrap();
    let vmapped = || vmap!(ln(black_box(&x), mask = &m)).unwrap();
    group.bench_function("interleaved: call!", |b| {
        b.iter_custom(|iters| alternate(iters, direct, vmapped).0)
    });
    group.bench_function("interleaved: vmap!", |b| {
        b.iter_custom(|iters| alternate(iters, direct, vmapped).1)
    });
    group.finish();
}

/// Runs `first` and `second` alternately `iters` times, swapping which goes first every
/// other time (each one's allocation finds the heap the other left); returns each one's
/// total time.
fn alternate<A, B>(
    iters: u64,
    first: impl Fn() -> A,
    second: impl Fn() -> B,
) -> (Duration, Duration) {
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
    for i in 0..iters {
        if i % 2 == 0 {
            a += time(&|| drop(black_box(first())));
            b += time(&|| drop(black_box(second())));
        } else {
            b += time(&|| drop(black_box(second())));
            a += time(&|| drop(black_box(first())));
        }
    }
    (a, b)
}

/// A module with no batching rule.
#[module]
struct Affine {
    weight: Param<Array1<f32>>,
    bias: Param<Array1<f32>>,
}

#[module]
impl Affine {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        let mut y = &x * &*self.weight;
        y += &*self.bias;
        y
    }
}

fn user_module(c: &mut Criterion) {
    let (rows, cols) = (4096, 768);
    let (x, _) = data(rows, cols);
    let affine = Affine {
        weight: Param::new(Array1::from_elem(cols, 1.5)),
        bias: Param::new(Array1::from_elem(cols, 0.25)),
    };
    let mut group = c.benchmark_group("user_module_4096x768");
    group.throughput(Throughput::Bytes((8 * rows * cols) as u64));
    group.bench_function("hand-written loop", |b| {
        b.iter(|| {
            let rows: Vec<ArrayD<f32>> = black_box(&x)
                .axis_iter(Axis(0))
                .map(|row| affine.forward(row.into_dyn()))
                .collect();
            let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
            ndarray::stack(Axis(0), &views).unwrap()
        })
    });
    group.bench_function("vmap!(affine(xs))", |b| {
        b.iter(|| vmap!(affine(black_box(&x))).unwrap())
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = layer_norm, user_module
}
criterion_main!(benches);
