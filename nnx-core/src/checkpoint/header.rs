//! The safetensors header, parsed and checked here before the `safetensors` crate sees
//! it, so each defect gets its own [`FormatError`] (the crate folds overlap, gaps and
//! range errors into one `InvalidOffset`, and keeps the last of two duplicate keys).

use std::collections::HashMap;
use std::fmt;

use safetensors::Dtype;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::FormatError;
use crate::VarKind;

/// safetensors' own limit on the header, so a file nnx accepts is one every reader does.
const MAX_HEADER: u64 = 100_000_000;

/// Where nnx records a variable's kind in the metadata: `nnx.kind:<path>` → `Param`.
pub(crate) const KIND_PREFIX: &str = "nnx.kind:";

/// One tensor's entry.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Byte range in the whole file (the header's offsets plus 8 plus its length).
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Header {
    /// In the order of their data.
    pub entries: Vec<Entry>,
    pub index: HashMap<String, usize>,
    pub metadata: Vec<(String, String)>,
}

impl Header {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    /// The kind the metadata records for `key`, if it records one.
    pub fn kind(&self, key: &str) -> Result<Option<VarKind>, FormatError> {
        let Some((_, kind)) = self
            .metadata
            .iter()
            .find(|(name, _)| name.strip_prefix(KIND_PREFIX) == Some(key))
        else {
            return Ok(None);
        };
        kind.parse().map(Some).map_err(|_| FormatError::BadKind {
            key: key.to_owned(),
            kind: kind.clone(),
        })
    }
}

/// The header's entries in file order, duplicates kept so they can be reported.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of tensor entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// Parses and checks the header of `bytes`, a whole file.
pub(crate) fn parse(bytes: &[u8]) -> Result<Header, FormatError> {
    let len = bytes.len() as u64;
    if len == 0 {
        return Err(FormatError::Empty);
    }
    let Some((prefix, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(FormatError::Truncated { len });
    };
    let header_len = u64::from_le_bytes(*prefix);
    let available = rest.len() as u64;
    if header_len > available {
        return Err(FormatError::HeaderPastEnd {
            header_len,
            available,
        });
    }
    if header_len > MAX_HEADER {
        return Err(FormatError::HeaderTooLarge { header_len });
    }
    // Both fit in `usize`: they are at most the slice's length.
    let (json, data) = rest.split_at(header_len as usize);
    let text = std::str::from_utf8(json).map_err(|err| FormatError::HeaderNotJson {
        detail: format!("not UTF-8: {err}"),
    })?;
    let Entries(raw) = serde_json::from_str(text).map_err(|err| FormatError::HeaderNotJson {
        detail: err.to_string(),
    })?;

    let data_start = 8 + header_len as usize;
    let data_len = data.len() as u64;
    let mut seen = HashMap::with_capacity(raw.len());
    let mut entries = Vec::with_capacity(raw.len());
    let mut metadata = Vec::new();
    for (key, value) in raw {
        if seen.insert(key.clone(), ()).is_some() {
            return Err(FormatError::DuplicateKey { key });
        }
        if key == "__metadata__" {
            metadata = parse_metadata(value)?;
            continue;
        }
        let (dtype, shape, start, end) = parse_entry(&key, &value)?;
        if start > end || end > data_len {
            return Err(FormatError::OffsetOutOfRange {
                key,
                start,
                end,
                data_len,
            });
        }
        let expected = byte_len(dtype, &shape);
        if expected != Some(end - start) {
            return Err(FormatError::ByteLength {
                key,
                dtype: dtype_name(dtype),
                shape,
                expected,
                found: end - start,
            });
        }
        entries.push(Entry {
            key,
            dtype,
            shape,
            // Within the slice, so within `usize`.
            start: data_start + start as usize,
            end: data_start + end as usize,
        });
    }

    entries.sort_by_key(|e| (e.start, e.end));
    let mut used = data_start;
    for (i, entry) in entries.iter().enumerate() {
        if entry.start < used {
            let other = &entries[i - 1];
            return Err(FormatError::Overlap {
                key: entry.key.clone(),
                start: (entry.start - data_start) as u64,
                other: other.key.clone(),
                other_end: (other.end - data_start) as u64,
            });
        }
        if entry.start > used {
            return Err(FormatError::Gap {
                key: entry.key.clone(),
                from: (used - data_start) as u64,
                to: (entry.start - data_start) as u64,
            });
        }
        used = entry.end;
    }
    if used != bytes.len() {
        return Err(FormatError::TrailingBytes {
            used: (used - data_start) as u64,
            data_len,
        });
    }
    let index = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key.clone(), i))
        .collect();
    Ok(Header {
        entries,
        index,
        metadata,
    })
}

fn parse_metadata(value: Value) -> Result<Vec<(String, String)>, FormatError> {
    let bad = |detail: &str| FormatError::BadEntry {
        key: "__metadata__".to_owned(),
        detail: detail.to_owned(),
    };
    let Value::Object(map) = value else {
        return Err(bad("expected an object of strings"));
    };
    map.into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => Ok((name, text)),
            _ => Err(bad(&format!("`{name}` is not a string"))),
        })
        .collect()
}

fn parse_entry(key: &str, value: &Value) -> Result<(Dtype, Vec<usize>, u64, u64), FormatError> {
    let bad = |detail: String| FormatError::BadEntry {
        key: key.to_owned(),
        detail,
    };
    let Value::Object(fields) = value else {
        return Err(bad(
            "expected an object with `dtype`, `shape` and `data_offsets`".into(),
        ));
    };
    let field = |name: &str| fields.get(name).ok_or_else(|| bad(format!("no `{name}`")));
    let dtype_text = field("dtype")?
        .as_str()
        .ok_or_else(|| bad("`dtype` is not a string".into()))?;
    let dtype: Dtype =
        serde_json::from_value(Value::String(dtype_text.to_owned())).map_err(|_| {
            FormatError::UnknownDtype {
                key: key.to_owned(),
                dtype: dtype_text.to_owned(),
            }
        })?;
    let numbers = |name: &str| -> Result<Vec<u64>, FormatError> {
        field(name)?
            .as_array()
            .and_then(|items| items.iter().map(Value::as_u64).collect())
            .ok_or_else(|| bad(format!("`{name}` is not an array of non-negative integers")))
    };
    let shape = numbers("shape")?
        .into_iter()
        .map(usize::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("a dimension does not fit in usize".into()))?;
    // ndarray's own limit; an array past it could not be built.
    let elements = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize);
    if elements.is_none() {
        return Err(bad(format!(
            "shape {shape:?} has more elements than fit in memory"
        )));
    }
    let offsets = numbers("data_offsets")?;
    let [start, end] = offsets[..] else {
        return Err(bad(format!(
            "`data_offsets` has {} numbers, not 2",
            offsets.len()
        )));
    };
    Ok((dtype, shape, start, end))
}

/// Bytes of `shape` elements of `dtype`; `None` on overflow or a fraction of a byte.
pub(crate) fn byte_len(dtype: Dtype, shape: &[usize]) -> Option<u64> {
    let bits = shape
        .iter()
        .try_fold(dtype.bitsize() as u64, |n, &d| n.checked_mul(d as u64))?;
    bits.is_multiple_of(8).then_some(bits / 8)
}

/// The dtype as files spell it (`F32`, `BF16`).
pub(crate) fn dtype_name(dtype: Dtype) -> String {
    match serde_json::to_value(dtype) {
        Ok(Value::String(name)) => name,
        _ => format!("{dtype:?}"),
    }
}
