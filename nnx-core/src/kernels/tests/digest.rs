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

/// FNV-1a over the bits of each output, in case order.
fn fnv(hash: u64, out: &[f32]) -> u64 {
    out.iter().fold(hash, |h, v| {
        v.to_bits().to_le_bytes().iter().fold(h, |h, &b| {
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

/// The recorded digests: (rows, features, [scalar, avx2, avx512]), from the kernels of
/// 74a6bf9 (unchanged since): scalar and AVX2 recorded on 2026-12-02 on an AMD EPYC
/// without AVX-512, AVX-512 the same day on an AMD EPYC (Zen 5) with it. A 0 would mark
/// a path no machine has recorded yet; the test prints its digests when it can run it.
const RECORDED: &[(usize, usize, [u64; 3])] = &[
    (
        61,
        1,
        [0x0aa1d6918b871cf1, 0x0aa1d6918b871cf1, 0x20f6b43ae48af1c5],
    ),
    (
        53,
        3,
        [0xdf9ca935ce59cddd, 0x0f2cb821f52e0535, 0x165c0b6801d4d4b9],
    ),
    (
        47,
        7,
        [0x752f89c171a97b8d, 0x1805f2a31e2a4a91, 0x86b461d1cdeea855],
    ),
    (
        41,
        16,
        [0x4ef068156d8464f9, 0xcde2c4db96514171, 0x7370f7df5e8e192d],
    ),
    (
        37,
        17,
        [0xae2396376dc00df5, 0x203a355d88762ca5, 0xb605820603917c39],
    ),
    (
        35,
        32,
        [0x7ea6f1db22bb4c81, 0x7b39f499391affb1, 0xdd68fcf3e5478b29],
    ),
    (
        33,
        48,
        [0x88c5b058a9fdafcd, 0x4effd9c1ce8bab9d, 0xc55c09b7c6bcfce1],
    ),
    (
        31,
        64,
        [0x9dec16f32707445d, 0xbe2cf46efd5c7849, 0x26db0f13135791d5],
    ),
    (
        29,
        100,
        [0xbd617197d8d830d9, 0x3e4c30899b98f405, 0x33de8bd638846879],
    ),
    (
        27,
        128,
        [0xda0b6c97a0557d3d, 0x9b75e74a14a83e75, 0x01b255e2ea09f2ed],
    ),
    (
        23,
        200,
        [0xc107ab8a3c2d7401, 0x7aa8d5b3ab2268ad, 0x8c4f0cf3966dd92d],
    ),
    (
        21,
        256,
        [0xba4418b597aff831, 0x95389ab9952bfbe9, 0xd4389108ee95faa9],
    ),
    (
        19,
        257,
        [0xd3b3bdb1a9c15e3d, 0x39a903702ddbdc91, 0xb4af9d3eace966ad],
    ),
    (
        17,
        511,
        [0x5e1ff81fdc2f5a75, 0xb67a67ee99bc3395, 0xb7b1eca3a14dfe89],
    ),
    (
        13,
        768,
        [0xaafb44fc74e77661, 0x462f4ebcf37b1fa1, 0xf84f2d535d2403c9],
    ),
    (
        11,
        1000,
        [0x6320d58cad8d76c5, 0xff90ce0c53e1ba0d, 0x9f20162a748cee31],
    ),
    (
        9,
        1024,
        [0xde3a581fd67b45fd, 0xe165fd68e17fe1d1, 0x5c6427a30067adcd],
    ),
    (
        7,
        1025,
        [0x087c8f7aa0ea1325, 0x205841c686e23d51, 0xe31756b5e5e22a31],
    ),
    (
        6,
        2048,
        [0x84194683eb171215, 0xc2623c1efc2c2fe9, 0xac60d81960faf205],
    ),
    (
        5,
        3000,
        [0x3d3b0627e4cf2705, 0x13de8a041aadd39d, 0xcbea942a86eb1c89],
    ),
    (
        4,
        4096,
        [0x651e9e497d8597c5, 0x9f9582f6cdb05f65, 0xad62661dcefc90bd],
    ),
    (
        3,
        4097,
        [0xd8b8e60bfb8738c5, 0x647c01e10c530c5d, 0xdcc1154c1b5b57dd],
    ),
    (
        3,
        9000,
        [0xb7657679926e0b09, 0xa4b3aeba3a956c15, 0xbf58721d18dc96bd],
    ),
    (
        2,
        65536,
        [0x84395244e54ffda5, 0x18d531805e4c67e5, 0xeeb5702a2d8956f1],
    ),
    (
        131072,
        16,
        [0x963e56793b541759, 0x1b025bfe8684b5df, 0xb6c95a706e936ef1],
    ),
    (
        65536,
        32,
        [0x364b6bcc36930807, 0x4df2fc944890b996, 0xce159b04e3c8d8b6],
    ),
    (
        43691,
        48,
        [0xef8fca86a7dc0d7d, 0x797e17926ff1a5a9, 0x517f80e8d5159ef1],
    ),
    (
        32768,
        64,
        [0x00b1b26112dc3b60, 0xa2889369b549b40f, 0x5a676318bf4ac083],
    ),
    (
        16384,
        128,
        [0x29e953826fac8563, 0x66faaa76088a61a1, 0x0562d8cad82eaa96],
    ),
    (
        8192,
        256,
        [0x46c6de0874721056, 0x5888f41a182609e1, 0xc9f44e9829e3e8bb],
    ),
    (
        2731,
        768,
        [0xd7d496ad07e92396, 0x6fb2a59aced3d34e, 0x536315d2a40fa657],
    ),
    (
        2048,
        1024,
        [0x7db9dfcc2c51adad, 0xc50f828ebe4d23c8, 0x3d9d4fb3d0e69478],
    ),
    (
        512,
        4096,
        [0xdcaf2baac030c8b3, 0x3e613071127a28b9, 0x177f744d2b41b515],
    ),
    (
        33,
        65536,
        [0x348e75541944e4f4, 0x1e4449b17f223d2d, 0xc424b6afa0f173f2],
    ),
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
