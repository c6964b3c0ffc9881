//! The grouped short-row pipeline that both x86 paths share: the statistics of a group
//! of short rows computed together, one row per lane, and the software-pipelined loop
//! that drives them.
//!
//! Sharing the kernels through closures or calls measured 5-25% slower than copies (a
//! shared group driver 5-8%: the loop then kept less in registers), so this is shared
//! as `macro_rules!` templates instead, the way the `gemm` crate writes one kernel per
//! ISA: each path expands the same tokens inside its own module, under its own
//! `#[target_feature]`, and the compiler sees what a hand-written copy would be. LLVM's
//! inlining still reacts to the signatures around the template (see AVX-512's
//! `GroupSums::add_row`), so measure a change there. The bits of every path are pinned
//! by `tests/digest.rs`.

/// The group statistics of one x86 path: `GroupSums` (the lane-wise sums of up to
/// `GROUP` short rows), `GroupStats` (what their output needs) and the helpers behind
/// them, `shifted_sums`, `layer_group_stats` and `to_array`.
///
/// Expanded once by `avx2/short_rows.rs` (8 lanes, `__m256`) and once by `avx512.rs`
/// (16 lanes, `__m512`). The invocation names the vector and lane-mask types and spells
/// out, as closures whose bodies become `#[inline]` functions, the few operations whose
/// form differs between the ISAs:
///
/// ```text
/// group_template! {
///     features: "avx2,fma",   // the `#[target_feature]` of every function
///     vector: __m256,         // one lane per row of a group
///     mask: __m256,           // kept lanes, comparison results (AVX-512: `__mmask16`)
///     blend: |m, a, b| ...,   // `b` in the lanes of `m`, `a` in the others
///     bits: |m| ...,          // bit `i` set iff lane `i` of `m` is (`u32`)
///     kept_sub: |v, shift, keep| ...,  // `v - shift`, 0 outside `keep` (may read MASKED)
///     kept_square: |v, keep| ...,      // `v²`, 0 outside `keep` (may read MASKED)
/// }
/// ```
///
/// The expansion also refers to these names of the expanding module:
/// - `LANES` and `GROUP` (equal: one row per lane), `load_block` and `store_block`;
/// - `add_ps`, `sub_ps`, `mul_ps`, `div_ps`, `fmadd_ps`, `max_ps`, `sqrt_ps`, `set1_ps`,
///   `setzero_ps` and `cmp_ps::<PREDICATE>`: the ISA's intrinsics, renamed by `use ... as`;
/// - `halve` (a row's lane-wise sums as the `__m256` a group keeps per row),
///   `hsum_rows` (the horizontal sums of all the group's rows at once, row `i` in lane
///   `i`) and `tree` (a fixed-order sum of `W` vectors: the ISAs add in different
///   orders, which is part of their bits);
/// - `RowKeep<W>`, a fixed-width row's kept lanes (`lanes: [mask; W]`) and their count
///   (`count`).
macro_rules! group_template {
    (
        features: $features:literal,
        vector: $V:ty,
        mask: $M:ty,
        blend: |$bm:ident, $ba:ident, $bb:ident| $blend:expr,
        bits: |$tm:ident| $bits:expr,
        kept_sub: |$sv:ident, $ss:ident, $sk:ident| $kept_sub:expr,
        kept_square: |$qv:ident, $qk:ident| $kept_square:expr $(,)?
    ) => {
        #[target_feature(enable = $features)]
        #[inline]
        fn blend($bm: $M, $ba: $V, $bb: $V) -> $V {
            $blend
        }

        #[target_feature(enable = $features)]
        #[inline]
        fn bits($tm: $M) -> u32 {
            $bits
        }

        #[target_feature(enable = $features)]
        #[inline]
        fn kept_sub<const MASKED: bool>($sv: $V, $ss: $V, $sk: $M) -> $V {
            $kept_sub
        }

        #[target_feature(enable = $features)]
        #[inline]
        fn kept_square<const MASKED: bool>($qv: $V, $qk: $M) -> $V {
            $kept_square
        }

        /// The lane-wise sums of up to [`GROUP`] short rows, row `i` of a group in lane
        /// `i` of the statistics.
        ///
        /// LayerNorm statistics take a single pass over data shifted by one of the row's
        /// own (kept) elements `k`, `Σd` and `Σd²` with `d = x - k` (the shifted-data
        /// algorithm, see Accuracy in `kernels/mod.rs`), and a second pass around the
        /// mean just found only for rows where `k` is far from it (`row::FAR_SHIFT`), as
        /// `row::shifted_pass` decides per row, here for the whole group in one vector.
        /// Each lane's choice depends only on its own row. Reading the row once instead
        /// of twice is what makes these rows fast (AVX-512: 1.2x at 64 features, 1.2-1.5x
        /// at 128).
        struct GroupSums {
            count: [f32; GROUP],
            shift: [f32; GROUP],
            /// Each row's lane-wise sums, [`halve`]d.
            sum: [__m256; GROUP],
            squares: [__m256; GROUP],
        }

        /// What the output of a group of rows needs, row `i` at index `i`.
        struct GroupStats {
            shift: [f32; GROUP],
            corr: [f32; GROUP],
            inv: [f32; GROUP],
            /// Bit `i`: row `i`'s variance is beyond `f32` (overflowed: `1/sqrt(inf) = 0`
            /// with a finite `eps`; or underflowed: `inv` infinite with `eps = 0`);
            /// [`GroupStats::guard`] replaces its statistics.
            overflowed: u32,
        }

        impl GroupSums {
            #[target_feature(enable = $features)]
            #[inline]
            fn new() -> Self {
                let zero = _mm256_setzero_ps();
                GroupSums {
                    // Lanes no row is added to (past the last row of a short group:
                    // callers start each group that may be short from `new`) keep zero
                    // sums over a count of 1: finite statistics, never far (see
                    // `layer_group_stats`), never written.
                    count: [1.0; GROUP],
                    shift: [0.0; GROUP],
                    sum: [zero; GROUP],
                    squares: [zero; GROUP],
                }
            }

            /// Sums a row of `W` blocks into lane `i`: `keep` holds its kept lanes
            /// (every lane when not `MASKED`), `shift` is its first kept element (read
            /// for LayerNorm only).
            #[target_feature(enable = $features)]
            #[inline]
            fn add_fixed_row<const W: usize, const MASKED: bool>(
                &mut self,
                i: usize,
                row: &[[f32; LANES]; W],
                keep: RowKeep<W>,
                shift: f32,
                kind: NormKind,
            ) {
                let RowKeep {
                    lanes: k, count, ..
                } = keep;
                self.count[i] = count as f32;
                match kind {
                    NormKind::LayerNorm => {
                        self.shift[i] = shift;
                        let (sum, squares) = shifted_sums::<W, MASKED>(row, &k, shift);
                        (self.sum[i], self.squares[i]) = (halve(sum), halve(squares));
                    }
                    NormKind::RmsNorm => {
                        let v: [$V; W] = std::array::from_fn(|j| {
                            kept_square::<MASKED>(load_block(&row[j]), k[j])
                        });
                        self.squares[i] = halve(tree(v));
                    }
                }
            }

            /// The group's statistics. `resum(i, shift)` sums row `i` again around
            /// `shift` (`Σd`, `Σd²` lane-wise), for the rows that need a second pass.
            /// Rows whose variance overflowed `f32` are marked in `overflowed` for
            /// [`GroupStats::guard`].
            #[target_feature(enable = $features)]
            #[inline]
            fn finish(
                &mut self,
                kind: NormKind,
                eps: f32,
                resum: impl FnMut(usize, f32) -> ($V, $V),
            ) -> GroupStats {
                let zero = setzero_ps();
                let n = load_block(&self.count);
                let (corr, var) = match kind {
                    NormKind::LayerNorm => {
                        layer_group_stats(&self.sum, &self.squares, n, &mut self.shift, resum)
                    }
                    NormKind::RmsNorm => (zero, div_ps(hsum_rows(&self.squares), n)),
                };
                let inv = div_ps(set1_ps(1.0), sqrt_ps(add_ps(var, set1_ps(eps))));
                // `row::overflowed`, lane by lane: a variance that overflowed (`inv` 0
                // with a finite `eps`) or underflowed (`inv` infinite).
                let zero_inv = bits(cmp_ps::<_CMP_EQ_OQ>(inv, zero));
                let infinite_inv = bits(cmp_ps::<_CMP_EQ_OQ>(inv, set1_ps(f32::INFINITY)));
                GroupStats {
                    overflowed: if eps.is_finite() { zero_inv } else { 0 } | infinite_inv,
                    shift: self.shift,
                    corr: to_array(corr),
                    inv: to_array(inv),
                }
            }
        }

        impl GroupStats {
            /// The statistics, with those of rows whose variance overflowed `f32`
            /// computed again in `f64` (`row::wide_stats`, as `row::guarded` does for
            /// single rows); the group's rows start at row `start` of `x`.
            #[target_feature(enable = $features)]
            #[inline]
            fn guard(
                self,
                x: &[f32],
                mask: Option<&[bool]>,
                features: usize,
                start: usize,
                kind: NormKind,
                eps: f32,
            ) -> Self {
                if self.overflowed == 0 {
                    return self;
                }
                self.replace_overflowed(x, mask, features, start, kind, eps)
            }

            /// [`GroupStats::guard`]'s rare part, out of line and by value so that the
            /// group loops keep their registers (inlined into AVX-512's short rows it
            /// cost 15% at 4096x100).
            #[cold]
            #[inline(never)]
            #[target_feature(enable = $features)]
            fn replace_overflowed(
                mut self,
                x: &[f32],
                mask: Option<&[bool]>,
                features: usize,
                start: usize,
                kind: NormKind,
                eps: f32,
            ) -> Self {
                // Lanes past the last row of a short group can be marked (their sums are 0,
                // so with `eps = 0` their `inv` is infinite); `wide_group_stats` skips them.
                let rows = wide_group_stats(self.overflowed, x, mask, features, start, kind, eps);
                for (i, st) in rows {
                    (self.shift[i], self.corr[i], self.inv[i]) = (st.shift, st.corr, st.inv_std);
                }
                self
            }

            /// Row `i`'s statistics.
            fn row(&self, i: usize) -> RowStats {
                RowStats {
                    shift: self.shift[i],
                    corr: self.corr[i],
                    inv_std: self.inv[i],
                }
            }
        }

        /// `(Σd, Σd²)` lane-wise over the kept lanes of one fixed-width row,
        /// `d = x - shift`.
        #[target_feature(enable = $features)]
        #[inline]
        fn shifted_sums<const W: usize, const MASKED: bool>(
            row: &[[f32; LANES]; W],
            keep: &[$M; W],
            shift: f32,
        ) -> ($V, $V) {
            let sh = set1_ps(shift);
            let d: [$V; W] =
                std::array::from_fn(|j| kept_sub::<MASKED>(load_block(&row[j]), sh, keep[j]));
            let squares = d[1..]
                .iter()
                .fold(mul_ps(d[0], d[0]), |a, &d| fmadd_ps(d, d, a));
            (tree(d), squares)
        }

        /// LayerNorm `(corr, var)` of a group of rows, lane by lane as
        /// `row::layer_stats`, from their [`halve`]d lane-wise shifted sums `Σd`, `Σd²`
        /// (`d = x - shift[i]`) and kept counts `n`. Rows whose shift is far from their
        /// mean (see `row::FAR_SHIFT`) are summed again by `resum(i, shift)` around the
        /// mean just found, which becomes their `shift`.
        #[target_feature(enable = $features)]
        #[inline]
        fn layer_group_stats(
            sum: &[__m256; GROUP],
            squares: &[__m256; GROUP],
            n: $V,
            shift: &mut [f32; GROUP],
            mut resum: impl FnMut(usize, f32) -> ($V, $V),
        ) -> ($V, $V) {
            let zero = setzero_ps();
            // `max(0, var)` returns `var` when it is NaN (vmaxps returns its second
            // operand).
            let finish = |sum: &[__m256; GROUP], squares: &[__m256; GROUP]| {
                let corr = div_ps(hsum_rows(sum), n);
                let squares = hsum_rows(squares);
                let var = sub_ps(div_ps(squares, n), mul_ps(corr, corr));
                // An overflowed `Σd²` keeps the variance infinite, not `inf - inf`, as in
                // `row::layer_stats`, so that `GroupStats::guard` sees it.
                let inf = set1_ps(f32::INFINITY);
                let overflow = cmp_ps::<_CMP_EQ_OQ>(squares, inf);
                let var = blend(overflow, var, inf);
                (corr, max_ps(zero, var))
            };
            let (corr, var) = finish(sum, squares);
            let far_limit = mul_ps(set1_ps(FAR_SHIFT), var);
            let far = cmp_ps::<_CMP_GT_OQ>(mul_ps(corr, corr), far_limit);
            let far_rows = bits(far);
            if far_rows == 0 {
                return (corr, var);
            }
            let first_corr = to_array(corr);
            let half_zero = _mm256_setzero_ps();
            let (mut sum, mut squares) = ([half_zero; GROUP], [half_zero; GROUP]);
            // Lanes past the last row of a short group have zero sums: never far.
            for i in 0..GROUP {
                if far_rows & (1 << i) != 0 {
                    shift[i] += first_corr[i];
                    let (s, s2) = resum(i, shift[i]);
                    (sum[i], squares[i]) = (halve(s), halve(s2));
                }
            }
            let (corr2, var2) = finish(&sum, &squares);
            (blend(far, corr, corr2), blend(far, var, var2))
        }

        #[target_feature(enable = $features)]
        #[inline]
        fn to_array(v: $V) -> [f32; GROUP] {
            let mut a = [0.0; GROUP];
            store_block(block_as_out(&mut a), v);
            a
        }
    };
}

