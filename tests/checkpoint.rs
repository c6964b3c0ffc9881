//! Checkpoints: bit-for-bit round trips, the vendored Flax- and PyTorch-named files
//! (written by Python, independently of nnx), strictness, dtypes and the PyTorch mapping.

use common::oracle::tensor_f32;
use nnx::checkpoint::{
    self, Checkpoint, FormatError, Layout, LoadOptions, ParamRule, Skipped, TorchMapping,
};
use nnx::ndarray::{Array1, ArrayD, IxDyn};
use nnx::prelude::*;
use nnx::{CheckpointError, MultiHeadAttention};

#[module]
struct Net {
    emb: Embed,
    attn: MultiHeadAttention,
    bn: BatchNorm,
    layers: Vec<Linear>,
    gate: Param<Array1<f32>>,
}

fn net(seed: u64) -> Net {
    let rngs = &mut Rngs::new(seed);
    Net {
        emb: Embed::new(5, 8, rngs),
        attn: MultiHeadAttention::new(2, 8, rngs).unwrap(),
        bn: BatchNorm::new(8),
        layers: vec![Linear::new(8, 3, rngs), Linear::new(3, 8, rngs)],
        gate: Param::new(Array1::from_elem(8, 0.5)),
    }
}

/// Values a lossy or reordering writer would change: signed zero, subnormals,
/// infinities, a NaN with a payload, and distinct numbers everywhere else.
fn awkward(state: &mut State) {
    let specials = [
        -0.0f32,
        f32::from_bits(1),
        f32::MIN_POSITIVE / 3.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(0x7fc0_1234),
        f32::MAX,
    ];
    for (v, (_, var)) in state.iter_mut().enumerate() {
        for (i, x) in var.value.iter_mut().enumerate() {
            *x = specials
                .get(i)
                .copied()
                .unwrap_or(((v * 1000 + i) as f32 * 0.731).sin());
        }
    }
}

fn bits(state: &State) -> Vec<(String, VarKind, Vec<usize>, Vec<u32>)> {
    state
        .iter()
        .map(|(path, var)| {
            let bits = var.value.iter().map(|x| x.to_bits()).collect();
            (path.to_owned(), var.kind, var.value.shape().to_vec(), bits)
        })
        .collect()
}

fn sorted(
    mut v: Vec<(String, VarKind, Vec<usize>, Vec<u32>)>,
) -> Vec<(String, VarKind, Vec<usize>, Vec<u32>)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn a_module_round_trips_bit_for_bit_kinds_included() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("net.safetensors");
    let mut model = net(0);
    let mut state = model.state();
    awkward(&mut state);
    model.update(&state).unwrap();
    checkpoint::save(&model, &file).unwrap();

    let mut other = net(1);
    assert_ne!(bits(&other.state()), bits(&state));
    let report = checkpoint::load_into(&mut other, &file).unwrap();
    assert!(report.is_complete());
    assert_eq!(report.loaded.len(), state.len());
    assert_eq!(bits(&other.state()), bits(&state));

    // As a State: same variables, kinds restored from the metadata (BatchStats too).
    let loaded = checkpoint::load(&file).unwrap();
    assert_eq!(sorted(bits(&loaded)), sorted(bits(&state)));
    assert_eq!(loaded.get("bn.mean").unwrap().kind, VarKind::BatchStat);

    // A State saves and loads the same way.
    let file2 = dir.path().join("state.safetensors");
    checkpoint::save(&state, &file2).unwrap();
    let mut template = net(2).state();
    checkpoint::load_into(&mut template, &file2).unwrap();
    assert_eq!(bits(&template), bits(&state));
}

/// `block_shared.json`'s params, exactly as Flax wrote them.
fn flax_params() -> State {
    let (state, ..) = example::flax_vectors().remove(0);
    state
}

#[path = "../examples/load_block.rs"]
#[allow(dead_code)]
mod example;

mod common;

#[test]
fn the_load_block_example_reproduces_flax_output_from_both_files() {
    let outputs = example::outputs().unwrap();
    assert_eq!(outputs.len(), 4);
    for (file, approximate, y, want) in &outputs {
        // As tests/block.rs: Flax's tolerance is 1e-4, nnx measured 2e-6.
        let what = format!("{file}, gelu approximate = {approximate}");
        common::oracle::assert_allclose(&what, y, want, 1e-5, 1e-5);
    }
}

