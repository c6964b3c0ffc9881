//! What can go wrong reading or writing a checkpoint. Every error names the file, and
//! the variable path, key and shapes where there are some, so the message alone says
//! what to fix.

use std::path::PathBuf;

use crate::VarKind;

/// Why a checkpoint could not be saved or loaded. On a load error nothing was written
/// to the module or state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// There is no file at that path.
    #[error("{}: no such file", file.display())]
    NotFound {
        /// The path as given.
        file: PathBuf,
    },
    /// The path names a directory (or something else that is not a regular file).
    #[error("{}: is a directory, not a safetensors file", file.display())]
    NotAFile {
        /// The path as given.
        file: PathBuf,
    },
    /// The operating system refused to open, map, read or write the file.
    #[error("{}: {source}", file.display())]
    Io {
        /// The path as given.
        file: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed safetensors file.
    #[error("{} is not a valid safetensors file: {problem}", file.display())]
    Format {
        /// The path as given.
        file: PathBuf,
        /// What is wrong with it.
        problem: FormatError,
    },
    /// A tensor the load needs has a dtype that does not convert to `f32`.
    #[error(
        "{}: `{key}` is {dtype}; nnx loads F32, and converts F16, BF16 and F64 to F32, \
         but not {dtype}",
        file.display()
    )]
    UnsupportedDtype {
        /// The path as given.
        file: PathBuf,
        /// The tensor's key in the file.
        key: String,
        /// Its dtype, as the file spells it (`I64`, `F8_E4M3`, ...).
        dtype: String,
    },
    /// The module has a variable the file lacks (strict loads only).
    #[error(
        "{}: no tensor `{key}` for `{path}` (shape {shape:?} in the module); \
         load with `LoadOptions::lenient()` to leave it unchanged",
        file.display()
    )]
    Missing {
        /// The path as given.
        file: PathBuf,
        /// The variable's path in the module.
        path: String,
        /// The key it was looked up under (the path itself, or its PyTorch name).
        key: String,
        /// Its shape in the module.
        shape: Vec<usize>,
    },
    /// The file has a tensor that no variable of the module takes (strict loads only).
    #[error(
        "{}: tensor `{key}` (shape {shape:?}) matches no variable of the module; \
         load with `LoadOptions::lenient()` to skip it",
        file.display()
    )]
    Unexpected {
        /// The path as given.
        file: PathBuf,
        /// The tensor's key in the file.
        key: String,
        /// Its shape in the file.
        shape: Vec<usize>,
    },
    /// A tensor's shape differs from what the module's variable needs.
    #[error(
        "{}: `{key}` has shape {found:?} in the file but `{path}` needs {expected:?}",
        file.display()
    )]
    ShapeMismatch {
        /// The path as given.
        file: PathBuf,
        /// The variable's path in the module.
        path: String,
        /// The tensor's key in the file.
        key: String,
        /// The shape the file should have for it (the module's, or its PyTorch layout).
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// The file's metadata records another kind for a variable than the module's.
    #[error("{}: `{path}` is a {found} in the file but a {expected} in the module", file.display())]
    KindMismatch {
        /// The path as given.
        file: PathBuf,
        /// The variable's path.
        path: String,
        /// Its kind in the module.
        expected: VarKind,
        /// Its kind in the file's metadata.
        found: VarKind,
    },
    /// [`Checkpoint::tensor`](super::Checkpoint::tensor) asked for a key the file lacks.
    #[error("{}: no tensor `{key}`", file.display())]
    NoSuchTensor {
        /// The path as given.
        file: PathBuf,
        /// The key asked for.
        key: String,
    },
    /// A PyTorch mapping cannot be applied to the module's variables.
    #[error("PyTorch mapping, rule `{rule}` at `{path}`: {detail}")]
    Mapping {
        /// The rule's name (`nn.MultiheadAttention`).
        rule: String,
        /// The variable (or layer prefix) it was applied to.
        path: String,
        /// What does not fit.
        detail: String,
    },
    /// The safetensors writer refused the tensors (a header over its 100 MB limit).
    #[error("{}: cannot write: {detail}", file.display())]
    Write {
        /// The path as given.
        file: PathBuf,
        /// The writer's message.
        detail: String,
    },
}