pub(super) use group_template;

/// The software-pipelined group loop of the short rows: rows `0..rows`, `GROUP` at a
/// time, row `i` of the next group summed next to the output of row `i` of this one.
/// Each group's statistics end in a chain (transposing reduction, division, square root)
/// that its output waits for, and the output's stores drain slowly (on Zen 4, one
/// 512-bit store per two cycles); with the two interleaved, the core always has
/// independent work (AVX-512: 1.25x at 64 features, 1.1x at 128, against summing a
/// whole group, then writing it).
///
/// Every short-row loop of both paths is this one, expanded in place with its own row
/// access, so that each keeps its state in registers (a driver shared through closures
/// measured 5-8% slower on AVX-512: 8192x96, 4096x200, alternated runs):
///
/// ```text
/// pipelined_groups! {
///     rows: rows,                          // how many rows
///     spec: (kind, eps),                   // NormKind and epsilon
///     guard: (x, mask, features),          // for GroupStats::guard (mask: Option)
///     add: |sums, i, r| ...,               // sum row `r` into lane `i` of `sums`
///     resum: |r, shift| ...,               // row `r`'s (Σd, Σd²) around `shift`
///     write: |stats, i, r| ...,            // write row `r`, lane `i` of `stats`
/// }
/// ```
///
/// The closures are not closures: their bodies are pasted into the loop (`add` twice,
/// for the first group and for the next ones), so they may borrow mutably what the loop
/// around them uses. `resum` becomes the closure that `GroupSums::finish` takes.
macro_rules! pipelined_groups {
    (
        rows: $rows:expr,
        spec: ($kind:expr, $eps:expr),
        guard: ($x:expr, $mask:expr, $features:expr),
        add: |$sums:ident, $i:ident, $r:ident| $add:expr,
        resum: |$rr:ident, $shift:ident| $resum:expr,
        write: |$stats:ident, $wi:ident, $wr:ident| $write:expr $(,)?
    ) => {{
        let rows: usize = $rows;
        let mut $sums = GroupSums::new();
        for $r in 0..GROUP.min(rows) {
            let $i = $r;
            $add;
        }
        for start in (0..rows).step_by(GROUP) {
            let group = start..(start + GROUP).min(rows);
            let resum = |i: usize, $shift: f32| {
                let $rr = start + i;
                $resum
            };
            let $stats = $sums.finish($kind, $eps, resum);
            let $stats = $stats.guard($x, $mask, $features, start, $kind, $eps);
            if rows - group.end < GROUP {
                // Fewer than `GROUP` rows remain. The lanes they leave unused must hold
                // zero sums (see `GroupSums::new`): such a lane could look far, and its
                // re-sum would read a row past the end.
                $sums = GroupSums::new();
            }
            for ($wi, $wr) in group.enumerate() {
                let next = $wr + GROUP;
                if next < rows {
                    let ($i, $r) = ($wi, next);
                    $add;
                }
                $write;
            }
        }
    }};
}

pub(super) use pipelined_groups;