#[test]
fn the_flax_named_file_holds_the_json_params_exactly() {
    let ckpt = Checkpoint::open(example::vendored("block_shared.safetensors")).unwrap();
    assert_eq!(ckpt.len(), 16);
    assert_eq!(ckpt.dtype("attn.query.kernel").as_deref(), Some("F32"));
    assert_eq!(ckpt.shape("attn.out.kernel"), Some(&[6, 8, 48][..]));
    let state = ckpt.to_state().unwrap();
    assert_eq!(sorted(bits(&state)), sorted(bits(&flax_params())));
}

#[test]
fn both_vendored_files_load_the_json_params_into_a_block() {
    let want = bits(&flax_params());
    for (file, torch) in [
        ("block_shared.safetensors", false),
        ("block_shared_torch.safetensors", true),
    ] {
        let block = example::load_block(file, torch).unwrap();
        assert_eq!(sorted(bits(&block.state())), sorted(want.clone()), "{file}");
    }
}

/// Each tensor of `ours`, as bits, against the same key of `theirs`.
fn same_tensors(ours: &std::path::Path, theirs: &std::path::Path) {
    let (a, b) = (
        Checkpoint::open(ours).unwrap(),
        Checkpoint::open(theirs).unwrap(),
    );
    let mut keys_a: Vec<&str> = a.keys().collect();
    let mut keys_b: Vec<&str> = b.keys().collect();
    keys_a.sort();
    keys_b.sort();
    assert_eq!(keys_a, keys_b);
    for key in keys_a {
        let (x, y) = (a.tensor(key).unwrap(), b.tensor(key).unwrap());
        assert_eq!(x.shape(), y.shape(), "{key}");
        assert!(
            x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{key}"
        );
    }
}

#[test]
fn saving_the_block_reproduces_both_vendored_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut block = example::Block::new(48, 6, &mut Rngs::new(3)).unwrap();
    block.update(&flax_params()).unwrap();

    let flax = dir.path().join("flax.safetensors");
    checkpoint::save(&block, &flax).unwrap();
    same_tensors(&flax, &example::vendored("block_shared.safetensors"));

    let torch = dir.path().join("torch.safetensors");
    checkpoint::save_torch(&block, &torch, &TorchMapping::pytorch()).unwrap();
    same_tensors(&torch, &example::vendored("block_shared_torch.safetensors"));
    let ckpt = Checkpoint::open(&torch).unwrap();
    assert!(ckpt.metadata().any(|kv| kv == ("format", "pt")));
}

fn module_unchanged_after<F: FnOnce(&mut Net) -> CheckpointError>(f: F) -> CheckpointError {
    let mut model = net(7);
    let before = bits(&model.state());
    let err = f(&mut model);
    assert_eq!(bits(&model.state()), before, "nothing written on {err}");
    err
}

#[test]
fn strict_loads_name_the_path_and_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.safetensors");
    let full = net(0).state();

    // Missing: the file lacks one variable.
    let mut state = State::new();
    for (path, var) in full.iter().filter(|(p, _)| *p != "layers.1.kernel") {
        state.insert(path, var.kind, var.value.clone());
    }
    checkpoint::save(&state, &file).unwrap();
    let err = module_unchanged_after(|m| checkpoint::load_into(m, &file).unwrap_err());
    match &err {
        CheckpointError::Missing {
            path, key, shape, ..
        } => {
            assert_eq!(
                (path.as_str(), key.as_str(), shape.as_slice()),
                ("layers.1.kernel", "layers.1.kernel", &[3, 8][..])
            );
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("x.safetensors"), "{err}");

    // Unexpected: one tensor too many.
    let mut state = full.clone();
    state.insert(
        "extra.weight",
        VarKind::Param,
        ArrayD::zeros(IxDyn(&[2, 2])),
    );
    checkpoint::save(&state, &file).unwrap();
    let err = module_unchanged_after(|m| checkpoint::load_into(m, &file).unwrap_err());
    assert!(
        matches!(&err, CheckpointError::Unexpected { key, shape, .. } if key == "extra.weight" && shape == &[2, 2]),
        "{err}"
    );

    // Shape: the message holds both shapes.
    let mut state = full.clone();
    state.insert("gate", VarKind::Param, ArrayD::zeros(IxDyn(&[9])));
    checkpoint::save(&state, &file).unwrap();
    let err = module_unchanged_after(|m| checkpoint::load_into(m, &file).unwrap_err());
    assert!(
        matches!(&err, CheckpointError::ShapeMismatch { path, expected, found, .. }
            if path == "gate" && expected == &[8] && found == &[9]),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("[9]") && text.contains("[8]") && text.contains("`gate`"),
        "{text}"
    );

    // Kind: the metadata says BatchStat where the module has a Param.
    let mut state = full.clone();
    let gate = state.get("gate").unwrap().value.clone();
    state.insert("gate", VarKind::BatchStat, gate);
    checkpoint::save(&state, &file).unwrap();
    let err = module_unchanged_after(|m| checkpoint::load_into(m, &file).unwrap_err());
    assert!(
        matches!(&err, CheckpointError::KindMismatch { path, expected: VarKind::Param, found: VarKind::BatchStat, .. } if path == "gate"),
        "{err}"
    );
}

