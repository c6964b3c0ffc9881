//! The streamed output of long rows that both x86 paths share: which 64-byte lines of
//! `out` each row owns, the line two rows share, and the loop (in column tiles or not)
//! that writes them with streaming stores. Written once as a `macro_rules!` template and
//! expanded by each path under its own `#[target_feature]`, as `group.rs` is, so that
//! each path's statistics and formulas inline into the loop as they did in its own copy.

/// `Lines` (where each streamed row's lines start: its head, body and tail) and
/// `streamed_rows::<MASKED, SCALE, BIAS>(x, mask, features, p, out)`, which writes rows
/// of any length through it.
///
/// Expanded by `avx2.rs` and `avx512.rs`. The invocation spells out, as closures whose
/// bodies are pasted in place, what each path computes and writes its own way:
///
/// ```text
/// lines_template! {
///     features: "avx2,fma",                       // the `#[target_feature]`
///     stats: |xr, mr, p| ...,                     // a row's guarded `RowStats`
///     shared: |x, prev, st, lo, s, b, out| ...,   // the line two rows share
///     edge: |x, st, s, b, out| ...,               // a head or tail, ordinary stores
///     body: |x, st, s, b, out, backwards| ...,    // whole lines, streaming stores
///     prefetch_mask: prefetch_mask_start,         // optional: given the next row's mask
/// }
/// ```
///
/// `mr` is empty when the rows are not `MASKED`; `s` and `b` are the `scale` and `bias`
/// of the columns written (empty when absent); `shared` gets the 16-element window of
/// `x` and `out` whose first `lo` elements end the row of `prev`, the rest start the
/// row of `st`. The expansion also refers to the expanding module's `LINE` (elements
/// per 64-byte line) and `Params`.
macro_rules! lines_template {
    (
        features: $features:literal,
        stats: |$sx:ident, $sm:ident, $sp:ident| $stats:expr,
        shared: |$hx:ident, $hprev:ident, $hst:ident, $hlo:ident, $hs:ident, $hb:ident, $ho:ident|
            $shared:expr,
        edge: |$ex:ident, $est:ident, $es:ident, $eb:ident, $eo:ident| $edge:expr,
        body: |$bx:ident, $bst:ident, $bs:ident, $bb:ident, $bo:ident, $bback:ident| $body:expr
        $(, prefetch_mask: $prefetch:path)? $(,)?
    ) => {
        /// Streamed output of long rows. Streaming stores write whole 64-byte lines, so
        /// `out` is split into lines globally: element `i` starts a line iff
        /// `i ≡ first mod 16`. Each row has a head (up to its first line boundary: the
        /// end of the line it shares with the previous row), a body of whole lines, and
        /// a tail after its last boundary, which shares a line with the next row's head.
        /// The shared line is written once the second row's statistics are known, lane
        /// by lane with its own row's statistics, so that no line mixes streaming and
        /// ordinary stores; only the partial lines at the very start and end of `out`
        /// take ordinary stores.
        struct Lines<'a, const MASKED: bool, const SCALE: bool, const BIAS: bool> {
            x: &'a [f32],
            mask: &'a [bool],
            features: usize,
            p: &'a Params<'a, SCALE, BIAS>,
            first: usize,
        }

        impl<'a, const MASKED: bool, const SCALE: bool, const BIAS: bool>
            Lines<'a, MASKED, SCALE, BIAS>
        {
            fn new(
                x: &'a [f32],
                mask: &'a [bool],
                features: usize,
                p: &'a Params<'a, SCALE, BIAS>,
                out: &[Out],
            ) -> Self {
                Lines {
                    x,
                    mask,
                    features,
                    p,
                    first: (out.as_ptr() as usize).wrapping_neg() % 64 / size_of::<f32>(),
                }
            }

            /// Whether row `r` is written backwards (see [`walk_backwards`]; the offsets
            /// between its `out`, `x`, `scale` and `bias` are the same all along the row).
            fn backwards(&self, r: usize, out: &[Out]) -> bool {
                let start = r * self.features;
                let sources = [&self.x[start..], self.p.scale, self.p.bias];
                walk_backwards(out[start..].as_ptr(), sources, Stores::Streaming)
            }

            /// Where row `r` starts, and its body, `head..body_end` (relative to the
            /// start).
            fn span(&self, r: usize) -> (usize, usize, usize) {
                let (start, features) = (r * self.features, self.features);
                let head = ((self.first + LINE - start % LINE) % LINE).min(features);
                (start, head, head + (features - head) / LINE * LINE)
            }

            /// Row `r`'s statistics, after writing its head (with the previous row's
            /// statistics `prev`, when there is a previous row) and, on the last row,
            /// its tail.
            #[target_feature(enable = $features)]
            #[inline]
            fn edges(&self, r: usize, prev: Option<RowStats>, out: &mut [Out]) -> RowStats {
                let (x, p, features) = (self.x, self.p, self.features);
                let (start, head, body_end) = self.span(r);
                let xr = &x[start..start + features];
                let mr = if MASKED { &self.mask[start..start + features] } else { &[] };
                debug_assert_eq!(prev.is_some(), r > 0);
                let st = {
                    let ($sx, $sm, $sp) = (xr, mr, p);
                    $stats
                };
                if head > 0 {
                    match prev {
                        Some(prev) => {
                            let lo = LINE - head;
                            let xw = &x[start - lo..start + head];
                            let ow = &mut out[start - lo..start + head];
                            let ($hx, $hprev, $hst, $hlo) = (xw, &prev, &st, lo);
                            let ($hs, $hb, $ho) = (p.scale, p.bias, ow);
                            $shared;
                        }
                        None => {
                            let (sc, bc) = (affine(p.scale, 0, head), affine(p.bias, 0, head));
                            let oh = &mut out[start..start + head];
                            let ($ex, $est, $es, $eb, $eo) = (&xr[..head], &st, sc, bc, oh);
                            $edge;
                        }
                    }
                }
                if body_end < features && (r + 1) * features == x.len() {
                    let (sc, bc) = (
                        affine(p.scale, body_end, features),
                        affine(p.bias, body_end, features),
                    );
                    let ot = &mut out[start + body_end..start + features];
                    let ($ex, $est, $es, $eb, $eo) = (&xr[body_end..], &st, sc, bc, ot);
                    $edge;
                }
                st
            }

            /// Writes the whole lines of row `r`'s body in `head + cols` (clipped to the
            /// body), walking `backwards` or forwards.
            #[target_feature(enable = $features)]
            #[inline]
            fn body(
                &self,
                r: usize,
                st: &RowStats,
                cols: std::ops::Range<usize>,
                backwards: bool,
                out: &mut [Out],
            ) {
                let (start, head, body_end) = self.span(r);
                let (a, b) = (head + cols.start, (head + cols.end).min(body_end));
                if a >= b {
                    return;
                }
                // `body` writes whole lines only.
                debug_assert!((b - a).is_multiple_of(LINE));
                let (sc, bc) = (affine(self.p.scale, a, b), affine(self.p.bias, a, b));
                let (xb, ob) = (&self.x[start + a..start + b], &mut out[start + a..start + b]);
                let ($bx, $bst, $bs, $bb, $bo, $bback) = (xb, st, sc, bc, ob, backwards);
                $body;
            }
        }

        /// Rows into an output that will not stay in cache ([`Stores::Streaming`]):
        /// every whole 64-byte line of `out` is written with a streaming store, which
        /// skips the read-for-ownership (AVX2: 1.7-1.8x at 1024x4096, 64x65536 and
        /// 16384x1024 in a `Vec`'s usual placement). Each row's body walks forwards or
        /// backwards, whichever keeps its loads clear of the stores just made
        /// ([`walk_backwards`]; AVX2: 1.08-1.16x where forwards would alias). Rows of
        /// [`TILED_MIN`] to [`TILED_MAX`] features are written in column tiles over
        /// [`TILE_ROWS`] rows (AVX2, min GiB/s of alternated runs on a noisy VM:
        /// 1024x4096 22-28 -> 28-30, 2048x2048 19-29 -> 28-33, 512x8192 22-27 -> 26-29,
        /// masked 1024x4096 18 -> 22 and 2048x2048 14-17 -> 20-21). Each element gets
        /// the formula and statistics of the path's ordinary output pass, so no bit
        /// changes.
        #[target_feature(enable = $features)]
        #[inline]
        fn streamed_rows<const MASKED: bool, const SCALE: bool, const BIAS: bool>(
            x: &[f32],
            mask: &[bool],
            features: usize,
            p: &Params<SCALE, BIAS>,
            out: &mut [Out],
        ) {
            let _fence = super::StreamFence;
            let lines = Lines::<MASKED, SCALE, BIAS>::new(x, mask, features, p, out);
            let rows = x.len() / features;
            let mut prev: Option<RowStats> = None;
            if !(TILED_MIN..=TILED_MAX).contains(&features) {
                for r in 0..rows {
                    let st = lines.edges(r, prev, out);
                    $(
                        if MASKED && r + 1 < rows {
                            $prefetch(&mask[(r + 1) * features..(r + 2) * features]);
                        }
                    )?
                    lines.body(r, &st, 0..features, lines.backwards(r, out), out);
                    prev = Some(st);
                }
            } else {
                // Rows whose body, `scale` and `bias` together overflow L1 are written in
                // column tiles over a few rows at a time, so that each tile of
                // `scale`/`bias` is loaded into L1 once per block of rows instead of once
                // per row.
                let mut stats = [RowStats::default(); TILE_ROWS];
                let mut backwards = [false; TILE_ROWS];
                let tiles = features.div_ceil(TILE);
                for first_row in (0..rows).step_by(TILE_ROWS) {
                    let block = first_row..(first_row + TILE_ROWS).min(rows);
                    for r in block.clone() {
                        stats[r - first_row] = lines.edges(r, prev, out);
                        prev = Some(stats[r - first_row]);
                        backwards[r - first_row] = lines.backwards(r, out);
                    }
                    for k in 0..tiles {
                        for r in block.clone() {
                            // A row written backwards takes its tiles in reverse order
                            // too. (In the rare block whose rows go different ways, they
                            // no longer share a `scale`/`bias` tile at each step; the
                            // result is the same.)
                            let i = r - first_row;
                            let t = if backwards[i] { tiles - 1 - k } else { k };
                            let cols = t * TILE..(t + 1) * TILE;
                            lines.body(r, &stats[i], cols, backwards[i], out);
                        }
                    }
                }
            }
        }
    };
}

pub(super) use lines_template;
