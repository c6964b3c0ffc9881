//! A change detector for refactoring the kernels: a digest of every output bit of each
//! path, on a fixed set of inputs that reaches every code path (short rows of each
//! unrolled width and the others, in-cache and streamed outputs, long and chunked rows,
//! column tiles, masks, each scale/bias combination, aligned and unaligned slices,
//! outlier shifts and rows whose squares overflow).
//!
//! The digests were recorded from the code itself, so they say nothing about whether it
//! is right (the reference tests beside this one do): they only prove that a change
//! meant to keep every bit kept it. A change that is meant to alter results updates them
//! from the table this test prints when they differ, and says so.

use super::{Rng, make_digest_mask};
use crate::kernels::{Isa, NormKind, NormSpec, Threads, norm_rows_into_with};

/// (rows, features): short groups, unrolled widths and the rest, in-cache outputs.
const IN_CACHE: [(usize, usize); 24] = [
    (61, 1),
    (53, 3),
    (47, 7),
    (41, 16),
    (37, 17),
    (35, 32),
    (33, 48),
    (31, 64),
    (29, 100),
    (27, 128),
    (23, 200),
    (21, 256),
    (19, 257),
    (17, 511),
    (13, 768),
    (11, 1000),
    (9, 1024),
    (7, 1025),
    (6, 2048),
    (5, 3000),
    (4, 4096),
    (3, 4097),
    (3, 9000),
    (2, 65536),
];

/// Outputs of at least 2^21 elements, which the x86 paths stream (and tile, from 2048 to
/// 16384 features).
const STREAMED: [(usize, usize); 10] = [
    (131_072, 16),
    (65_536, 32),
    (43_691, 48),
    (32_768, 64),
    (16_384, 128),
    (8_192, 256),
    (2_731, 768),
    (2_048, 1024),
    (512, 4096),
    (33, 65_536),
];

/// FNV-1a over the bits of each output, in case order, every NaN counted as one: a
/// NaN's sign and payload are not part of the result (a fully masked row's NaNs, for
/// one, take their sign from whichever of two equal formulas wrote them, which on
/// AVX-512 depends on where the row starts in a 64-byte line).
fn fnv(hash: u64, out: &[f32]) -> u64 {
    out.iter().fold(hash, |h, v| {
        let bits = if v.is_nan() {
            f32::NAN.to_bits()
        } else {
            v.to_bits()
        };
        bits.to_le_bytes().iter().fold(h, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    })
}

/// Well-scaled rows, with every 11th row led by an outlier (a far shift), every 13th
/// shifted by 1e4 (a large mean) and row 5 alternating ±1e20 (squares overflow f32).
fn input(rows: usize, features: usize, rng: &mut Rng) -> Vec<f32> {
    let mut x = rng.vec(rows * features, -2.0, 3.0);
    for (r, row) in x.chunks_mut(features).enumerate() {
        if r % 11 == 10 {
            row[0] = 1e4;
        }
        if r % 13 == 12 {
            row.iter_mut().for_each(|v| *v += 1e4);
        }
        if r == 5 && features > 1 {
            row.iter_mut()
                .enumerate()
                .for_each(|(j, v)| *v = if j % 2 == 0 { 1e20 } else { -1e20 });
        }
    }
    x
}

/// The digest of one path over one shape: every kind, mask and affine combination (the
/// streamed shapes: at one offset only, as they are large).
fn shape_digest(isa: Isa, rows: usize, features: usize, offsets: &[usize]) -> u64 {
    let mut rng = Rng(rows as u64 * 1_000_003 + features as u64);
    let x = input(rows, features, &mut rng);
    let scale = rng.vec(features, 0.5, 1.5);
    let bias = rng.vec(features, -1.0, 1.0);
    let mask = make_digest_mask(rows, features, &mut rng);
    let len = x.len();
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for &offset in offsets {
        let mut xs = vec![0.0f32; len + offset];
        xs[offset..].copy_from_slice(&x);
        let mut ms = vec![false; len + offset];
        ms[offset..].copy_from_slice(&mask);
        let mut out = vec![0.0f32; len + offset];
        for kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            for masked in [false, true] {
                for (use_scale, use_bias) in
                    [(false, false), (true, false), (false, true), (true, true)]
                {
                    let spec = NormSpec {
                        kind,
                        epsilon: 1e-5,
                        scale: use_scale.then_some(&scale[..]),
                        bias: use_bias.then_some(&bias[..]),
                    };
                    let m = masked.then_some(&ms[offset..]);
                    norm_rows_into_with(
                        isa,
                        Threads::Single,
                        &xs[offset..],
                        m,
                        features,
                        &spec,
                        &mut out[offset..],
                    )
                    .expect("valid arguments");
                    hash = fnv(hash, &out[offset..]);
                }
            }
        }
    }
    hash
}