#[test]
fn a_lenient_load_takes_what_fits_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.safetensors");
    let source = net(0);
    let mut state = State::new();
    for (path, var) in source.state().iter().filter(|(p, _)| *p != "emb.embedding") {
        state.insert(path, var.kind, var.value.clone());
    }
    state.insert("gate", VarKind::Param, ArrayD::zeros(IxDyn(&[3])));
    state.insert("unused", VarKind::Param, ArrayD::zeros(IxDyn(&[1])));
    checkpoint::save(&state, &file).unwrap();

    let mut model = net(1);
    let emb_before = model.emb.embedding.clone();
    let gate_before = model.gate.clone();
    let report = Checkpoint::open(&file)
        .unwrap()
        .load_into(&mut model, &LoadOptions::default().lenient())
        .unwrap();
    assert_eq!(report.skipped.len(), 3, "{report}");
    assert!(report.skipped.contains(&Skipped::Missing {
        path: "emb.embedding".into(),
        key: "emb.embedding".into(),
        shape: vec![5, 8],
    }));
    assert!(report.skipped.contains(&Skipped::Shape {
        path: "gate".into(),
        key: "gate".into(),
        expected: vec![8],
        found: vec![3],
    }));
    assert!(report.skipped.contains(&Skipped::Unexpected {
        key: "unused".into(),
        shape: vec![1],
    }));
    assert_eq!(model.emb.embedding, emb_before);
    assert_eq!(model.gate, gate_before);
    assert_eq!(model.layers[1].kernel, source.layers[1].kernel);
    assert_eq!(report.loaded.len(), source.state().len() - 2);
}

