//! Throughput of the LayerNorm kernel against a memory ceiling and a naive ndarray version.
//!
//! Bytes per iteration are `8 * rows * features` (read x once, write y once), so GiB/s is
//! comparable across paths and with the ceilings: `y = a*x + b` over the same buffers on
//! one thread (`ceiling_1t`) and split in two halves with `rayon::join` (`ceiling_2t`).
//! Compare `single_*` with `ceiling_1t` and `auto_*` with `ceiling_2t`. Sample sizes are
//! small so that the full run (five shapes) takes about three minutes.
//!
//! On a shared machine the bandwidth moves by ±30% between criterion's benchmarks, which
//! run one after the other, so each shape also gets a *paired* measurement: the ceilings
//! and the kernels run alternately in one loop, and the medians of those interleaved
//! timings (and their ratios) are printed after the shape's criterion results.
//!
//! Environment:
//! - `NNX_BENCH_SHAPES=8192x64,4096x768` restricts the shapes (default: all five).
//! - `NNX_BENCH_QUICK=1` runs only the ceilings and the default path's kernels (single,
//!   masked, auto), for quick before/after comparisons.
//! - `NNX_BENCH_NAIVE_MAX=<elements>` largest shape the slow ndarray version runs on
//!   (default 4_194_304).
//! - `NNX_ISA=...` forces the kernel's default path, as for the library itself.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{ArrayView1, ArrayView2, Axis};
use nnx_core::kernels::{Isa, NormSpec, Threads, default_isa, norm_rows, norm_rows_into_with};

const SHAPES: [(usize, usize); 5] = [
    (8192, 64),
    (4096, 768),
    (1024, 4096),
    (64, 65536),
    (16384, 1024),
];
const EPS: f32 = 1e-5;

/// Deterministic, cheap pseudo-random data (no RNG crate needed).
fn data(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1 << 24) as f32 * 4.0 - 1.0
        })
        .collect()
}

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