/// The recorded digests: (rows, features, [scalar, avx2, avx512]): scalar and AVX2 from
/// the kernels of 74a6bf9, recorded on 2026-12-02 on an AMD EPYC without AVX-512 (and
/// unchanged through the shared templates); AVX-512 re-recorded the same day on an AMD
/// EPYC (Zen 5) when its output formula took the other paths' order (issue 22). A 0 would mark
/// a path no machine has recorded yet; the test prints its digests when it can run it.
#[rustfmt::skip]
const RECORDED: &[(usize, usize, [u64; 3])] = &[
    (61, 1, [0x11a58dfb5f7507f1, 0x11a58dfb5f7507f1, 0xa6cf4cc2244f9591]),
    (53, 3, [0xa9424d461fa40add, 0x098ef9615b6c4835, 0x177d2b32c9e1105d]),
    (47, 7, [0x47f740c169aab18d, 0xeb190f890b219591, 0xad01324b01fb6d8d]),
    (41, 16, [0x140ffee76d44f2f9, 0x742f638e3605b571, 0x1e4028cd94d93b7d]),
    (37, 17, [0x160d0868109a13f5, 0xeaf741b0fca130a5, 0x67256546fc426eed]),
    (35, 32, [0xa3160847ae934c81, 0x4d08f8154a1cffb1, 0x51dbe73255a49625]),
    (33, 48, [0x4f9278617be423cd, 0x3980669e391eed9d, 0x0b4e1626c9a5117d]),
    (31, 64, [0x3f0ebeea9213445d, 0xaa58888f897c7849, 0x574acaaf9919c6a9]),
    (29, 100, [0xc50a22991805bad9, 0x7d9ef4d450eb2a05, 0xa596aa791da6ec85]),
    (27, 128, [0x2452809b85357d3d, 0xc33c99a89a283e75, 0x01693989379bbc6d]),
    (23, 200, [0xb4b88636c6b38d01, 0xb483ad5b28a446ad, 0xc88e3b66eefb1e99]),
    (21, 256, [0x7dd582f3ceaff831, 0x8b71ef53360bfbe9, 0x6a2e2e9a376aec4d]),
    (19, 257, [0x51fe93b3b1ecf43d, 0x13a88e68a198f591, 0x2828f68b05cfe985]),
    (17, 511, [0xb82ddb6812eee775, 0x0d4a39a3afd8db95, 0xe33e771f6f153cdd]),
    (13, 768, [0xa073c03e04f77661, 0xf760cab7b69b1fa1, 0x089cb25a42c75289]),
    (11, 1000, [0x574d15b1bc3aa8c5, 0xa8789fecc6cfd00d, 0x02cb96d6870fc555]),
    (9, 1024, [0x7449ab032dbb45fd, 0x45ae49b4437fe1d1, 0xeffa35c4ced035f5]),
    (7, 1025, [0x8b890018e73d4c25, 0x1c5f6769f47aba51, 0x10e2ff37858d952d]),
    (6, 2048, [0x6bf5643ec9171215, 0xa83e640b0c2c2fe9, 0xb9cc3b264d709871]),
    (5, 3000, [0x38acd18db7fd4105, 0x28fe2d1524dc069d, 0x2e0a608ea0038001]),
    (4, 4096, [0xa9723d0d0a8597c5, 0xcae4d0fa33b05f65, 0x5d40286a725e2a89]),
    (3, 4097, [0xd8b8e60bfb8738c5, 0x647c01e10c530c5d, 0x72ca8c9ef6f58ba1]),
    (3, 9000, [0xb7657679926e0b09, 0xa4b3aeba3a956c15, 0x668477c307d7f551]),
    (2, 65536, [0x84395244e54ffda5, 0x18d531805e4c67e5, 0x0625941fda3205fd]),
    (131072, 16, [0x9294931769aae959, 0x8c956f743ef285df, 0xcb7e8cb573115ebb]),
    (65536, 32, [0xa8d319e070520807, 0x18b3ff87332ab996, 0xf543daa0f83c3d4a]),
    (43691, 48, [0x2f51d3aa2c3dfb7d, 0xbb3f15f5ae0358a9, 0xc47b5021da665e52]),
    (32768, 64, [0x3a2788b598723b60, 0x0ddccb435d85b40f, 0xaff537484ef3d9a6]),
    (16384, 128, [0x3f420e0d7fcc8563, 0x4ae3e0b701d261a1, 0x5a15a8430b5b6b0d]),
    (8192, 256, [0x59b6173b13aa1056, 0x78887cbe7e7609e1, 0xef2eb1c400d171a1]),
    (2731, 768, [0x1893e1aadb312396, 0xf158d6789a73d34e, 0xf661abbfb8af60fc]),
    (2048, 1024, [0x9fc3570aedb1adad, 0x962d441c85cd23c8, 0x610dc19e6b7712f4]),
    (512, 4096, [0x469d09e8afb0c8b3, 0xe9bf96b0fcfa28b9, 0x5ad35f09658ce70d]),
    (33, 65536, [0x0c7b4c517144e4f4, 0xd88f038e77223d2d, 0x6dc197e4be1bc5be]),
];

