//! Row-wise LayerNorm / RMSNorm kernels with runtime SIMD dispatch.
//!
//! The input is a row-major `rows × features` matrix of `f32`; every row is normalised
//! independently, following Flax NNX semantics:
//!
//! ```text
//! n          = number of masked-in elements of the row (all of them without a mask)
//! LayerNorm: mean = Σ(m ? x : 0) / n          var = Σ(m ? (x - mean)² : 0) / n
//! RMSNorm:   mean = 0                         var = Σ(m ? x² : 0) / n
//! mul        = 1 / sqrt(var + eps)  [* scale[j]]
//! y[j]       = (x[j] - mean) * mul  [+ bias[j]]
//! ```
//!
//! The mask only selects which elements enter the statistics; every output position is
//! normalised. A row without masked-in elements has `n = 0` and becomes all NaN, exactly
//! as plain IEEE arithmetic gives; NaN and infinities propagate the same way.
//!
//! # Accuracy
//! The variance is always computed from centred values, never as `E[x²] - E[x]²`.
//! The scalar and NEON paths use the *corrected* two-pass scheme: the second pass
//! also sums the residuals `d = x - m₀` of the first-pass mean `m₀`, which recovers the
//! rounding error of `m₀`; the output is computed as `((x - m₀) - c) * mul` with that
//! correction `c`. Rows with mean 1e4 and standard deviation 1 thus match an `f64`
//! reference to about 1e-6 relative even though `f32` cannot represent such a mean to
//! better than ~5e-4. All sums use many independent accumulators (lanes), which keeps
//! rounding error growth low and lets the loops run at full SIMD width.
//!
//! The AVX2 and AVX-512 paths read `x` once for the statistics instead of twice. They
//! sum `d = x - k` and `d²` in one pass, `k` being the first kept element of the row
//! (on AVX-512, of each 1024-element chunk of long rows), and apply the same
//! correction with `m₀ = k`: the shifted-data algorithm (Chan, Golub and LeVeque,
//! 1983). Its cancellation costs `log2(1 + c²/var)` bits, small while `k` lies within a
//! few standard deviations of the mean; a row or chunk where it does not (`c² > 15 var`,
//! e.g. an outlier channel first) is summed again around the mean just found, so no
//! row loses more than 4 bits. AVX-512 merges the chunks' (count, mean, centred sum of
//! squares) exactly in `f64` (Chan et al.). Tests hold every path to the same `f64`
//! tolerance, lone outliers as `k` included.
//!
//! Finite inputs can still overflow `f32` in the squares (deviations from about
//! 1.8e19/√n): the variance becomes infinite and `1/sqrt(inf) = 0` would turn the row
//! into its bias (which is what Flax's `f32` code gives). Every path notices that
//! (`inv_std == 0` with a finite `eps`, a first-pass mean that overflowed, a chunk
//! whose sums did) and computes such a row's statistics again by two passes in `f64`,
//! which holds the squares of any `f32`; the single-pass paths first try their second
//! pass around the mean, since their squares around `k` can overflow where those
//! around the mean do not. With `eps = 0`, a variance that underflows (`inv_std`
//! infinite) takes the same `f64` statistics, so every path gives the same ±inf. Other
//! rows never take these branches. Every path writes `((x - shift) - corr) · (inv_std
//! [· scale]) [+ bias]` in that order, so a scaled output within `f32` never overflows
//! on the way; a differential fuzz test (`kernels/tests/fuzz.rs`) holds the paths to
//! each other on such rows.
//!
//! # Instruction sets
//! [`norm_rows_into`] picks the best available path once per process: AVX-512
//! (F+BW+VL), AVX2+FMA, NEON, or the portable scalar code. Set the environment variable
//! `NNX_ISA` to `scalar`, `avx2`, `avx512` or `neon` to force a path (read once, the
//! first time a kernel runs). A forced path that this CPU lacks, or an unknown name, makes
//! [`norm_rows_into`] return an error rather than silently run another path.
//! [`norm_rows_into_with`] takes the path explicitly. Paths differ in the order of
//! summation (and AVX-512 in chunking long rows), so their results agree to a few ulps,
//! not bitwise.
//!
//! # Threads
//! [`Threads::Auto`] splits large inputs into blocks of whole rows and runs them on the
//! rayon pool. Each row is computed by the same code whatever the split, so the result
//! is bitwise identical to [`Threads::Single`].