fn quick() -> bool {
    std::env::var_os("NNX_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The ceiling: one multiply-add per element over the same buffers.
fn axpb(x: &[f32], out: &mut [f32]) {
    let (a, c) = (black_box(1.5f32), black_box(0.25f32));
    for (o, &v) in out.iter_mut().zip(x) {
        *o = a * v + c;
    }
}

fn naive_max() -> usize {
    std::env::var("NNX_BENCH_NAIVE_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 22)
}

/// What a user would write with ndarray: mean and variance along the feature axis, then
/// broadcasting arithmetic that allocates temporaries.
fn naive_layer_norm(
    x: ArrayView2<f32>,
    scale: ArrayView1<f32>,
    bias: ArrayView1<f32>,
) -> ndarray::Array2<f32> {
    let mean = x
        .mean_axis(Axis(1))
        .expect("features > 0")
        .insert_axis(Axis(1));
    let std = x
        .var_axis(Axis(1), 0.0)
        .mapv(|v| (v + EPS).sqrt())
        .insert_axis(Axis(1));
    (&x - &mean) / &std * scale + bias
}

/// One shape's inputs: the same data for every contender.
struct Inputs {
    x: Vec<f32>,
    scale: Vec<f32>,
    bias: Vec<f32>,
    /// About 75% kept.
    mask: Vec<bool>,
}

impl Inputs {
    fn new(rows: usize, features: usize) -> Inputs {
        let len = rows * features;
        Inputs {
            x: data(len, 1),
            scale: data(features, 2),
            bias: data(features, 3),
            mask: data(len, 4).iter().map(|&v| v > -0.5).collect(),
        }
    }

    /// LayerNorm with scale and bias.
    fn spec(&self) -> NormSpec<'_> {
        NormSpec {
            scale: Some(&self.scale),
            bias: Some(&self.bias),
            ..NormSpec::layer_norm(EPS)
        }
    }
}

/// The two-thread ceiling: [`axpb`] on two halves with `rayon::join`.
fn axpb_2t(x: &[f32], out: &mut [f32]) {
    let half = x.len() / 2;
    let (x0, x1) = x.split_at(half);
    let (o0, o1) = out.split_at_mut(half);
    rayon::join(|| axpb(x0, o0), || axpb(x1, o1));
}

fn bench_shape(group: &mut BenchmarkGroup<WallTime>, rows: usize, features: usize) {
    let inputs = Inputs::new(rows, features);
    let Inputs {
        x,
        scale,
        bias,
        mask,
        ..
    } = &inputs;
    let spec = inputs.spec();
    let isa = default_isa().expect("NNX_ISA names an available path");
    let mut out = vec![0.0f32; x.len()];

    group.bench_function("ceiling_1t", |b| b.iter(|| axpb(black_box(x), &mut out)));
    group.bench_function("ceiling_2t", |b| b.iter(|| axpb_2t(black_box(x), &mut out)));
    let mut kernel = |name: String, isa: Isa, threads: Threads, mask: Option<&[bool]>| {
        group.bench_function(name, |b| {
            b.iter(|| {
                norm_rows_into_with(isa, threads, black_box(x), mask, features, &spec, &mut out)
            })
        });
    };
    kernel(format!("single_{isa}"), isa, Threads::Single, None);
    kernel(
        format!("single_{isa}_masked"),
        isa,
        Threads::Single,
        Some(mask),
    );
    kernel(format!("auto_{isa}"), isa, Threads::Auto, None);
    if quick() {
        return;
    }
    for other in Isa::all_available().into_iter().filter(|&i| i != isa) {
        kernel(format!("single_{other}"), other, Threads::Single, None);
    }
    group.bench_function("alloc_norm_rows", |b| {
        b.iter(|| norm_rows(black_box(x), None, features, &spec))
    });
    if x.len() <= naive_max() {
        let xv = ArrayView2::from_shape((rows, features), &x[..]).expect("shape");
        let (sv, bv) = (ArrayView1::from(&scale[..]), ArrayView1::from(&bias[..]));
        group.bench_function("naive_ndarray", |b| {
            b.iter(|| naive_layer_norm(black_box(xv), sv, bv))
        });
    }
}

/// Median of a sample (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The paired measurement (see the module docs): every repetition times each contender
/// once, in the same order, so all of them see the same machine.
fn paired(rows: usize, features: usize) {
    let inputs = Inputs::new(rows, features);
    let (x, mask, spec) = (&inputs.x, &inputs.mask, inputs.spec());
    let len = x.len();
    let isa = default_isa().expect("NNX_ISA names an available path");
    let mut out = vec![0.0f32; len];
    let bytes = 8.0 * len as f64;
    // A few seconds per shape on this machine class.
    let reps = (4e10 / bytes).clamp(15.0, 400.0) as usize;
    let mut times = [(); 5].map(|_| Vec::with_capacity(reps));
    for _ in 0..reps {
        let mut time = |i: usize, f: &mut dyn FnMut()| {
            if i >= 3 {
                // Two-thread contenders: one untimed call first, so that the rayon
                // workers are awake (they fall asleep during the single-thread runs).
                f();
            }
            let start = std::time::Instant::now();
            f();
            times[i].push(start.elapsed().as_secs_f64());
        };
        time(0, &mut || axpb(black_box(x), &mut out));
        time(1, &mut || {
            norm_rows_into_with(isa, Threads::Single, x, None, features, &spec, &mut out)
                .expect("valid input")
        });
        time(2, &mut || {
            norm_rows_into_with(
                isa,
                Threads::Single,
                x,
                Some(mask),
                features,
                &spec,
                &mut out,
            )
            .expect("valid input")
        });
        time(3, &mut || axpb_2t(black_box(x), &mut out));
        time(4, &mut || {
            norm_rows_into_with(isa, Threads::Auto, x, None, features, &spec, &mut out)
                .expect("valid input")
        });
    }
    let [c1, single, masked, c2, auto] = times.map(|mut t| median(&mut t));
    let gib = |t: f64| bytes / t / f64::from(1u32 << 30);
    println!(
        "paired {rows}x{features} ({isa}, median of {reps} alternated runs, GiB/s): \
         ceiling_1t {:.1}, single {:.1} (ratio {:.2}), masked {:.1} (time {:.2}x single), \
         ceiling_2t {:.1}, auto {:.1} (ratio {:.2})",
        gib(c1),
        gib(single),
        c1 / single,
        gib(masked),
        masked / single,
        gib(c2),
        gib(auto),
        c2 / auto,
    );
}

fn norm_kernel(c: &mut Criterion) {
    for (rows, features) in shapes() {
        let mut group = c.benchmark_group(format!("layernorm_{rows}x{features}"));
        group
            .throughput(Throughput::Bytes(8 * (rows * features) as u64))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1500));
        bench_shape(&mut group, rows, features);
        group.finish();
        paired(rows, features);
    }
}

criterion_group!(benches, norm_kernel);
criterion_main!(benches);