/// What is wrong with the bytes of a file that is not valid safetensors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// Fewer than the 8 bytes of the header length.
    #[error("the file has {len} bytes, fewer than the 8 of the header length: truncated")]
    Truncated {
        /// The file's length.
        len: u64,
    },
    /// The header length points past the end of the file.
    #[error("the header is said to be {header_len} bytes but only {available} follow: truncated")]
    HeaderPastEnd {
        /// The header length the first 8 bytes give.
        header_len: u64,
        /// The bytes after those 8.
        available: u64,
    },
    /// The header is longer than safetensors allows (100 MB).
    #[error("the header is said to be {header_len} bytes, over safetensors' limit of 100 MB")]
    HeaderTooLarge {
        /// The header length the first 8 bytes give.
        header_len: u64,
    },
    /// The header is not UTF-8 JSON.
    #[error("the header is not JSON: {detail}")]
    HeaderNotJson {
        /// The parser's message.
        detail: String,
    },
    /// A key appears twice in the header.
    #[error("the header has the key `{key}` twice")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
    /// A header entry lacks `dtype`, `shape` or `data_offsets`, or has them mistyped.
    #[error("the header entry `{key}` is malformed: {detail}")]
    BadEntry {
        /// The entry's key (`__metadata__` for the metadata).
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// A dtype that safetensors does not define.
    #[error("`{key}` has dtype `{dtype}`, which safetensors does not define")]
    UnknownDtype {
        /// The tensor's key.
        key: String,
        /// The dtype as written.
        dtype: String,
    },
    /// The byte range does not hold exactly `shape` elements of `dtype`.
    #[error(
        "`{key}` is {dtype} of shape {shape:?}, which needs {} bytes, but its offsets span {found}",
        expected.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string())
    )]
    ByteLength {
        /// The tensor's key.
        key: String,
        /// Its dtype.
        dtype: String,
        /// Its shape.
        shape: Vec<usize>,
        /// The bytes the shape and dtype need (`None` past `u64`, or not a whole
        /// number of bytes).
        expected: Option<u64>,
        /// The bytes between its offsets.
        found: u64,
    },
    /// A tensor's offsets are reversed or run past the end of the data.
    #[error("`{key}` has data_offsets [{start}, {end}] but the data section is {data_len} bytes")]
    OffsetOutOfRange {
        /// The tensor's key.
        key: String,
        /// Its start offset.
        start: u64,
        /// Its end offset.
        end: u64,
        /// The bytes after the header.
        data_len: u64,
    },
    /// Two tensors share bytes.
    #[error("`{key}` (from byte {start}) overlaps `{other}` (to byte {other_end})")]
    Overlap {
        /// The later tensor.
        key: String,
        /// Its start offset.
        start: u64,
        /// The earlier tensor it overlaps.
        other: String,
        /// The earlier tensor's end offset.
        other_end: u64,
    },
    /// Bytes between two tensors (or before the first) that no tensor owns.
    #[error("no tensor owns data bytes {from}..{to} (before `{key}`); safetensors packs tensors")]
    Gap {
        /// The tensor after the gap.
        key: String,
        /// Where the gap starts.
        from: u64,
        /// Where it ends.
        to: u64,
    },
    /// Bytes after the last tensor.
    #[error("the tensors end at data byte {used} but the data section is {data_len} bytes")]
    TrailingBytes {
        /// Where the last tensor ends.
        used: u64,
        /// The bytes after the header.
        data_len: u64,
    },
    /// The metadata records a variable kind nnx does not know.
    #[error(
        "the metadata gives `{key}` the kind `{kind}`; expected `Param`, `BatchStat`, `RngKey`, `RngCount` or `Cache`"
    )]
    BadKind {
        /// The tensor's key.
        key: String,
        /// The kind as written.
        kind: String,
    },
    /// The safetensors crate refused the file for a reason the checks above missed.
    #[error("{detail}")]
    Rejected {
        /// The crate's message.
        detail: String,
    },
}
