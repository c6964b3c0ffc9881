//! The scale/bias dispatch of the x86 paths: which of the optional affine parameters
//! are present, turned into two `const bool`s once, outside the loops, so that every
//! output formula is compiled four times without a test per block.

use super::{NormKind, NormSpec};

/// Evaluates `body` once per combination of an optional `scale` and `bias` (each an
/// `Option<&[f32]>`), with the caller's names bound to consts saying which are present
/// and to the slices (empty when absent):
///
/// ```text
/// with_affine!(spec.scale, spec.bias, |SCALE, BIAS, s, b| apply::<SCALE, BIAS>(x, s, b, out))
/// // present slices through `part` first (absent ones stay empty):
/// with_affine!(spec.scale, spec.bias, |p| &p[a..b], |SCALE, BIAS, s, b| ...)
/// ```
///
/// expands to the `match` on `(scale, bias)` that was written out by hand before, one
/// arm per combination, each with its own `const SCALE: bool` and `const BIAS: bool`
/// for the body's turbofish. Used by both x86 paths (AVX-512's `norm_rows`, AVX2's
/// short rows, streamed rows and output pass).
macro_rules! with_affine {
    ($scale:expr, $bias:expr, |$S:ident, $B:ident, $s:ident, $b:ident| $body:expr) => {
        with_affine!($scale, $bias, |p| p, |$S, $B, $s, $b| $body)
    };
    (
        $scale:expr,
        $bias:expr,
        |$p:ident| $part:expr,
        |$S:ident, $B:ident, $s:ident, $b:ident| $body:expr
    ) => {
        match ($scale, $bias) {
            (None, None) => {
                const $S: bool = false;
                const $B: bool = false;
                let ($s, $b): (&[f32], &[f32]) = (&[], &[]);
                $body
            }
            (Some($p), None) => {
                const $S: bool = true;
                const $B: bool = false;
                let ($s, $b): (&[f32], &[f32]) = ($part, &[]);
                $body
            }
            (None, Some($p)) => {
                const $S: bool = false;
                const $B: bool = true;
                let ($s, $b): (&[f32], &[f32]) = (&[], $part);
                $body
            }
            (Some(scale), Some(bias)) => {
                const $S: bool = true;
                const $B: bool = true;
                let $s: &[f32] = {
                    let $p = scale;
                    $part
                };
                let $b: &[f32] = {
                    let $p = bias;
                    $part
                };
                $body
            }
        }
    };
}

pub(super) use with_affine;

/// What every row shares, with `SCALE` and `BIAS` saying which of `scale` and `bias` are
/// present (absent ones are empty slices and never read).
pub(super) struct Params<'a, const SCALE: bool, const BIAS: bool> {
    pub kind: NormKind,
    pub eps: f32,
    pub scale: &'a [f32],
    pub bias: &'a [f32],
    /// Whether the output is written in whole lines with streaming stores
    /// ([`Stores::Streaming`](super::Stores::Streaming)): by AVX-512's long rows and unrolled short rows (AVX2
    /// decides before it makes `Params`).
    pub stream: bool,
}

impl<'a, const SCALE: bool, const BIAS: bool> Params<'a, SCALE, BIAS> {
    pub fn new(spec: &NormSpec, scale: &'a [f32], bias: &'a [f32], stream: bool) -> Self {
        Params {
            kind: spec.kind,
            eps: spec.epsilon,
            scale,
            bias,
            stream,
        }
    }
}
