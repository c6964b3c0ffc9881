//! Writing a module's or a state's variables to a safetensors file.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensorError, View};

use super::header::KIND_PREFIX;
use super::plan::{Plan, PlanEntry, to_file};
use super::{CheckpointError, TorchMapping, Variables};

/// One tensor of the file, converted from the variables only when the writer asks for
/// its bytes, so a save holds one tensor beyond the module.
struct Lazy<'a, V: ?Sized> {
    vars: &'a V,
    parts: Vec<&'a PlanEntry>,
    shape: Vec<usize>,
}

impl<V: Variables + ?Sized> View for Lazy<'_, V> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        let mut bytes = Vec::with_capacity(self.data_len());
        for part in &self.parts {
            self.vars.read(&part.path, &mut |value| {
                to_file(part.layout, value, &mut bytes)
            });
        }
        Cow::Owned(bytes)
    }

    fn data_len(&self) -> usize {
        self.shape.iter().product::<usize>() * 4
    }
}

/// Writes `vars` (a module or a [`State`](crate::State)) to `file` as F32 tensors keyed
/// by their paths (Flax's), recording each variable's kind in the metadata
/// (`"nnx.kind:bn.mean": "BatchStat"`). The file is written beside `file` and renamed
/// over it, so a reader never sees half a file.
pub fn save<V: Variables + ?Sized>(
    vars: &V,
    file: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let plan = Plan::identity(&vars.inventory());
    let metadata = plan
        .entries
        .iter()
        .map(|e| (format!("{KIND_PREFIX}{}", e.path), e.kind.to_string()))
        .collect();
    write(vars, &plan, metadata, file.as_ref())
}

/// Writes `vars` under PyTorch's names and layouts (see [`TorchMapping`]), with the
/// metadata `"format": "pt"` that Hugging Face's loaders look for.
pub fn save_torch<V: Variables + ?Sized>(
    vars: &V,
    file: impl AsRef<Path>,
    mapping: &TorchMapping,
) -> Result<(), CheckpointError> {
    let plan = mapping.plan(vars)?;
    let metadata = HashMap::from([("format".to_owned(), "pt".to_owned())]);
    write(vars, &plan, metadata, file.as_ref())
}

fn write<V: Variables + ?Sized>(
    vars: &V,
    plan: &Plan,
    metadata: HashMap<String, String>,
    file: &Path,
) -> Result<(), CheckpointError> {
    let mut tensors: Vec<(String, Lazy<'_, V>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for entry in &plan.entries {
        match index.get(entry.key.as_str()) {
            Some(&i) => tensors[i].1.parts.push(entry),
            None => {
                index.insert(&entry.key, tensors.len());
                let lazy = Lazy {
                    vars,
                    parts: vec![entry],
                    shape: entry.key_shape.clone(),
                };
                tensors.push((entry.key.clone(), lazy));
            }
        }
    }
    let metadata = (!metadata.is_empty()).then_some(metadata);
    safetensors::serialize_to_file(tensors, metadata, file).map_err(|err| match err {
        SafeTensorError::IoError(source) => CheckpointError::Io {
            file: file.to_path_buf(),
            source,
        },
        other => CheckpointError::Write {
            file: file.to_path_buf(),
            detail: other.to_string(),
        },
    })
}
