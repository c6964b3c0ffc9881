//! Bad checkpoint files: each defect is a typed error naming the file, never a panic,
//! and a failed load writes nothing. Hand-made files first, then proptest over random
//! bytes and mutations of a valid file.

use std::path::{Path, PathBuf};

use nnx::CheckpointError;
use nnx::checkpoint::{self, Checkpoint, FormatError};
use nnx::prelude::*;
use proptest::prelude::*;

/// A header and data section, written by hand.
fn raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn entry(key: &str, dtype: &str, shape: &[usize], start: usize, end: usize) -> String {
    format!(
        "\"{key}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[{start},{end}]}}"
    )
}

/// A valid file holding a `Linear::new(2, 3)`'s kernel and bias.
fn valid() -> Vec<u8> {
    let header = format!(
        "{{{},{}}}",
        entry("kernel", "F32", &[2, 3], 0, 24),
        entry("bias", "F32", &[3], 24, 36)
    );
    let data: Vec<u8> = (0..9).flat_map(|i| (i as f32).to_le_bytes()).collect();
    raw(&header, &data)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    file
}

/// Opens `bytes` as a file: the error, which must name the file, and leave a module
/// untouched when loaded into.
fn format_error(bytes: &[u8]) -> FormatError {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.safetensors", bytes);
    let mut lin = Linear::new(2, 3, &mut Rngs::new(0));
    let before = lin.state();
    let err = checkpoint::load_into(&mut lin, &file).unwrap_err();
    assert_eq!(lin.state(), before);
    assert!(err.to_string().contains("bad.safetensors"), "{err}");
    match err {
        CheckpointError::Format { file: f, problem } => {
            assert_eq!(f, file);
            problem
        }
        other => panic!("not a format error: {other}"),
    }
}

#[test]
fn the_valid_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ok.safetensors", &valid());
    let mut lin = Linear::new(2, 3, &mut Rngs::new(0));
    checkpoint::load_into(&mut lin, &file).unwrap();
    assert_eq!(
        lin.kernel.as_slice().unwrap(),
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    assert_eq!(
        lin.bias.as_ref().unwrap().as_slice().unwrap(),
        [6.0, 7.0, 8.0]
    );
}

#[test]
fn an_empty_file() {
    assert_eq!(format_error(&[]), FormatError::Empty);
}

#[test]
fn a_file_truncated_inside_the_header_length() {
    assert_eq!(
        format_error(&valid()[..5]),
        FormatError::Truncated { len: 5 }
    );
}

#[test]
fn a_header_length_past_the_end() {
    let mut bytes = valid();
    bytes.truncate(40); // inside the header
    let problem = format_error(&bytes);
    assert!(
        matches!(problem, FormatError::HeaderPastEnd { available: 32, .. }),
        "{problem}"
    );
    let mut bytes = valid();
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        format_error(&bytes),
        FormatError::HeaderPastEnd {
            header_len: u64::MAX,
            ..
        }
    ));
}

#[test]
fn a_file_truncated_inside_the_data() {
    let mut bytes = valid();
    bytes.truncate(bytes.len() - 4);
    let problem = format_error(&bytes);
    assert!(
        matches!(&problem, FormatError::OffsetOutOfRange { key, end: 36, data_len: 32, .. } if key == "bias"),
        "{problem}"
    );
}

#[test]
fn a_header_that_is_not_json() {
    for header in [
        "{\"kernel\": [",
        "not json at all",
        "[1, 2, 3]",
        "\u{0}\u{0}",
    ] {
        let problem = format_error(&raw(header, &[]));
        assert!(
            matches!(problem, FormatError::HeaderNotJson { .. }),
            "{header}: {problem}"
        );
    }
    let mut bytes = raw("{\"a\":1}", &[]);
    bytes[9] = 0xff; // not UTF-8
    assert!(matches!(
        format_error(&bytes),
        FormatError::HeaderNotJson { .. }
    ));
}

#[test]
fn malformed_entries_and_unknown_dtypes() {
    let bad = [
        "{\"kernel\":{\"dtype\":\"F32\",\"shape\":[2]}}",
        "{\"kernel\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
        "{\"kernel\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}",
        "{\"kernel\":7}",
        "{\"__metadata__\":{\"a\":1}}",
    ];
    for header in bad {
        let problem = format_error(&raw(header, &[0; 8]));
        assert!(
            matches!(problem, FormatError::BadEntry { .. }),
            "{header}: {problem}"
        );
    }
    let header = format!("{{{}}}", entry("kernel", "F33", &[2], 0, 8));
    assert!(matches!(
        format_error(&raw(&header, &[0; 8])),
        FormatError::UnknownDtype { dtype, .. } if dtype == "F33"
    ));
}

