//! The one matrix product every layer uses (Linear, Conv, Embed::attend, LinearGeneral,
//! attention), so that its backend can change in one place.
//!
//! Two backends, picked by the CPU: with AVX-512 the `gemm` crate (faer's and candle's
//! GEMM), which runs on rayon's pool, with its AVX-512 micro-kernels (its `x86-v4`
//! feature: without it, stable Rust builds only its AVX2 ones, half the speed); otherwise
//! ndarray's `dot` (matrixmultiply, on its own threads: `MATMUL_NUM_THREADS`), which
//! measured faster than `gemm` on an AVX2-only machine. Both are within Flax's
//! tolerances (every Linear, attention and Conv vector is checked on whichever runs).

use ndarray::{Array2, ArrayView2};

/// `a · b` for `[m, k] · [k, n]`, into a new row-major `[m, n]` array.
pub(crate) fn matmul(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Array2<f32> {
    if uses_gemm() {
        gemm_product(a, b, rayon::current_num_threads())
    } else {
        a.dot(&b)
    }
}

/// [`matmul`] on the calling thread, for callers that already run many products in
/// parallel (attention's heads): splitting each one again would only add overhead.
pub(crate) fn matmul_on_this_thread(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Array2<f32> {
    if uses_gemm() {
        gemm_product(a, b, 1)
    } else {
        a.dot(&b)
    }
}

/// Whether this CPU takes the `gemm` backend (read once).
fn uses_gemm() -> bool {
    static GEMM: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *GEMM.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// Products below this many multiply-adds run on the calling thread: splitting them
/// costs more than it saves.
const PARALLEL_MIN: usize = 1 << 20;

/// `a · b` through `gemm` on up to `threads` of rayon's threads, for any strides of `a`
/// and `b` (views of transposes, slices).
#[allow(unsafe_code)]
fn gemm_product(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, threads: usize) -> Array2<f32> {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert_eq!(k, k2, "matmul: inner dimensions differ");
    if m == 0 || n == 0 || k == 0 {
        return Array2::zeros((m, n));
    }
    // Not zeroed: `gemm` only writes it (`read_dst = false`).
    let mut c = crate::buffer::output_buffer(m * n);
    let parallel = m * n * k >= PARALLEL_MIN && threads > 1;
    // SAFETY (both calls): `c`'s capacity holds `m × n` elements, laid out row-major with
    // row stride `n`; it was just allocated, so neither view overlaps it, and nothing
    // else writes it.
    if parallel && m < SKINNY {
        // SAFETY: as above.
        unsafe { columns_in_parallel(a, b, c.as_mut_ptr(), threads) };
    } else {
        let parallelism = if parallel {
            gemm::Parallelism::Rayon(0)
        } else {
            gemm::Parallelism::None
        };
        // SAFETY: as above.
        unsafe { product_into(c.as_mut_ptr(), n as isize, a, b, parallelism) };
    }
    // SAFETY: the product wrote all `m × n` elements.
    unsafe { c.set_len(m * n) };
    Array2::from_shape_vec((m, n), c).expect("m × n elements")
}

/// `dst = a · b` by `gemm`, `dst` being row-major with row stride `dst_row_stride` and
/// column stride 1 (`read_dst = false`: it is only written).
///
/// # Safety
/// `dst` must be valid for writes of the `a.nrows() × b.ncols()` elements so laid out,
/// written by no one else meanwhile, and overlap neither `a` nor `b`.
#[allow(unsafe_code)]
unsafe fn product_into(
    dst: *mut f32,
    dst_row_stride: isize,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    parallelism: gemm::Parallelism,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    // SAFETY: the caller vouches for `dst`; `a` and `b` are live views whose pointers
    // and element strides describe exactly their `m × k` and `k × n` elements
    // (ndarray's invariant).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_row_stride,
            false,
            a.as_ptr(),
            a.strides()[1],
            a.strides()[0],
            b.as_ptr(),
            b.strides()[1],
            b.strides()[0],
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Below this many rows `gemm` splits the work poorly over threads (64 × 4096 → 4096:
/// no faster on two threads than on one); such products are split by columns instead.
const SKINNY: usize = 256;

/// `c`'s address, shared by tasks that write disjoint columns of it.
#[derive(Clone, Copy)]
struct Columns(*mut f32);

// SAFETY: each task writes its own range of columns of `c`, and `c` outlives the
// parallel loop (it is borrowed by `columns_in_parallel` throughout).
#[allow(unsafe_code)]
unsafe impl Send for Columns {}
// SAFETY: as for `Send`: no two tasks write the same element.
#[allow(unsafe_code)]
unsafe impl Sync for Columns {}

impl Columns {
    fn at(self, column: usize) -> *mut f32 {
        self.0.wrapping_add(column)
    }
}

/// `c = a · b` with `b`'s columns split into one range per thread, each range one
/// single-threaded `gemm` call.
///
/// # Safety
/// As [`product_into`]'s, for `dst = c` with row stride `b.ncols()`.
#[allow(unsafe_code)]
unsafe fn columns_in_parallel(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    c: *mut f32,
    threads: usize,
) {
    use rayon::prelude::*;
    let n = b.ncols();
    let width = n.div_ceil(threads).next_multiple_of(16);
    let columns = Columns(c);
    (0..n.div_ceil(width)).into_par_iter().for_each(|t| {
        let (start, end) = (t * width, ((t + 1) * width).min(n));
        let b = b.slice(ndarray::s![.., start..end]);
        // SAFETY: columns `start..end` of the row-major `m × n` elements at `c` start
        // at element `start`, with row stride `n`; no other task writes them, and the
        // caller vouches that `c` is valid, unshared and overlaps neither view.
        unsafe { product_into(columns.at(start), n as isize, a, b, gemm::Parallelism::None) };
    });
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, s};

    use super::{gemm_product, matmul};

    fn reference(a: &Array2<f32>, b: &Array2<f32>) -> Array2<f64> {
        let (a, b) = (a.mapv(f64::from), b.mapv(f64::from));
        a.dot(&b)
    }

    /// Both backends, on odd shapes, transposed and sliced views, against `f64`.
    #[test]
    fn both_backends_match_an_f64_product() {
        // The last two are large enough to run in parallel: by columns (a skinny `a`),
        // and by `gemm`'s own split.
        for (m, k, n) in [
            (1, 1, 1),
            (3, 5, 7),
            (17, 33, 9),
            (64, 129, 31),
            (130, 70, 260),
            (40, 257, 301),
            (300, 130, 70),
        ] {
            let a = Array2::from_shape_fn((m, k + 3), |(i, j)| ((i * 7 + j * 3) % 11) as f32 - 5.0);
            let bt = Array2::from_shape_fn((n, k), |(i, j)| ((i * 5 + j) % 13) as f32 * 0.25);
            let (a, b) = (a.slice(s![.., 1..k + 1]), bt.t());
            let want = reference(&a.to_owned(), &b.to_owned());
            for got in [
                gemm_product(a, b, 2),
                gemm_product(a, b, 1),
                a.dot(&b),
                matmul(a, b),
            ] {
                let worst = (&got.mapv(f64::from) - &want)
                    .iter()
                    .zip(want.iter())
                    .map(|(d, w)| d.abs() / (1.0 + w.abs()))
                    .fold(0.0, f64::max);
                assert!(worst < 1e-6, "{m}x{k}x{n}: off by {worst}");
            }
        }
        let empty = gemm_product(
            Array2::zeros((0, 3)).view(),
            Array2::zeros((3, 4)).view(),
            1,
        );
        assert_eq!(empty.dim(), (0, 4));
    }
}