const PATHS: [Isa; 3] = [Isa::Scalar, Isa::Avx2Fma, Isa::Avx512];

#[test]
fn every_path_keeps_its_output_bits() {
    let shapes = IN_CACHE
        .iter()
        .map(|&(r, f)| (r, f, &[0, 5][..]))
        .chain(STREAMED.iter().map(|&(r, f)| (r, f, &[5][..])));
    let mut table = String::new();
    let mut differ = Vec::new();
    let mut unrecorded = false;
    for (rows, features, offsets) in shapes {
        let digests = PATHS.map(|isa| {
            isa.is_available()
                .then(|| shape_digest(isa, rows, features, offsets))
        });
        let recorded = RECORDED
            .iter()
            .find(|&&(r, f, _)| (r, f) == (rows, features));
        for (i, digest) in digests.iter().enumerate() {
            if let (Some(digest), Some((_, _, want))) = (digest, recorded)
                && want[i] != 0
                && *digest != want[i]
            {
                differ.push(format!("{}: {rows}x{features}", PATHS[i]));
            }
            unrecorded |= digest.is_some() && recorded.is_some_and(|(_, _, want)| want[i] == 0);
        }
        let column = |d: Option<u64>| d.map_or("0".to_owned(), |d| format!("{d:#018x}"));
        table += &format!(
            "    ({rows}, {features}, [{}, {}, {}]),\n",
            column(digests[0]),
            column(digests[1]),
            column(digests[2])
        );
        if recorded.is_none() {
            differ.push(format!("{rows}x{features}: no recorded digest"));
        }
    }
    if unrecorded {
        eprintln!("a path here has no recorded digest yet; this code's digests:\n{table}");
    }
    assert!(
        differ.is_empty(),
        "output bits changed: {differ:?}\nthis code's digests:\n{table}"
    );
}