#[test]
fn offsets_out_of_range_reversed_or_overlapping() {
    let header = format!("{{{}}}", entry("kernel", "F32", &[2, 3], 0, 240));
    assert!(matches!(
        format_error(&raw(&header, &[0; 24])),
        FormatError::OffsetOutOfRange {
            end: 240,
            data_len: 24,
            ..
        }
    ));
    let header = format!("{{{}}}", entry("kernel", "F32", &[0], 8, 0));
    assert!(matches!(
        format_error(&raw(&header, &[0; 8])),
        FormatError::OffsetOutOfRange {
            start: 8,
            end: 0,
            ..
        }
    ));
    let header = format!(
        "{{{},{}}}",
        entry("kernel", "F32", &[2, 3], 0, 24),
        entry("bias", "F32", &[3], 20, 32)
    );
    let problem = format_error(&raw(&header, &[0; 32]));
    assert!(
        matches!(&problem, FormatError::Overlap { key, other, start: 20, other_end: 24 } if key == "bias" && other == "kernel"),
        "{problem}"
    );
    let header = format!(
        "{{{},{}}}",
        entry("kernel", "F32", &[2, 3], 0, 24),
        entry("bias", "F32", &[3], 28, 40)
    );
    assert!(matches!(
        format_error(&raw(&header, &[0; 40])),
        FormatError::Gap {
            from: 24,
            to: 28,
            ..
        }
    ));
    let mut bytes = valid();
    bytes.extend_from_slice(&[0; 4]);
    assert!(matches!(
        format_error(&bytes),
        FormatError::TrailingBytes {
            used: 36,
            data_len: 40
        }
    ));
}

#[test]
fn a_byte_length_that_does_not_fit_shape_and_dtype() {
    let header = format!(
        "{{{},{}}}",
        entry("kernel", "F32", &[2, 3], 0, 20),
        entry("bias", "F32", &[3], 20, 32)
    );
    let problem = format_error(&raw(&header, &[0; 32]));
    assert!(
        matches!(&problem, FormatError::ByteLength { key, expected: Some(24), found: 20, .. } if key == "kernel"),
        "{problem}"
    );
    let header = format!("{{{}}}", entry("kernel", "F32", &[1 << 62, 1 << 62], 0, 8));
    assert!(matches!(
        format_error(&raw(&header, &[0; 8])),
        FormatError::BadEntry { .. } | FormatError::ByteLength { expected: None, .. }
    ));
}

#[test]
fn duplicate_keys() {
    let header = format!(
        "{{{},{}}}",
        entry("kernel", "F32", &[2, 3], 0, 24),
        entry("kernel", "F32", &[3], 24, 36)
    );
    assert_eq!(
        format_error(&raw(&header, &[0; 36])),
        FormatError::DuplicateKey {
            key: "kernel".into()
        }
    );
}

#[test]
fn a_bad_kind_in_the_metadata() {
    let header = format!(
        "{{\"__metadata__\":{{\"nnx.kind:bias\":\"Weight\"}},{},{}}}",
        entry("kernel", "F32", &[2, 3], 0, 24),
        entry("bias", "F32", &[3], 24, 36)
    );
    assert!(matches!(
        format_error(&raw(&header, &[0; 36])),
        FormatError::BadKind { kind, .. } if kind == "Weight"
    ));
}

#[test]
fn a_directory_and_a_missing_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = Checkpoint::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, CheckpointError::NotAFile { file } if file == dir.path()),
        "{err}"
    );
    let missing = dir.path().join("nope.safetensors");
    let err = checkpoint::load(&missing).unwrap_err();
    assert!(
        matches!(&err, CheckpointError::NotFound { file } if file == &missing),
        "{err}"
    );
    assert!(err.to_string().contains("nope.safetensors"));
    // Saving into a directory that does not exist is an I/O error naming the file.
    let lin = Linear::new(2, 3, &mut Rngs::new(0));
    let err = checkpoint::save(&lin, dir.path().join("no/such/dir/x.safetensors")).unwrap_err();
    assert!(matches!(err, CheckpointError::Io { .. }), "{err}");
}

/// Whatever the bytes: no panic; an error, or a file every tensor of which reads; a
/// failed load into a module leaves it unchanged.
fn never_panics(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "fuzz.safetensors", bytes);
    if let Ok(ckpt) = Checkpoint::open(&file) {
        let keys: Vec<String> = ckpt.keys().map(str::to_owned).collect();
        for key in keys {
            let _ = ckpt.tensor(&key);
        }
        let _ = ckpt.to_state();
    }
    let mut lin = Linear::new(2, 3, &mut Rngs::new(0));
    let before = lin.state();
    if checkpoint::load_into(&mut lin, &file).is_err() {
        assert_eq!(lin.state(), before);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        never_panics(&bytes);
    }

    #[test]
    fn random_headers_never_panic(header in "\\{[\"a-z0-9_:,\\[\\]{} .-]{0,80}\\}", data in proptest::collection::vec(any::<u8>(), 0..64)) {
        never_panics(&raw(&header, &data));
    }

    #[test]
    fn mutated_valid_files_never_panic(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let mut bytes = valid();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        never_panics(&bytes);
    }

    #[test]
    fn mutated_header_digits_never_panic(
        at in any::<proptest::sample::Index>(),
        digit in "[0-9]{1,20}",
    ) {
        // Numbers are where offsets and shapes go wrong: splice digits into the header.
        let bytes = valid();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let mut header = String::from_utf8(bytes[8..8 + header_len].to_vec()).unwrap();
        let digits: Vec<usize> = header.match_indices(|c: char| c.is_ascii_digit()).map(|(i, _)| i).collect();
        let i = digits[at.index(digits.len())];
        header.replace_range(i..i + 1, &digit);
        never_panics(&raw(&header, &bytes[8 + header_len..]));
    }
}
