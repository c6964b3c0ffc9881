//! Tensor bytes (little-endian, as safetensors stores them) to `f32`.

use half::{bf16, f16};
use safetensors::Dtype;

/// Whether [`decode`] converts `dtype`.
pub(crate) fn converts(dtype: Dtype) -> bool {
    matches!(dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16 | Dtype::F64)
}

/// Fills `out` from `bytes`, which hold exactly `out.len()` elements of `dtype` (the
/// header check guarantees it). F16 and BF16 widen exactly; F64 rounds to the nearest
/// `f32` (magnitudes past `f32::MAX` become infinite).
pub(crate) fn decode(dtype: Dtype, bytes: &[u8], out: &mut [f32]) {
    fn each<const N: usize>(bytes: &[u8], out: &mut [f32], f: impl Fn([u8; N]) -> f32) {
        let (chunks, _) = bytes.as_chunks::<N>();
        for (o, c) in out.iter_mut().zip(chunks) {
            *o = f(*c);
        }
    }
    match dtype {
        Dtype::F32 => each(bytes, out, f32::from_le_bytes),
        Dtype::F16 => each(bytes, out, |b| f16::from_le_bytes(b).to_f32()),
        Dtype::BF16 => each(bytes, out, |b| bf16::from_le_bytes(b).to_f32()),
        Dtype::F64 => each(bytes, out, |b| f64::from_le_bytes(b) as f32),
        // Callers check `converts` first.
        _ => out.fill(f32::NAN),
    }
}

/// The element size in bytes of a dtype [`decode`] converts.
pub(crate) fn size(dtype: Dtype) -> usize {
    dtype.bitsize() / 8
}
