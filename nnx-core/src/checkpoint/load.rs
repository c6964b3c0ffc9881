//! Opening a file and loading it into a module or a state.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};

use super::dtype::{converts, decode, size};
use super::header::{self, Entry, Header};
use super::mmap::Bytes;
use super::plan::{Plan, PlanEntry, to_nnx};
use super::{CheckpointError, FormatError, TorchMapping, Variables};
use crate::{State, VarKind};

/// A safetensors file, opened, memory-mapped and checked: every tensor's offsets, byte
/// length and dtype are valid, so reading one cannot fail halfway.
///
/// Loading reads through the map, so the file must not be truncated or rewritten by
/// another process meanwhile (`save` replaces a file by renaming a new one over it,
/// which is safe).
pub struct Checkpoint {
    file: PathBuf,
    bytes: Bytes,
    header: Header,
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("file", &self.file)
            .field("tensors", &self.header.entries.len())
            .finish()
    }
}

/// Which names a load looks the variables up under.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Naming {
    /// nnx's state paths, which are Flax's (`attn.query.kernel`), in nnx's layouts.
    #[default]
    Nnx,
    /// PyTorch `state_dict` names and layouts, through a mapping.
    Torch(TorchMapping),
}

/// How to load: strict or not, and under which names.
///
/// ```
/// use nnx::checkpoint::{LoadOptions, TorchMapping};
///
/// let strict_flax = LoadOptions::default();
/// let lenient_torch = LoadOptions::torch(TorchMapping::pytorch()).lenient();
/// assert!(strict_flax.strict && !lenient_torch.strict);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Refuse the file on any missing, unexpected or mismatched tensor (the default);
    /// otherwise skip those and list them in the [`LoadReport`].
    pub strict: bool,
    /// The names to look up.
    pub naming: Naming,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            strict: true,
            naming: Naming::Nnx,
        }
    }
}

impl LoadOptions {
    /// Strict, PyTorch names through `mapping`.
    pub fn torch(mapping: TorchMapping) -> Self {
        Self {
            strict: true,
            naming: Naming::Torch(mapping),
        }
    }

    /// The same options, not strict.
    pub fn lenient(mut self) -> Self {
        self.strict = false;
        self
    }
}

/// What a lenient load left out.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Skipped {
    /// The module's variable has no tensor in the file; it keeps its value.
    Missing {
        /// The variable's path.
        path: String,
        /// The key looked up.
        key: String,
        /// Its shape in the module.
        shape: Vec<usize>,
    },
    /// The file's tensor matches no variable.
    Unexpected {
        /// The tensor's key.
        key: String,
        /// Its shape in the file.
        shape: Vec<usize>,
    },
    /// The tensor's shape does not fit the variable; the variable keeps its value.
    Shape {
        /// The variable's path.
        path: String,
        /// The tensor's key.
        key: String,
        /// The shape the file should have.
        expected: Vec<usize>,
        /// The shape it has.
        found: Vec<usize>,
    },
    /// The file records another kind for the variable; it keeps its value.
    Kind {
        /// The variable's path.
        path: String,
        /// Its kind in the module.
        expected: VarKind,
        /// Its kind in the file.
        found: VarKind,
    },
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skipped::Missing { path, key, shape } => {
                write!(f, "missing: `{path}` {shape:?} (no `{key}` in the file)")
            }
            Skipped::Unexpected { key, shape } => write!(f, "unused: `{key}` {shape:?}"),
            Skipped::Shape {
                path,
                key,
                expected,
                found,
            } => write!(
                f,
                "shape: `{key}` is {found:?}, `{path}` needs {expected:?}"
            ),
            Skipped::Kind {
                path,
                expected,
                found,
            } => write!(
                f,
                "kind: `{path}` is a {found} in the file, a {expected} here"
            ),
        }
    }
}

/// What a load did: the variables written, and (lenient loads) what was skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    /// The paths written, in the module's order.
    pub loaded: Vec<String>,
    /// What was left out; always empty after a strict load.
    pub skipped: Vec<Skipped>,
}

impl LoadReport {
    /// Whether every variable was loaded and every tensor used.
    pub fn is_complete(&self) -> bool {
        self.skipped.is_empty()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "loaded {} variables, skipped {}",
            self.loaded.len(),
            self.skipped.len()
        )?;
        for skip in &self.skipped {
            writeln!(f, "  {skip}")?;
        }
        Ok(())
    }
}