/// A safetensors file written by hand, independently of the code under test.
pub fn hand_made(tensors: &[(&str, &str, &[usize], Vec<u8>)], metadata: Option<&str>) -> Vec<u8> {
    let mut entries = Vec::new();
    if let Some(m) = metadata {
        entries.push(format!("\"__metadata__\":{m}"));
    }
    let mut data = Vec::new();
    for (key, dtype, shape, bytes) in tensors {
        let start = data.len();
        data.extend_from_slice(bytes);
        entries.push(format!(
            "\"{key}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[{start},{}]}}",
            data.len()
        ));
    }
    let header = format!("{{{}}}", entries.join(","));
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

#[test]
fn half_precision_and_f64_convert_other_dtypes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dtypes.safetensors");
    // Bit patterns from the IEEE formats, not from the `half` crate.
    let f16: Vec<u8> = [0x3e00u16, 0xc100, 0x7bff, 0x0001, 0x8000]
        .iter()
        .flat_map(|b| b.to_le_bytes())
        .collect(); // 1.5, -2.5, 65504, 2^-24, -0
    let bf16: Vec<u8> = [0x3fc0u16, 0xc020, 0x7f80]
        .iter()
        .flat_map(|b| b.to_le_bytes())
        .collect(); // 1.5, -2.5, inf
    let f64s: Vec<u8> = [0.1f64, 1e300, -3.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let i64s: Vec<u8> = [7i64].iter().flat_map(|x| x.to_le_bytes()).collect();
    let bytes = hand_made(
        &[
            ("h", "F16", &[5], f16),
            ("b", "BF16", &[3], bf16),
            ("d", "F64", &[3], f64s),
            ("n", "I64", &[1], i64s),
        ],
        None,
    );
    std::fs::write(&file, bytes).unwrap();
    let ckpt = Checkpoint::open(&file).unwrap();
    let h = ckpt.tensor("h").unwrap();
    assert_eq!(
        h.as_slice().unwrap()[..4],
        [1.5, -2.5, 65504.0, 2f32.powi(-24)]
    );
    assert_eq!(h[[4]].to_bits(), (-0.0f32).to_bits());
    assert_eq!(
        ckpt.tensor("b").unwrap().as_slice().unwrap(),
        [1.5, -2.5, f32::INFINITY]
    );
    assert_eq!(
        ckpt.tensor("d").unwrap().as_slice().unwrap(),
        [0.1f32, f32::INFINITY, -3.0]
    );
    let err = ckpt.tensor("n").unwrap_err();
    assert!(
        matches!(&err, CheckpointError::UnsupportedDtype { key, dtype, .. } if key == "n" && dtype == "I64"),
        "{err}"
    );
    let err = ckpt.to_state().unwrap_err();
    assert!(
        matches!(err, CheckpointError::UnsupportedDtype { .. }),
        "{err}"
    );
}

#[module]
struct Conv {
    bn: BatchNorm,
    norm: RmsNorm,
    head: Linear,
    emb: Embed,
}

#[test]
fn pytorch_names_for_batchnorm_norms_linear_and_embedding() {
    let rngs = &mut Rngs::new(0);
    let mut model = Conv {
        bn: BatchNorm::new(4),
        norm: RmsNorm::new(4),
        head: Linear::new(4, 3, rngs),
        emb: Embed::new(6, 4, rngs),
    };
    let mut state = model.state();
    awkward(&mut state);
    model.update(&state).unwrap();
    let plan = TorchMapping::pytorch().plan(&model).unwrap();
    let keys: Vec<(&str, &str)> = plan
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("bn.scale", "bn.weight"),
            ("bn.bias", "bn.bias"),
            ("bn.mean", "bn.running_mean"),
            ("bn.var", "bn.running_var"),
            ("norm.scale", "norm.weight"),
            ("head.kernel", "head.weight"),
            ("head.bias", "head.bias"),
            ("emb.embedding", "emb.weight"),
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("torch.safetensors");
    checkpoint::save_torch(&model, &file, &TorchMapping::pytorch()).unwrap();
    // The head's weight is the kernel transposed: weight[o][i] == kernel[i][o].
    let weight = Checkpoint::open(&file)
        .unwrap()
        .tensor("head.weight")
        .unwrap();
    assert_eq!(weight.shape(), [3, 4]);
    for i in 0..4 {
        for o in 0..3 {
            assert_eq!(
                weight[[o, i]].to_bits(),
                model.head.kernel[[i, o]].to_bits()
            );
        }
    }

    // PyTorch's BatchNorm also saves `num_batches_tracked` (an I64 there; F32 here):
    // the mapping ignores it, whatever its dtype.
    let mut with_counter = Checkpoint::open(&file).unwrap().to_state().unwrap();
    with_counter.insert(
        "bn.num_batches_tracked",
        VarKind::Param,
        ArrayD::zeros(IxDyn(&[])),
    );
    let file2 = dir.path().join("torch2.safetensors");
    checkpoint::save(&with_counter, &file2).unwrap();
    let mut other = Conv {
        bn: BatchNorm::new(4),
        norm: RmsNorm::new(4),
        head: Linear::new(4, 3, &mut Rngs::new(9)),
        emb: Embed::new(6, 4, &mut Rngs::new(9)),
    };
    // Kinds are not looked up under PyTorch names, so the file's `Param` for
    // `running_mean` does not clash with the module's BatchStat.
    let report = Checkpoint::open(&file2)
        .unwrap()
        .load_into(&mut other, &LoadOptions::torch(TorchMapping::pytorch()))
        .unwrap();
    assert!(report.is_complete(), "{report}");
    assert_eq!(bits(&other.state()), bits(&model.state()));
}

#[test]
fn the_mapping_is_data_a_user_can_extend() {
    let rngs = &mut Rngs::new(0);
    let model = Conv {
        bn: BatchNorm::new(4),
        norm: RmsNorm::new(4),
        head: Linear::new(4, 3, rngs),
        emb: Embed::new(6, 4, rngs),
    };
    let mut mapping = TorchMapping::pytorch();
    mapping.rename_prefix("head", "classifier.fc");
    mapping.rename_prefix("", "model");
    // A model whose embedding PyTorch calls `table`, in a rule of the user's own.
    mapping.rules.insert(
        0,
        nnx::checkpoint::LayerRule {
            name: "MyEmbedding".into(),
            params: vec![ParamRule::required("embedding", "table", 2, Layout::Same)],
        },
    );
    let plan = mapping.plan(&model).unwrap();
    let key = |path: &str| {
        plan.entries
            .iter()
            .find(|e| e.path == path)
            .unwrap()
            .key
            .clone()
    };
    assert_eq!(key("head.kernel"), "classifier.fc.weight");
    assert_eq!(key("emb.embedding"), "model.emb.table");
    assert_eq!(key("bn.mean"), "model.bn.running_mean");
    assert!(plan.to_string().contains("emb.embedding"));
}

#[test]
fn attention_that_pytorch_cannot_fuse_is_a_mapping_error() {
    let mut config = nnx::AttentionConfig::new(4, 8);
    config.num_kv_heads = Some(2);
    config.in_kv_features = Some(6);
    let attn = MultiHeadAttention::with_config(config, &mut Rngs::new(0)).unwrap();
    let err = TorchMapping::pytorch().plan(&attn).unwrap_err();
    assert!(
        matches!(&err, CheckpointError::Mapping { rule, .. } if rule == "nn.MultiheadAttention"),
        "{err}"
    );
}

#[test]
fn a_torch_load_reports_the_pytorch_key_and_shape() {
    let mut narrow = example::Block::new(32, 4, &mut Rngs::new(0)).unwrap();
    let err = Checkpoint::open(example::vendored("block_shared_torch.safetensors"))
        .unwrap()
        .load_into(&mut narrow, &LoadOptions::torch(TorchMapping::pytorch()))
        .unwrap_err();
    assert!(
        matches!(&err, CheckpointError::ShapeMismatch { path, key, expected, found, .. }
            if path == "ln1.scale" && key == "ln1.weight" && expected == &[32] && found == &[48]),
        "{err}"
    );
    // A block with 4 heads of 12 has the same PyTorch shapes as 6 heads of 8: PyTorch
    // does not record the split, so the load fits it to the module's heads.
    let mut block = example::Block::new(48, 4, &mut Rngs::new(0)).unwrap();
    let before = bits(&block.state());
    Checkpoint::open(example::vendored("block_shared_torch.safetensors"))
        .unwrap()
        .load_into(&mut block, &LoadOptions::torch(TorchMapping::pytorch()))
        .unwrap();
    assert_ne!(bits(&block.state()), before);
    assert_eq!(block.attn.query.kernel.shape(), [48, 4, 12]);
}

#[test]
fn a_format_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("short.safetensors");
    std::fs::write(&file, [1u8, 2, 3]).unwrap();
    let err = Checkpoint::open(&file).unwrap_err();
    assert!(
        matches!(&err, CheckpointError::Format { problem: FormatError::Truncated { len: 3 }, file: f } if f == &file),
        "{err}"
    );
    assert!(err.to_string().contains("short.safetensors"));
}

