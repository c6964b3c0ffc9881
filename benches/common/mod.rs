//! What the benches that compare with PyTorch share: rayon pools, medians of single
//! calls, PyTorch's medians from a script in `benches/compare/`, and the CPU's name.

use std::process::Command;
use std::time::Instant;

/// A rayon pool of `threads` threads.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// The median time of `rounds` single calls, after one untimed call.
pub fn median_of(rounds: usize, mut call: impl FnMut()) -> f64 {
    call();
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            call();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The medians `python3 benches/compare/<script> <args>` prints, one `SHAPE seconds`
/// line per shape, or why there are none (no python3, no torch, ...).
pub fn torch_medians(script: &str, args: &[String]) -> Result<Vec<f64>, String> {
    let path = format!("{}/benches/compare/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .arg(path)
        .args(args)
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

/// The CPU's model name, from `/proc/cpuinfo` (Linux).
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split(':').nth(1)?.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