use std::fmt;
use std::mem::MaybeUninit;
use std::str::FromStr;
use std::sync::OnceLock;

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
mod affine;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod direction;
#[cfg(target_arch = "x86_64")]
mod group;
#[cfg(target_arch = "x86_64")]
mod lines;
#[cfg(target_arch = "aarch64")]
mod neon;
mod row;
mod scalar;
#[cfg(test)]
mod tests;

/// One element of an output the kernels are writing: the allocating forms hand them
/// memory that is not initialized yet (zeroing it first would cost a pass over memory), and
/// every path only ever writes it.
type Out = MaybeUninit<f32>;

/// Which normalisation: LayerNorm subtracts the mean; RMSNorm does not (mean = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormKind {
    /// `(x - mean) / sqrt(var + eps)`, as `flax.nnx.LayerNorm`.
    LayerNorm,
    /// `x / sqrt(mean(x²) + eps)`, as `flax.nnx.RMSNorm`.
    RmsNorm,
}

/// Per-feature affine parameters and epsilon. `scale`/`bias` have length `features` when present.
#[derive(Clone, Copy, Debug)]
pub struct NormSpec<'a> {
    /// LayerNorm or RMSNorm.
    pub kind: NormKind,
    /// Added to the variance before the square root.
    pub epsilon: f32,
    /// Multiplies each feature after normalisation (`None`: 1).
    pub scale: Option<&'a [f32]>,
    /// Added to each feature last (`None`: 0).
    pub bias: Option<&'a [f32]>,
}

impl NormSpec<'_> {
    /// LayerNorm with the given epsilon and no affine parameters.
    pub fn layer_norm(epsilon: f32) -> Self {
        NormSpec {
            kind: NormKind::LayerNorm,
            epsilon,
            scale: None,
            bias: None,
        }
    }

    /// RMSNorm with the given epsilon and no affine parameters.
    pub fn rms_norm(epsilon: f32) -> Self {
        NormSpec {
            kind: NormKind::RmsNorm,
            epsilon,
            scale: None,
            bias: None,
        }
    }
}

/// Instruction-set paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable Rust; available everywhere.
    Scalar,
    /// x86_64 AVX2 with FMA.
    Avx2Fma,
    /// x86_64 AVX-512 F, BW and VL (with POPCNT, which every AVX-512 CPU has).
    Avx512,
    /// aarch64 Advanced SIMD.
    Neon,
}

impl Isa {
    /// The best path this CPU supports. Ignores `NNX_ISA`; see [`default_isa`] for the path
    /// [`norm_rows_into`] actually uses.
    pub fn detect() -> Isa {
        [Isa::Avx512, Isa::Avx2Fma, Isa::Neon]
            .into_iter()
            .find(|isa| isa.is_available())
            .unwrap_or(Isa::Scalar)
    }

    /// Whether this CPU (and this build's target architecture) can run the path.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("popcnt")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)] // every arm above may be compiled out
            _ => false,
        }
    }

    /// Every path this CPU can run, scalar first.
    pub fn all_available() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2Fma, Isa::Avx512, Isa::Neon]
            .into_iter()
            .filter(|isa| isa.is_available())
            .collect()
    }

    /// The lower-case name that `NNX_ISA` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2Fma => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Isa {
    type Err = KernelError;

    /// Parses the `NNX_ISA` names (case-insensitive, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Isa, KernelError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Ok(Isa::Scalar),
            "avx2" => Ok(Isa::Avx2Fma),
            "avx512" => Ok(Isa::Avx512),
            "neon" => Ok(Isa::Neon),
            _ => Err(KernelError::UnknownIsa { name: s.to_owned() }),
        }
    }
}