#[module]
struct Cnn {
    conv1: nnx::Conv,
    conv2: nnx::Conv,
}

/// A PyTorch Conv1d and a grouped Conv2d, saved by PyTorch (`tests/data/torch`), load
/// through the mapping's convolution rules and give PyTorch's outputs; saving in
/// PyTorch naming writes back the same tensors.
#[test]
fn pytorch_convolutions_load_and_reproduce_pytorch() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cnn_torch.json")).unwrap())
            .unwrap();
    let rngs = &mut Rngs::new(0);
    let conv2 = nnx::ConvConfig {
        padding: nnx::Padding::Valid,
        feature_group_count: 2,
        ..nnx::ConvConfig::new(4, 6, &[3, 2])
    };
    let mut cnn = Cnn {
        conv1: nnx::Conv::new(3, 4, &[3], rngs).unwrap(),
        conv2: nnx::Conv::with_config(conv2, rngs).unwrap(),
    };
    let file = dir.join("cnn_torch.safetensors");
    let options = LoadOptions::torch(TorchMapping::pytorch());
    let report = Checkpoint::open(&file)
        .unwrap()
        .load_into(&mut cnn, &options)
        .unwrap();
    assert!(report.is_complete());
    for (x, y, conv) in [("x1", "y1", &cnn.conv1), ("x2", "y2", &cnn.conv2)] {
        let got = call!(conv(&tensor_f32(&record[x]))).unwrap();
        let want = tensor_f32(&record[y]);
        let worst = (&got - &want).iter().fold(0.0f32, |m, d| m.max(d.abs()));
        assert!(worst < 1e-5, "{y}: off by {worst}");
    }
    let out = tempfile::tempdir().unwrap();
    let saved = out.path().join("cnn.safetensors");
    checkpoint::save_torch(&cnn, &saved, &TorchMapping::pytorch()).unwrap();
    same_tensors(&saved, &file);
}
