//! Loading a 1 GiB checkpoint into a matching module, against the floor of reading the
//! same file once from the page cache into an existing buffer; and the load's peak
//! resident memory against the model's size.
//!
//! The file (16 `Linear(4096, 4096)`, 1.0 GiB of F32) is generated in a temporary
//! directory when the bench starts and removed after; nothing is committed. Before
//! criterion's runs, one load is measured for memory (VmHWM from `/proc/self/status`,
//! reset through `/proc/self/clear_refs`) and both are timed alternately, a few times,
//! so a shared machine's drift hits them alike; the medians and their ratio are printed.
//!
//! `NNX_BENCH_CKPT_LAYERS=4` shrinks the model (4 layers: 256 MiB) for a quick run.

use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nnx::checkpoint::{self, Checkpoint, LoadOptions};
use nnx::prelude::*;

/// The model: `layers` dense layers of 4096 × 4096 with bias.
#[module]
struct Stack {
    layers: Vec<Linear>,
}

fn stack(layers: usize, fill: f32) -> Stack {
    let n = 4096;
    let layers = (0..layers)
        .map(|l| {
            let mut lin = Linear::with_init(
                n,
                n,
                &nnx::init::constant(fill),
                Some(&nnx::init::constant(fill)),
                &mut Rngs::new(0),
            );
            // Distinct values, so a load that wrote the wrong bytes would show.
            if fill != 0.0 {
                lin.kernel
                    .indexed_iter_mut()
                    .for_each(|((i, j), x)| *x = (l * n * n + i * n + j) as f32);
            }
            lin
        })
        .collect();
    Stack { layers }
}

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn read_once(file: &std::path::Path, buffer: &mut [u8]) {
    let mut f = std::fs::File::open(file).expect("the generated file");
    f.read_exact(buffer).expect("the whole file");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(c: &mut Criterion) {
    let layers: usize = std::env::var("NNX_BENCH_CKPT_LAYERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("stack.safetensors");
    {
        let source = stack(layers, 1.0);
        checkpoint::save(&source, &file).expect("save");
    }
    let size = std::fs::metadata(&file).expect("the file").len();
    let mut model = stack(layers, 0.0);
    let model_bytes = 4 * model.param_count();
    let tensor_bytes = 4 * 4096 * 4096;
    let options = LoadOptions::default();
    let load = |model: &mut Stack| {
        Checkpoint::open(&file)
            .expect("open")
            .load_into(model, &options)
            .expect("load")
    };

    // Warm the page cache, then one load measured for memory.
    load(&mut model);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = status_kib("VmRSS");
    load(&mut model);
    let peak = status_kib("VmHWM");
    assert_eq!(
        model.layers[layers - 1].kernel[[1, 2]],
        ((layers - 1) * 4096 * 4096 + 4096 + 2) as f32
    );
    eprintln!(
        "checkpoint: file {:.1} MiB, model {:.1} MiB, one tensor {:.1} MiB; RSS before the load \
         {:.1} MiB, peak during it {:.1} MiB (+{:.1} MiB)",
        size as f64 / 1048576.0,
        model_bytes as f64 / 1048576.0,
        tensor_bytes as f64 / 1048576.0,
        rss_before as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(rss_before)) as f64 / 1024.0,
    );

    // The floor: the same bytes from the page cache into a buffer that already exists
    // (as the module does), touched first so neither pays first-touch faults.
    let mut buffer = vec![1u8; size as usize];
    read_once(&file, &mut buffer);
    let (mut loads, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        black_box(load(&mut model));
        loads.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        read_once(&file, &mut buffer);
        black_box(&buffer);
        reads.push(t.elapsed().as_secs_f64());
    }
    let (l, r) = (median(loads), median(reads));
    eprintln!(
        "checkpoint, paired medians of 7: load_into {:.1} ms ({:.2} GiB/s), read {:.1} ms \
         ({:.2} GiB/s), load / read = {:.2}",
        l * 1e3,
        size as f64 / l / 1073741824.0,
        r * 1e3,
        size as f64 / r / 1073741824.0,
        l / r
    );

    let mut group = c.benchmark_group("checkpoint_1GiB");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Bytes(size));
    group.bench_function("load_into", |b| b.iter(|| black_box(load(&mut model))));
    group.bench_function("read_from_page_cache", |b| {
        b.iter(|| {
            read_once(&file, &mut buffer);
            black_box(&buffer);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