/// The path [`norm_rows_into`] and [`norm_rows`] use: `NNX_ISA` if set (and non-empty),
/// otherwise [`Isa::detect`]. Decided once per process.
pub fn default_isa() -> Result<Isa, KernelError> {
    static CHOICE: OnceLock<Result<Isa, KernelError>> = OnceLock::new();
    CHOICE
        .get_or_init(|| isa_from_env(std::env::var("NNX_ISA").ok().as_deref()))
        .clone()
}

/// `NNX_ISA` value → path; unset or blank means "detect".
fn isa_from_env(value: Option<&str>) -> Result<Isa, KernelError> {
    match value {
        Some(name) if !name.trim().is_empty() => name
            .parse()
            .and_then(|isa| CheckedIsa::new(isa).map(|_| isa))
            .map_err(|reason| KernelError::Env {
                value: name.to_owned(),
                reason: Box::new(reason),
            }),
        _ => Ok(Isa::detect()),
    }
}

/// Thread policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Threads {
    /// Run on the calling thread only.
    Single,
    /// Split large inputs into row blocks on the rayon pool (bitwise identical to `Single`).
    #[default]
    Auto,
}

/// The argument a length error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// The input rows.
    X,
    /// The mask selecting what enters the statistics.
    Mask,
    /// The output buffer.
    Out,
    /// `NormSpec::scale`.
    Scale,
    /// `NormSpec::bias`.
    Bias,
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operand::X => "x",
            Operand::Mask => "mask",
            Operand::Out => "out",
            Operand::Scale => "scale",
            Operand::Bias => "bias",
        })
    }
}

/// Why a kernel call was rejected. Nothing is written to `out` when an error is returned.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelError {
    /// `mask` or `out` does not have as many elements as `x`.
    #[error("`{operand}` has {len} elements but `x` has {x_len}")]
    LengthMismatch {
        /// `mask` or `out`.
        operand: Operand,
        /// Its length.
        len: usize,
        /// The length of `x`.
        x_len: usize,
    },
    /// `scale` or `bias` does not have `features` elements.
    #[error("`{operand}` has {len} elements but `features` is {features}")]
    ParamLength {
        /// `scale` or `bias`.
        operand: Operand,
        /// Its length.
        len: usize,
        /// The row length it should have.
        features: usize,
    },
    /// `x.len()` is not a whole number of rows.
    #[error("`x` has {len} elements, which is not a multiple of `features` = {features}")]
    RaggedRows {
        /// The length of `x`.
        len: usize,
        /// The row length asked for.
        features: usize,
    },
    /// `features == 0` while `x` is not empty.
    #[error("`features` is 0 but `x` has {len} elements")]
    ZeroFeatures {
        /// The length of `x`.
        len: usize,
    },
    /// The requested instruction set cannot run on this CPU or target.
    #[error("instruction set `{isa}` is not available on this CPU")]
    IsaUnavailable {
        /// The path asked for.
        isa: Isa,
    },
    /// `NNX_ISA` (or a parsed string) names no instruction set.
    #[error("unknown instruction set {name:?}; expected scalar, avx2, avx512 or neon")]
    UnknownIsa {
        /// The name as given.
        name: String,
    },
    /// The `NNX_ISA` environment variable asks for a path that cannot be used; every call
    /// of the default path reports it.
    #[error(
        "the environment variable NNX_ISA={value:?} cannot be used: {reason}; unset it to detect the best path"
    )]
    Env {
        /// The variable's value.
        value: String,
        /// Why it cannot be used.
        reason: Box<KernelError>,
    },
}