impl Checkpoint {
    /// Opens, maps and checks `file`. Every defect of the bytes is a
    /// [`CheckpointError::Format`] naming the file and the problem.
    pub fn open(file: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        let file = file.as_ref().to_path_buf();
        let io = |source: std::io::Error| match source.kind() {
            std::io::ErrorKind::NotFound => CheckpointError::NotFound { file: file.clone() },
            _ => CheckpointError::Io {
                file: file.clone(),
                source,
            },
        };
        let meta = std::fs::metadata(&file).map_err(io)?;
        if !meta.is_file() {
            return Err(CheckpointError::NotAFile { file });
        }
        let handle = File::open(&file).map_err(io)?;
        let bytes = Bytes::open(handle, meta.len()).map_err(io)?;
        let format = |problem| CheckpointError::Format {
            file: file.clone(),
            problem,
        };
        let header = header::parse(bytes.as_slice()).map_err(format)?;
        // The crate every other reader uses must agree the file is valid.
        safetensors::SafeTensors::read_metadata(bytes.as_slice()).map_err(|err| {
            format(FormatError::Rejected {
                detail: err.to_string(),
            })
        })?;
        Ok(Self {
            file,
            bytes,
            header,
        })
    }

    /// The path it was opened from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The tensors' keys, in the order of their data.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.header.entries.iter().map(|e| e.key.as_str())
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.header.entries.len()
    }

    /// Whether it holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.header.entries.is_empty()
    }

    /// The shape of tensor `key`.
    pub fn shape(&self, key: &str) -> Option<&[usize]> {
        self.header.get(key).map(|e| e.shape.as_slice())
    }

    /// The dtype of tensor `key`, as the file spells it (`F32`, `BF16`).
    pub fn dtype(&self, key: &str) -> Option<String> {
        self.header.get(key).map(|e| header::dtype_name(e.dtype))
    }

    /// The header's `__metadata__` strings.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> {
        self.header
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Tensor `key` as `f32`.
    pub fn tensor(&self, key: &str) -> Result<ArrayD<f32>, CheckpointError> {
        let entry = self
            .header
            .get(key)
            .ok_or_else(|| CheckpointError::NoSuchTensor {
                file: self.file.clone(),
                key: key.to_owned(),
            })?;
        self.check_dtype(entry)?;
        Ok(self.read(entry))
    }

    /// Every tensor, keyed as in the file, in the order of their data; each variable's
    /// kind is the one nnx's metadata records, `Param` where there is none.
    pub fn to_state(&self) -> Result<State, CheckpointError> {
        let mut kinds = Vec::with_capacity(self.len());
        for entry in &self.header.entries {
            self.check_dtype(entry)?;
            kinds.push(self.kind(&entry.key)?.unwrap_or(VarKind::Param));
        }
        let mut state = State::new();
        for (entry, kind) in self.header.entries.iter().zip(kinds) {
            state.insert(entry.key.clone(), kind, self.read(entry));
        }
        Ok(state)
    }

    /// Loads into `target` (a module, or a [`State`] whose variables fix the paths and
    /// shapes), all or nothing: every tensor is matched and checked before the first
    /// is written, so on `Err` the target is unchanged. Each variable is copied from
    /// the map straight into the target, so the load holds at most one tensor more
    /// than the target.
    pub fn load_into<V: Variables + ?Sized>(
        &self,
        target: &mut V,
        options: &LoadOptions,
    ) -> Result<LoadReport, CheckpointError> {
        let inventory = target.inventory();
        let plan = match &options.naming {
            Naming::Nnx => Plan::identity(&inventory),
            Naming::Torch(mapping) => mapping.plan(target)?,
        };
        let (accepted, skipped) = self.check(&plan, options)?;
        let mut loaded = Vec::with_capacity(accepted.len());
        target.write(&mut |path, dest| {
            let Some(&(entry, tensor)) = accepted.get(path) else {
                return;
            };
            let (start, end) = rows_bytes(entry, tensor);
            let count = dest.len();
            let mut buffer;
            let src: &[f32] = match (entry.layout, dest.is_standard_layout()) {
                (super::Layout::Same | super::Layout::Flatten, true) => {
                    // Straight into the variable, no intermediate copy.
                    let mut dest = dest;
                    if let Some(out) = dest.as_slice_mut() {
                        decode(tensor.dtype, &self.bytes.as_slice()[start..end], out);
                    }
                    self.bytes.release(start, end);
                    loaded.push(path.to_owned());
                    return;
                }
                _ => {
                    buffer = vec![0.0f32; count];
                    decode(
                        tensor.dtype,
                        &self.bytes.as_slice()[start..end],
                        &mut buffer,
                    );
                    &buffer
                }
            };
            to_nnx(entry.layout, src, dest);
            self.bytes.release(start, end);
            loaded.push(path.to_owned());
        });
        Ok(LoadReport { loaded, skipped })
    }

    /// Matches `plan` against the file. Strict: the first problem is the error.
    #[allow(clippy::type_complexity)]
    fn check<'p>(
        &'p self,
        plan: &'p Plan,
        options: &LoadOptions,
    ) -> Result<(HashMap<&'p str, (&'p PlanEntry, &'p Entry)>, Vec<Skipped>), CheckpointError> {
        let file = || self.file.clone();
        let mut accepted = HashMap::with_capacity(plan.entries.len());
        let mut used = HashSet::with_capacity(plan.entries.len());
        let mut skipped = Vec::new();
        for entry in &plan.entries {
            let Some(tensor) = self.header.get(&entry.key) else {
                // A random stream or cache the file does not hold (one saved before they
                // were state, or by another library) keeps its own: listed, not refused.
                if options.strict && !entry.kind.is_run_state() {
                    return Err(CheckpointError::Missing {
                        file: file(),
                        path: entry.path.clone(),
                        key: entry.key.clone(),
                        shape: entry.shape.clone(),
                    });
                }
                skipped.push(Skipped::Missing {
                    path: entry.path.clone(),
                    key: entry.key.clone(),
                    shape: entry.shape.clone(),
                });
                continue;
            };
            used.insert(entry.key.as_str());
            if tensor.shape != entry.key_shape {
                if options.strict {
                    return Err(CheckpointError::ShapeMismatch {
                        file: file(),
                        path: entry.path.clone(),
                        key: entry.key.clone(),
                        expected: entry.key_shape.clone(),
                        found: tensor.shape.clone(),
                    });
                }
                skipped.push(Skipped::Shape {
                    path: entry.path.clone(),
                    key: entry.key.clone(),
                    expected: entry.key_shape.clone(),
                    found: tensor.shape.clone(),
                });
                continue;
            }
            self.check_dtype(tensor)?;
            // Only nnx's own files record kinds, under nnx's names.
            if options.naming == Naming::Nnx
                && let Some(found) = self.kind(&entry.key)?
                && found != entry.kind
            {
                if options.strict {
                    return Err(CheckpointError::KindMismatch {
                        file: file(),
                        path: entry.path.clone(),
                        expected: entry.kind,
                        found,
                    });
                }
                skipped.push(Skipped::Kind {
                    path: entry.path.clone(),
                    expected: entry.kind,
                    found,
                });
                continue;
            }
            accepted.insert(entry.path.as_str(), (entry, tensor));
        }
        for tensor in &self.header.entries {
            let ignored = match &options.naming {
                Naming::Torch(mapping) => mapping.ignores(&tensor.key),
                Naming::Nnx => false,
            };
            if used.contains(tensor.key.as_str()) || ignored {
                continue;
            }
            if options.strict {
                return Err(CheckpointError::Unexpected {
                    file: file(),
                    key: tensor.key.clone(),
                    shape: tensor.shape.clone(),
                });
            }
            skipped.push(Skipped::Unexpected {
                key: tensor.key.clone(),
                shape: tensor.shape.clone(),
            });
        }
        Ok((accepted, skipped))
    }

    fn check_dtype(&self, entry: &Entry) -> Result<(), CheckpointError> {
        if converts(entry.dtype) {
            Ok(())
        } else {
            Err(CheckpointError::UnsupportedDtype {
                file: self.file.clone(),
                key: entry.key.clone(),
                dtype: header::dtype_name(entry.dtype),
            })
        }
    }

    fn kind(&self, key: &str) -> Result<Option<VarKind>, CheckpointError> {
        self.header
            .kind(key)
            .map_err(|problem| CheckpointError::Format {
                file: self.file.clone(),
                problem,
            })
    }

    /// A whole tensor, decoded; its pages are released after.
    fn read(&self, entry: &Entry) -> ArrayD<f32> {
        let count = entry.shape.iter().product();
        let mut out = vec![0.0f32; count];
        decode(
            entry.dtype,
            &self.bytes.as_slice()[entry.start..entry.end],
            &mut out,
        );
        self.bytes.release(entry.start, entry.end);
        // The header check bounds the shape, so this does not fail.
        ArrayD::from_shape_vec(IxDyn(&entry.shape), out).unwrap_or_default()
    }
}

/// The byte range of the entry's rows in the file.
fn rows_bytes(entry: &PlanEntry, tensor: &Entry) -> (usize, usize) {
    match &entry.rows {
        None => (tensor.start, tensor.end),
        Some(rows) => {
            let row = tensor.shape[1..].iter().product::<usize>() * size(tensor.dtype);
            (
                tensor.start + rows.start * row,
                tensor.start + rows.end * row,
            )
        }
    }
}
