//! Reader for the vectors the real Flax produced, vendored in `tests/data/flax/` (schema
//! in its README). A missing folder fails the test: these checks must never be skipped.

use std::path::PathBuf;

use ndarray::{ArrayD, IxDyn};
use serde_json::Value;

pub fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/flax/vectors");
    assert!(
        dir.is_dir(),
        "the Flax reference vectors are missing: expected {}",
        dir.display()
    );
    dir
}

/// Every vector of one group file (`features`, `masks`, ...).
pub fn load(group: &str) -> Vec<Value> {
    load_from(&vectors_dir(), group)
}

/// Every vector of one group file of `vectors2/` (`embed`, `batchnorm`, ...), the newer
/// layers' (schema in `README-layers.md`).
pub fn load2(group: &str) -> Vec<Value> {
    load_from(&vectors_dir().with_file_name("vectors2"), group)
}

/// The vectors of `<folder>/<group>.json` beside `vectors/` (`conv/conv.json`, made
/// by the generator in that folder).
pub fn load_in(folder: &str, group: &str) -> Vec<Value> {
    load_from(&vectors_dir().with_file_name(folder), group)
}

fn load_from(dir: &std::path::Path, group: &str) -> Vec<Value> {
    let path = dir.join(format!("{group}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    let file: Value = serde_json::from_str(&text).expect("oracle files are JSON");
    let vectors = file["vectors"]
        .as_array()
        .expect("a `vectors` array")
        .clone();
    assert_eq!(
        vectors.len() as u64,
        file["count"].as_u64().unwrap(),
        "{group}: count"
    );
    assert!(!vectors.is_empty());
    vectors
}

fn number(value: &Value) -> f32 {
    match value {
        Value::Number(n) => n.to_string().parse::<f32>().expect("an f32"),
        Value::String(s) => match s.as_str() {
            "NaN" => f32::NAN,
            "Infinity" => f32::INFINITY,
            "-Infinity" => f32::NEG_INFINITY,
            other => panic!("unexpected number string {other:?}"),
        },
        other => panic!("unexpected number {other}"),
    }
}

fn shape(tensor: &Value) -> Vec<usize> {
    tensor["shape"]
        .as_array()
        .expect("a shape")
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

pub fn tensor_f32(tensor: &Value) -> ArrayD<f32> {
    assert_eq!(tensor["dtype"], "f32");
    let data: Vec<f32> = tensor["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape(tensor)), data).expect("data matches shape")
}

pub fn tensor_bool(tensor: &Value) -> ArrayD<bool> {
    assert_eq!(tensor["dtype"], "bool");
    let data: Vec<bool> = tensor["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape(tensor)), data).expect("data matches shape")
}

pub fn tensor_i64(tensor: &Value) -> ArrayD<i64> {
    assert_eq!(tensor["dtype"], "i32");
    let data: Vec<i64> = tensor["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape(tensor)), data).expect("data matches shape")
}

/// A vector's `params` (and `batch_stats`) as a `State` to `update` a module with.
pub fn state(vector: &Value) -> nnx::State {
    let mut state = nnx::State::new();
    for (group, kind) in [
        ("params", nnx::VarKind::Param),
        ("batch_stats", nnx::VarKind::BatchStat),
    ] {
        for (path, tensor) in vector[group].as_object().unwrap() {
            state.insert(path.as_str(), kind, tensor_f32(tensor));
        }
    }
    state
}

pub fn optional_f32(value: &Value) -> Option<ArrayD<f32>> {
    (!value.is_null()).then(|| tensor_f32(value))
}

pub fn axes(value: &Value) -> Vec<isize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_i64().unwrap() as isize)
        .collect()
}

/// The comparison the vector asks for: `Some((atol, rtol))`, or `None` when Flax's own
/// float32 result is unstable and must not be compared elementwise.
pub fn tolerance(vector: &Value) -> Option<(f32, f32)> {
    match vector["check"]["mode"].as_str().unwrap() {
        "allclose" => Some((
            vector["check"]["atol"].as_f64().unwrap() as f32,
            vector["check"]["rtol"].as_f64().unwrap() as f32,
        )),
        "unstable" => None,
        other => panic!("unknown check mode {other}"),
    }
}

/// NaN positions must match; elsewhere |got − want| ≤ atol + rtol·|want| (infinities equal).
pub fn assert_allclose(id: &str, got: &ArrayD<f32>, want: &ArrayD<f32>, atol: f32, rtol: f32) {
    assert_eq!(got.shape(), want.shape(), "{id}: shape");
    for ((index, &g), &w) in got.indexed_iter().zip(want.iter()) {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        assert!(
            ok,
            "{id}: at {index:?} got {g}, want {w} (atol {atol}, rtol {rtol})"
        );
    }
}