/// Normalises every row of `x` into `out` with the default path ([`default_isa`]) and
/// [`Threads::Auto`].
///
/// `x` is `rows * features` f32 in row-major order (rows = x.len() / features). `mask`
/// (same length as `x`) selects which elements enter mean/variance; every output
/// position is normalised. Does not allocate (beyond rayon's task bookkeeping).
pub fn norm_rows_into(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [f32],
) -> Result<(), KernelError> {
    norm_rows_into_with(default_isa()?, Threads::Auto, x, mask, features, spec, out)
}

/// [`norm_rows_into`] with an explicit instruction-set path and thread policy.
pub fn norm_rows_into_with(
    isa: Isa,
    threads: Threads,
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [f32],
) -> Result<(), KernelError> {
    validate(x, mask, features, spec, out.len())?;
    write_rows(
        CheckedIsa::new(isa)?,
        threads,
        x,
        mask,
        features,
        spec,
        as_out(out),
    );
    Ok(())
}

/// Allocating form of [`norm_rows_into`] (default path, [`Threads::Auto`]).
pub fn norm_rows(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
) -> Result<Vec<f32>, KernelError> {
    norm_rows_with(default_isa()?, Threads::Auto, x, mask, features, spec)
}

/// Allocating form of [`norm_rows_into_with`].
///
/// The output is never zeroed: the kernels write straight into the fresh allocation, with
/// the same stores as [`norm_rows_into_with`] (zeroing it first cost a pass over memory,
/// and made a 12 MiB output 2x slower than writing into a reused buffer).
pub fn norm_rows_with(
    isa: Isa,
    threads: Threads,
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
) -> Result<Vec<f32>, KernelError> {
    validate(x, mask, features, spec, x.len())?;
    let isa = CheckedIsa::new(isa)?;
    let mut out = crate::buffer::output_buffer(x.len());
    write_rows(
        isa,
        threads,
        x,
        mask,
        features,
        spec,
        &mut out.spare_capacity_mut()[..x.len()],
    );
    // SAFETY: `write_rows` wrote every element of the first `x.len()` of the capacity.
    unsafe { out.set_len(x.len()) };
    Ok(out)
}

/// Normalises the validated rows of `x` into `out`, writing every element of it.
fn write_rows(
    isa: CheckedIsa,
    threads: Threads,
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
) {
    if x.is_empty() {
        return;
    }
    // Decided for the whole output, not per parallel block: blocks are smaller than the
    // threshold, yet the output as a whole still does not fit in cache.
    let stores = Stores::for_len(out.len());
    if is_parallel(threads, x.len(), features) {
        run_parallel(isa, x, mask, features, spec, out, stores);
    } else {
        run_rows(isa, x, mask, features, spec, out, stores);
    }
}

/// `out` as memory the kernels write. Sound because they only ever store initialized
/// `f32`s into it, so it stays initialized for the caller.
fn as_out(out: &mut [f32]) -> &mut [Out] {
    // SAFETY: `MaybeUninit<f32>` has the layout of `f32`, and no path writes an
    // uninitialized value through the result.
    unsafe { &mut *(out as *mut [f32] as *mut [Out]) }
}

/// [`as_out`] for a fixed-size block.
#[cfg(target_arch = "x86_64")]
fn block_as_out<const N: usize>(out: &mut [f32; N]) -> &mut [Out; N] {
    // SAFETY: as for `as_out`.
    unsafe { &mut *(out as *mut [f32; N] as *mut [Out; N]) }
}

/// Writes zeros into `out` and returns it as initialized, for the one path that takes
/// initialized memory.
#[cfg(target_arch = "aarch64")]
fn zeroed(out: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    for v in out.iter_mut() {
        v.write(0.0);
    }
    // SAFETY: every element was just initialized, and `MaybeUninit<f32>` has the layout
    // of `f32`.
    unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

fn validate(
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out_len: usize,
) -> Result<(), KernelError> {
    if features == 0 && !x.is_empty() {
        return Err(KernelError::ZeroFeatures { len: x.len() });
    }
    if features != 0 && !x.len().is_multiple_of(features) {
        return Err(KernelError::RaggedRows {
            len: x.len(),
            features,
        });
    }
    let same_as_x = |operand, len| {
        if len == x.len() {
            Ok(())
        } else {
            Err(KernelError::LengthMismatch {
                operand,
                len,
                x_len: x.len(),
            })
        }
    };
    if let Some(mask) = mask {
        same_as_x(Operand::Mask, mask.len())?;
    }
    same_as_x(Operand::Out, out_len)?;
    let per_feature = |operand, param: Option<&[f32]>| match param {
        Some(p) if p.len() != features => Err(KernelError::ParamLength {
            operand,
            len: p.len(),
            features,
        }),
        _ => Ok(()),
    };
    per_feature(Operand::Scale, spec.scale)?;
    per_feature(Operand::Bias, spec.bias)
}

/// An [`Isa`] that has been checked to run on this CPU; only [`CheckedIsa::new`] makes
/// one, which is what makes calling the `#[target_feature]` row kernels sound.
#[derive(Clone, Copy, Debug)]
struct CheckedIsa(Isa);

impl CheckedIsa {
    fn new(isa: Isa) -> Result<CheckedIsa, KernelError> {
        if isa.is_available() {
            Ok(CheckedIsa(isa))
        } else {
            Err(KernelError::IsaUnavailable { isa })
        }
    }

    /// Normalises every row of a block of whole rows; slices as for [`norm_rows_into`].
    /// The ISA is dispatched here, once per block: the row loop runs inside the chosen
    /// path's `#[target_feature]` function.
    #[inline]
    fn norm_rows(
        self,
        x: &[f32],
        mask: Option<&[bool]>,
        features: usize,
        spec: &NormSpec,
        out: &mut [Out],
        stores: Stores,
    ) {
        // Only the x86 paths stream.
        #[cfg(not(target_arch = "x86_64"))]
        let _ = stores;
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `CheckedIsa` only holds `Avx512` when avx512f/bw/vl and popcnt were detected.
            Isa::Avx512 => unsafe { avx512::norm_rows(x, mask, features, spec, out, stores) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `CheckedIsa` only holds `Avx2Fma` when avx2 and fma were detected.
            Isa::Avx2Fma => unsafe { avx2::norm_rows(x, mask, features, spec, out, stores) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: `CheckedIsa` only holds `Neon` when neon was detected.
            Isa::Neon => unsafe { neon::norm_rows(x, mask, features, spec, zeroed(out)) },
            _ => scalar::norm_rows(x, mask, features, spec, out),
        }
    }
}

/// Inputs at least this large (elements) are split across threads by [`Threads::Auto`].
/// Measured on a 2-vCPU AVX-512 VM (`benches/norm_kernel.rs`, 1024-wide rows): at 64K and
/// 128K elements the split was 20-50% slower than one thread (waking the second worker
/// costs about as much as the work), at 256K it broke even, from 512K on it won.
const PARALLEL_MIN_ELEMS: usize = 1 << 18;

/// Target size of one parallel task, in elements: large enough to amortise task
/// overhead, small enough to balance load. Two threads, min GiB/s of 3 alternated
/// runs against 2^14: 8192x64 84 -> 88-90, 1024x4096 41 -> 43, 64x65536, 4096x768 and
/// 16384x1024 within noise; 2^17 and 2^18 measured the same as 2^16.
const PARALLEL_TASK_ELEMS: usize = 1 << 16;

/// How the output reaches memory. The x86 paths stream long rows, and the AVX-512 path
/// its unrolled short rows too (the other rows and paths ignore this); either way every
/// value is the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stores {
    /// Ordinary stores: the output stays in cache for whoever reads it next.
    Cached,
    /// Streaming (non-temporal) stores of whole lines, which skip the read-for-ownership.
    Streaming,
}

impl Stores {
    /// Outputs of at least 2²¹ elements (8 MiB) would not stay in cache anyway, so
    /// streaming saves a third of the memory traffic: 1.3-1.8x on long rows beyond L2.
    fn for_len(len: usize) -> Stores {
        if len >= 1 << 21 {
            Stores::Streaming
        } else {
            Stores::Cached
        }
    }
}

/// Streamed rows from `TILED_MIN` to `TILED_MAX` features are written [`TILE`] columns
/// at a time over `TILE_ROWS` rows by both x86 paths, so that each tile of `scale` and
/// `bias` is loaded into L1 once per `TILE_ROWS` rows rather than once per row. Measured
/// on Zen 4 (32 KiB L1, 1 MiB L2), min GiB/s of alternated runs: AVX-512 1.1-1.25x at
/// 2048-16384 features, slower at 1024 (the row, `scale` and `bias` fit L1 anyway) and
/// at 65536 (four rows no longer fit L2); AVX2 1.1-1.4x at 2048-16384 features, tiles
/// of 256 or 1024 columns within noise of 512.
#[cfg(target_arch = "x86_64")]
const TILED_MIN: usize = 2048;
#[cfg(target_arch = "x86_64")]
const TILED_MAX: usize = 16384;
#[cfg(target_arch = "x86_64")]
const TILE_ROWS: usize = 4;
#[cfg(target_arch = "x86_64")]
const TILE: usize = 512;

/// `s[a..b]`, or `s` itself when it is empty (an absent scale or bias).
#[inline]
#[cfg(target_arch = "x86_64")]
fn affine(s: &[f32], a: usize, b: usize) -> &[f32] {
    if s.is_empty() { s } else { &s[a..b] }
}

/// Elements per parallel block of whole rows: enough blocks to keep every worker busy
/// even when rows are few and long.
fn block_len(len: usize, features: usize) -> usize {
    let rows = len / features;
    let tasks = (len / PARALLEL_TASK_ELEMS).max(4 * rayon::current_num_threads());
    rows.div_ceil(tasks.clamp(1, rows)) * features
}

/// Whether `threads` sends an input of `len` elements in rows of `features` to the pool.
fn is_parallel(threads: Threads, len: usize, features: usize) -> bool {
    threads == Threads::Auto && len >= PARALLEL_MIN_ELEMS && len / features > 1
}

fn run_rows(
    isa: CheckedIsa,
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
    stores: Stores,
) {
    isa.norm_rows(x, mask, features, spec, out, stores);
}

/// Splits the rows into blocks of whole rows and runs them on the rayon pool. Each row is
/// still computed by the same code (which depends only on `features`), so the split does
/// not change any bit.
fn run_parallel(
    isa: CheckedIsa,
    x: &[f32],
    mask: Option<&[bool]>,
    features: usize,
    spec: &NormSpec,
    out: &mut [Out],
    stores: Stores,
) {
    let block = block_len(x.len(), features);
    let blocks = x.par_chunks(block).zip(out.par_chunks_mut(block));
    match mask {
        None => blocks.for_each(|(xb, ob)| run_rows(isa, xb, None, features, spec, ob, stores)),
        Some(mask) => blocks
            .zip(mask.par_chunks(block))
            .for_each(|((xb, ob), mb)| run_rows(isa, xb, Some(mb), features, spec, ob, stores)),
    }
}

/// Orders the streaming stores made so far before anything after it, when dropped:
/// functions that stream hold one, so the fence also runs when an assert between
/// their stores unwinds (a plain `sfence` at the end would be skipped).
#[cfg(target_arch = "x86_64")]
struct StreamFence;

#[cfg(target_arch = "x86_64")]
impl Drop for StreamFence {
    fn drop(&mut self) {
        // SAFETY: `sfence` needs SSE, which every x86-64 CPU has.
        unsafe { std::arch::x86_64::_mm_sfence() }
    }
}
