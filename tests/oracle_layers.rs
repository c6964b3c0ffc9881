//! The newer layers (Embed, ...) through the public API against the real Flax's outputs
//! (`tests/data/flax/vectors2`), and against independent f64 references.

mod common;

use common::oracle::{self, assert_allclose, tensor_bool, tensor_f32, tensor_i64, tolerance};
use nnx::ndarray::{ArrayD, Dimension, IxDyn};
use nnx::prelude::*;
use nnx::{AttentionConfig, BatchNormConfig, GroupNormConfig, MultiHeadAttention};
use nnx::{Embed, ForwardError};

#[test]
fn embed_matches_flax() {
    let vectors = oracle::load2("embed");
    let mut compared = 0;
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        let cfg = &vector["config"];
        let rows = cfg["num_embeddings"].as_u64().unwrap() as usize;
        let features = cfg["features"].as_u64().unwrap() as usize;
        let mut embed = Embed::new(rows, features, &mut Rngs::new(0));
        embed
            .update(&oracle::state(vector))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let want = tensor_f32(&vector["expected"]);
        let got = match vector["call"]["method"].as_str().unwrap() {
            "attend" => {
                let query = tensor_f32(&vector["inputs"]["query"]);
                call!(embed.attend(&query))
            }
            _ => {
                let idx = tensor_i64(&vector["inputs"]["inputs"]);
                let got = call!(embed(&idx));
                if want.iter().any(|v| v.is_nan()) {
                    // Flax fills NaN for an index out of range; nnx names it instead.
                    let Err(ForwardError::Index { index, len, .. }) = got else {
                        panic!("{id}: expected an index error, got {got:?}");
                    };
                    assert!(index >= len as i64 || index < -(len as i64), "{id}");
                    compared += 1;
                    continue;
                }
                got
            }
        }
        .unwrap_or_else(|err| panic!("{id}: {err}"));
        let (atol, rtol) = tolerance(vector).expect("embed vectors are allclose");
        assert_allclose(id, &got, &want, atol, rtol);
        compared += 1;
    }
    assert_eq!(compared, 9);
}

#[test]
fn embed_lookups_and_scores_match_an_f64_reference() {
    let mut rngs = Rngs::new(3);
    let embed = Embed::new(7, 5, &mut rngs);
    let table = embed.embedding.mapv(f64::from);
    let idx = nnx::ndarray::array![[0i64, 6, -1], [-7, 3, 2]];
    let got = call!(embed(&idx)).unwrap();
    for ((i, j), &index) in idx.indexed_iter() {
        let row = index.rem_euclid(7) as usize;
        for f in 0..5 {
            assert_eq!(f64::from(got[[i, j, f]]), table[[row, f]]);
        }
    }
    let query = Array2::from_shape_fn((3, 5), |(i, j)| (i as f32 - 1.0) * 0.5 + j as f32 * 0.25);
    let scores = call!(embed.attend(&query)).unwrap();
    assert_eq!(scores.shape(), [3, 7]);
    for i in 0..3 {
        for r in 0..7 {
            let want: f64 = (0..5)
                .map(|f| f64::from(query[[i, f]]) * table[[r, f]])
                .sum();
            assert!((f64::from(scores[[i, r]]) - want).abs() < 1e-5, "{i},{r}");
        }
    }
    // The table is Flax's default init: a normal of variance 1/features.
    let big = Embed::new(2000, 50, &mut Rngs::new(4));
    let n = big.embedding.len() as f64;
    let mean = big.embedding.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = big
        .embedding
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    assert!(
        mean.abs() < 3e-3 && (var * 50.0 - 1.0).abs() < 0.03,
        "mean {mean}, var {var}"
    );
}

#[test]
fn embed_bad_input_is_a_typed_error_never_a_panic() {
    let embed = Embed::new(4, 3, &mut Rngs::new(0));
    let err = call!(embed(&nnx::ndarray::array![1i64, 4])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Embed: `inputs` holds 4 at position [1], out of range for 4 rows (valid: -4..4)"
    );
    assert!(matches!(
        call!(embed(&nnx::ndarray::array![-5i64])),
        Err(ForwardError::Index { index: -5, .. })
    ));
    let wrong = Array2::<f32>::zeros((2, 4));
    assert!(matches!(
        call!(embed.attend(&wrong)),
        Err(ForwardError::Shape { arg: "query", .. })
    ));
    // Under vmap!, every example's lookup at once.
    let batch = nnx::ndarray::array![[0i64, 1], [2, 3], [3, 0]];
    let ys = vmap!(embed(batch)).unwrap();
    assert_eq!(ys.shape(), [3, 2, 3]);
    assert_eq!(
        ys.index_axis(Axis(0), 2),
        call!(embed(batch.row(2))).unwrap()
    );
}

fn batch_norm_from(config: &serde_json::Value) -> BatchNorm {
    let mut cfg = BatchNormConfig::new(config["num_features"].as_u64().unwrap() as usize);
    if let Some(m) = config["momentum"].as_f64() {
        cfg.momentum = m;
    }
    if let Some(e) = config["epsilon"].as_f64() {
        cfg.epsilon = e as f32;
    }
    cfg.use_scale = config["use_scale"].as_bool().unwrap_or(true);
    cfg.use_bias = config["use_bias"].as_bool().unwrap_or(true);
    let mut bn = BatchNorm::with_config(cfg);
    if config["use_running_average"].as_bool() == Some(true) {
        bn.eval();
    }
    bn
}

#[test]
fn batch_norm_matches_flax_step_by_step() {
    let vectors = oracle::load2("batchnorm");
    let mut steps = 0;
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        let mut bn = batch_norm_from(&vector["config"]);
        bn.update(&oracle::state(vector))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let (atol, rtol) = tolerance(vector).expect("batchnorm vectors are allclose");
        for (k, step) in vector["steps"].as_array().unwrap().iter().enumerate() {
            let x = tensor_f32(&step["inputs"]["x"]);
            let mask =
                (!step["inputs"]["mask"].is_null()).then(|| tensor_bool(&step["inputs"]["mask"]));
            let average = step["kwargs"]["use_running_average"].as_bool();
            let y = call!(bn(&x, use_running_average = average, mask = mask.as_ref()))
                .unwrap_or_else(|err| panic!("{id} step {k}: {err}"));
            let what = format!("{id} step {k}");
            assert_allclose(&what, &y, &tensor_f32(&step["expected"]), atol, rtol);
            let stats = &step["expected_batch_stats"];
            assert_allclose(
                &what,
                &bn.mean.value.clone().into_dyn(),
                &tensor_f32(&stats["mean"]),
                atol,
                rtol,
            );
            assert_allclose(
                &what,
                &bn.var.value.clone().into_dyn(),
                &tensor_f32(&stats["var"]),
                atol,
                rtol,
            );
            steps += 1;
        }
    }
    assert_eq!(vectors.len(), 17);
    assert!(steps > 17, "{steps} steps");
}

#[test]
fn batch_norm_matches_an_f64_reference_on_any_feature_axis() {
    let x = ArrayD::from_shape_fn(IxDyn(&[4, 3, 5]), |i| {
        ((i[0] * 15 + i[1] * 5 + i[2]) as f32 * 0.37).sin() * 2.0 + i[1] as f32
    });
    let mut cfg = BatchNormConfig::new(3);
    cfg.axis = 1;
    cfg.momentum = 0.8;
    let mut bn = BatchNorm::with_config(cfg);
    bn.scale.as_mut().unwrap().value = Array1::from(vec![0.5, 1.0, 2.0]);
    bn.bias.as_mut().unwrap().value = Array1::from(vec![-1.0, 0.0, 1.0]);
    let y = call!(bn(&x)).unwrap();
    for c in 0..3 {
        let values: Vec<f64> = x
            .indexed_iter()
            .filter(|(i, _)| i[1] == c)
            .map(|(_, &v)| f64::from(v))
            .collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let (scale, bias) = ([0.5, 1.0, 2.0][c], [-1.0, 0.0, 1.0][c]);
        for (i, &v) in x.indexed_iter().filter(|(i, _)| i[1] == c) {
            let want = (f64::from(v) - mean) / (var + 1e-5).sqrt() * scale + bias;
            assert!((f64::from(y[&i]) - want).abs() < 1e-5, "{i:?}");
        }
        assert!((f64::from(bn.mean[c]) - 0.2 * mean).abs() < 1e-6);
        assert!((f64::from(bn.var[c]) - (0.8 + 0.2 * var)).abs() < 1e-5);
    }
    // Evaluation mode uses and keeps the running statistics.
    bn.eval();
    let before = bn.state();
    let y = call!(bn(&x)).unwrap();
    assert_eq!(bn.state(), before);
    let want = (x[[0, 1, 0]] - bn.mean[1]) / (bn.var[1] + 1e-5).sqrt() + 0.0;
    assert!((y[[0, 1, 0]] - want).abs() < 1e-5);
}

#[test]
fn batch_norm_bad_input_names_the_argument() {
    let mut bn = BatchNorm::new(4);
    let x = Array2::<f32>::zeros((3, 5));
    assert!(matches!(
        call!(bn(&x)),
        Err(ForwardError::Shape {
            module: "BatchNorm",
            arg: "x",
            ..
        })
    ));
    let x = Array2::<f32>::zeros((3, 4));
    let mask = Array2::from_elem((2, 4), true);
    assert!(matches!(
        call!(bn(&x, mask = &mask)),
        Err(ForwardError::MaskShape { .. })
    ));
    assert_eq!(
        bn.state(),
        BatchNorm::new(4).state(),
        "a refused call changes nothing"
    );
}

#[test]
fn dropout_keeps_scales_or_zeroes_and_is_the_identity_when_deterministic() {
    let mut rngs = Rngs::new(0);
    let mut drop = Dropout::new(0.25, &mut rngs);
    let x = Array2::from_shape_fn((200, 50), |(i, j)| 1.0 + (i * 50 + j) as f32 * 1e-3);
    let y = call!(drop(&x)).unwrap();
    let mut kept = 0usize;
    for (&a, &b) in x.iter().zip(&y) {
        if b != 0.0 {
            kept += 1;
            assert_eq!(b, a / 0.75, "a kept element is scaled by 1 / (1 - rate)");
        }
    }
    let fraction = kept as f64 / x.len() as f64;
    assert!((fraction - 0.75).abs() < 0.02, "kept {fraction}");
    // A new key per call, and the same seed gives the same draws.
    assert_ne!(call!(drop(&x)).unwrap(), y);
    let mut again = Dropout::new(0.25, &mut Rngs::new(0));
    assert_eq!(call!(again(&x)).unwrap(), y);
    // deterministic at the call, or eval(), or rate 0: the identity.
    assert_eq!(
        call!(drop(&x, deterministic = Some(true))).unwrap(),
        x.clone().into_dyn()
    );
    drop.eval();
    assert_eq!(call!(drop(&x)).unwrap(), x.clone().into_dyn());
    assert_ne!(
        call!(drop(&x, deterministic = Some(false))).unwrap(),
        x.clone().into_dyn()
    );
    let mut all = Dropout::new(1.0, &mut rngs);
    assert!(call!(all(&x)).unwrap().iter().all(|&v| v == 0.0));
}

#[test]
fn dropout_broadcast_dims_share_one_draw() {
    let mut drop = Dropout::new(0.5, &mut Rngs::new(4)).with_broadcast_dims(&[0]);
    let x = Array2::<f32>::ones((30, 40));
    let y = call!(drop(&x)).unwrap();
    for column in y.columns() {
        assert!(
            column.iter().all(|&v| v == column[0]),
            "one draw per column"
        );
    }
    let mut bad = Dropout::new(0.5, &mut Rngs::new(4)).with_broadcast_dims(&[2]);
    assert!(matches!(
        call!(bad(&x)),
        Err(ForwardError::Axis {
            arg: "broadcast_dims",
            ..
        })
    ));
    let mut wrong = Dropout::new(1.5, &mut Rngs::new(4));
    assert!(matches!(
        call!(wrong(&x)),
        Err(ForwardError::Config {
            module: "Dropout",
            ..
        })
    ));
}

fn group_norm_from(config: &serde_json::Value) -> GroupNorm {
    let mut cfg = GroupNormConfig::new(config["num_features"].as_u64().unwrap() as usize);
    if !config["num_groups"].is_null() || !config["group_size"].is_null() {
        cfg.num_groups = config["num_groups"].as_u64().map(|g| g as usize);
        cfg.group_size = config["group_size"].as_u64().map(|s| s as usize);
    }
    if let Some(e) = config["epsilon"].as_f64() {
        cfg.epsilon = e as f32;
    }
    cfg.use_scale = config["use_scale"].as_bool().unwrap_or(true);
    cfg.use_bias = config["use_bias"].as_bool().unwrap_or(true);
    cfg.reduction_axes = config["reduction_axes"]
        .as_array()
        .map(|axes| axes.iter().map(|a| a.as_i64().unwrap() as isize).collect());
    GroupNorm::with_config(cfg)
}

#[test]
fn group_norm_matches_flax() {
    let vectors = oracle::load2("groupnorm");
    let mut compared = 0;
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        if !vector["quirk"].is_null() {
            // Flax's documented bug with partial reduction axes; nnx computes group norm.
            continue;
        }
        let gn = group_norm_from(&vector["config"]);
        let derived = &vector["derived"];
        assert_eq!(
            gn.config.groups().unwrap(),
            (
                derived["num_groups"].as_u64().unwrap() as usize,
                derived["group_size"].as_u64().unwrap() as usize
            ),
            "{id}"
        );
        let mut gn = gn;
        gn.update(&oracle::state(vector))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let x = tensor_f32(&vector["inputs"]["x"]);
        let mask =
            (!vector["inputs"]["mask"].is_null()).then(|| tensor_bool(&vector["inputs"]["mask"]));
        let got = call!(gn(&x, mask = mask.as_ref())).unwrap_or_else(|err| panic!("{id}: {err}"));
        let (atol, rtol) = tolerance(vector).expect("groupnorm vectors are allclose");
        assert_allclose(id, &got, &tensor_f32(&vector["expected"]), atol, rtol);
        compared += 1;
    }
    assert_eq!((vectors.len(), compared), (25, 24));
}

#[test]
fn group_norm_matches_an_f64_reference() {
    // [B, H, W, C] = [2, 3, 2, 6] in 3 groups of 2 channels, with a mask.
    let shape = [2, 3, 2, 6];
    let x = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        ((i[0] * 36 + i[1] * 12 + i[2] * 6 + i[3]) as f32 * 0.61).cos() * 3.0 + i[3] as f32
    });
    let mask = ArrayD::from_shape_fn(IxDyn(&shape), |i| (i[1] + i[2] + i[3]) % 4 != 0);
    let mut gn = GroupNorm::new(6, 3);
    gn.scale.as_mut().unwrap().value = Array1::from_shape_fn(6, |c| 0.5 + c as f32 * 0.25);
    gn.bias.as_mut().unwrap().value = Array1::from_shape_fn(6, |c| c as f32 - 2.0);
    let y = call!(gn(&x, mask = &mask)).unwrap();
    for b in 0..2 {
        for g in 0..3 {
            let in_group = |i: &IxDyn| i[0] == b && i[3] / 2 == g;
            let kept: Vec<f64> = x
                .indexed_iter()
                .filter(|(i, _)| in_group(i) && mask[i])
                .map(|(_, &v)| f64::from(v))
                .collect();
            let n = kept.len() as f64;
            let mean = kept.iter().sum::<f64>() / n;
            let var = kept.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            for (i, &v) in x.indexed_iter().filter(|(i, _)| in_group(i)) {
                let c = i[3];
                let want = (f64::from(v) - mean) / (var + 1e-6).sqrt() * (0.5 + c as f64 * 0.25)
                    + (c as f64 - 2.0);
                assert!(
                    (f64::from(y[&i]) - want).abs() < 1e-5,
                    "{i:?}: {} vs {want}",
                    y[&i]
                );
            }
        }
    }
}

#[test]
fn group_norm_bad_configuration_and_input_are_typed_errors() {
    let x = Array2::<f32>::zeros((2, 6));
    let gn = GroupNorm::new(6, 4);
    let err = call!(gn(&x)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "GroupNorm: num_groups = 4 does not divide num_features = 6"
    );
    let gn = GroupNorm::new(6, 3);
    assert!(matches!(
        call!(gn(&Array2::<f32>::zeros((2, 5)))),
        Err(ForwardError::Shape { arg: "x", .. })
    ));
    assert!(matches!(
        call!(gn(&Array1::<f32>::zeros(6))),
        Err(ForwardError::Shape { arg: "x", .. })
    ));
    let mask = Array1::from_elem(5, true);
    assert!(matches!(
        call!(gn(&x, mask = &mask)),
        Err(ForwardError::MaskShape { .. })
    ));
    // Under vmap!, each example is normalized on its own: examples of [batch, channels].
    let xs = nnx::ndarray::Array3::from_shape_fn((4, 2, 6), |(e, b, c)| {
        (e * 12 + b * 6 + c) as f32 * 0.3
    });
    let ys = vmap!(gn(xs)).unwrap();
    for e in 0..4 {
        assert_eq!(
            ys.index_axis(Axis(0), e),
            call!(gn(xs.index_axis(Axis(0), e))).unwrap()
        );
    }
}

fn mask_of(tensor: &serde_json::Value) -> Option<ArrayD<bool>> {
    match tensor["dtype"].as_str() {
        None => None,
        Some("bool") => Some(tensor_bool(tensor)),
        // make_causal_mask's default float32 mask: nonzero = attend.
        Some(_) => Some(tensor_f32(tensor).mapv(|v| v != 0.0)),
    }
}

fn attention_from(config: &serde_json::Value) -> MultiHeadAttention {
    let int = |key: &str| config[key].as_u64().map(|v| v as usize);
    let mut cfg = AttentionConfig::new(int("num_heads").unwrap(), int("in_features").unwrap());
    cfg.qkv_features = int("qkv_features");
    cfg.out_features = int("out_features");
    cfg.in_kv_features = int("in_kv_features");
    cfg.num_kv_heads = int("num_kv_heads");
    cfg.use_bias = config["use_bias"].as_bool().unwrap_or(true);
    MultiHeadAttention::with_config(cfg, &mut Rngs::new(0)).unwrap()
}

#[test]
fn attention_matches_flax() {
    let vectors = oracle::load2("attention");
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        let inputs = &vector["inputs"];
        let mask = mask_of(&inputs["mask"]);
        let want = tensor_f32(&vector["expected"]);
        let got = if vector["module"] == "dot_product_attention" {
            let (q, k, v) = (
                tensor_f32(&inputs["query"]),
                tensor_f32(&inputs["key"]),
                tensor_f32(&inputs["value"]),
            );
            nnx::layers::dot_product_attention(
                q.view(),
                k.view(),
                v.view(),
                mask.as_ref().map(|m| m.view()),
            )
        } else {
            let mut mha = attention_from(&vector["config"]);
            mha.update(&oracle::state(vector))
                .unwrap_or_else(|err| panic!("{id}: {err}"));
            let q = tensor_f32(&inputs["inputs_q"]);
            let k = oracle::optional_f32(&inputs["inputs_k"]);
            let v = oracle::optional_f32(&inputs["inputs_v"]);
            let causal = vector["call"]["kwargs"]["is_causal"]
                .as_bool()
                .unwrap_or(false);
            call!(mha(
                &q,
                inputs_k = k.as_ref(),
                inputs_v = v.as_ref(),
                mask = mask.as_ref(),
                deterministic = Some(true),
                is_causal = causal
            ))
        }
        .unwrap_or_else(|err| panic!("{id}: {err}"));
        let (atol, rtol) = tolerance(vector).expect("attention vectors are allclose");
        assert_allclose(id, &got, &want, atol, rtol);
    }
    assert_eq!(vectors.len(), 23);
}

#[test]
fn attention_matches_an_f64_reference_with_a_fully_masked_row() {
    // [T, N, H] = [3, 2, 4], S = 5, one kv head (multi-query), query row 1 fully masked.
    let q = ArrayD::from_shape_fn(IxDyn(&[3, 2, 4]), |i| {
        ((i[0] * 8 + i[1] * 4 + i[2]) as f32 * 0.7).sin()
    });
    let k = ArrayD::from_shape_fn(IxDyn(&[5, 1, 4]), |i| {
        ((i[0] * 4 + i[2]) as f32 * 0.3).cos()
    });
    let v = ArrayD::from_shape_fn(IxDyn(&[5, 1, 4]), |i| (i[0] as f32) - 0.5 * i[2] as f32);
    let mask = ArrayD::from_shape_fn(IxDyn(&[1, 3, 5]), |i| i[1] != 1 && (i[1] + i[2]) % 3 != 0);
    let got = nnx::layers::dot_product_attention(q.view(), k.view(), v.view(), Some(mask.view()))
        .unwrap();
    for t in 0..3 {
        for n in 0..2 {
            let logits: Vec<f64> = (0..5)
                .map(|s| {
                    (0..4)
                        .map(|h| f64::from(q[[t, n, h]]) * f64::from(k[[s, 0, h]]))
                        .sum::<f64>()
                        / 2.0
                })
                .collect();
            let keep: Vec<bool> = (0..5).map(|s| mask[[0, t, s]]).collect();
            let any = keep.iter().any(|&b| b);
            let max = logits
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k || !any)
                .map(|(l, _)| *l)
                .fold(f64::MIN, f64::max);
            let w: Vec<f64> = logits
                .iter()
                .zip(&keep)
                .map(|(l, &kp)| {
                    if !any {
                        1.0
                    } else if kp {
                        (l - max).exp()
                    } else {
                        0.0
                    }
                })
                .collect();
            let total: f64 = w.iter().sum();
            for h in 0..4 {
                let want: f64 = (0..5).map(|s| w[s] / total * f64::from(v[[s, 0, h]])).sum();
                assert!(
                    (f64::from(got[[t, n, h]]) - want).abs() < 1e-5,
                    "[{t},{n},{h}]: {} vs {want}",
                    got[[t, n, h]]
                );
            }
        }
    }
}

#[test]
fn attention_masks_and_bad_configurations() {
    let causal = nnx::layers::make_causal_mask(&[2, 3]).unwrap();
    assert_eq!(causal.shape(), [2, 1, 3, 3]);
    assert!(causal[[1, 0, 2, 1]] && !causal[[1, 0, 1, 2]]);
    let valid = nnx::ndarray::array![[true, true, false], [true, false, false]].into_dyn();
    let pad = nnx::layers::make_attention_mask(valid.view(), valid.view()).unwrap();
    assert_eq!(pad.shape(), [2, 1, 3, 3]);
    assert!(pad[[0, 0, 1, 1]] && !pad[[0, 0, 2, 0]] && !pad[[1, 0, 0, 1]]);
    let both = nnx::layers::combine_masks(&[Some(causal.view()), None, Some(pad.view())])
        .unwrap()
        .unwrap();
    assert!(!both[[0, 0, 0, 1]] && both[[0, 0, 1, 0]]);
    assert_eq!(nnx::layers::combine_masks(&[None, None]).unwrap(), None);

    let err = MultiHeadAttention::new(5, 16, &mut Rngs::new(0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "MultiHeadAttention: num_heads = 5 does not divide qkv_features = 16"
    );
    let mha = MultiHeadAttention::new(4, 16, &mut Rngs::new(0)).unwrap();
    let x = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 15]));
    assert!(matches!(call!(mha(&x)), Err(ForwardError::Shape { .. })));
    let x = ArrayD::from_shape_fn(IxDyn(&[2, 3, 16]), |i| {
        ((i[0] * 48 + i[1] * 16 + i[2]) as f32 * 0.29).sin()
    });
    let wrong = ArrayD::from_elem(IxDyn(&[2, 1, 4, 3]), true);
    let err = call!(mha(&x, mask = &wrong)).unwrap_err();
    assert!(
        matches!(err, ForwardError::MaskShape { ref mask, .. } if mask == &[2, 1, 4, 3]),
        "{err}"
    );
    // is_causal is the causal mask, and masking changes the output.
    let mask = nnx::layers::make_causal_mask(&[2, 3]).unwrap();
    let causal = call!(mha(&x, is_causal = true)).unwrap();
    assert_eq!(causal, call!(mha(&x, mask = &mask)).unwrap());
    let unmasked = call!(mha(&x)).unwrap();
    let gap = (&causal - &unmasked)
        .mapv(f32::abs)
        .fold(0.0f32, |m, &d| m.max(d));
    assert!(gap > 1e-3, "{gap}");
    // Bad input is an error, not a panic: no sequence axis, values without keys.
    let flat = ArrayD::<f32>::zeros(IxDyn(&[16]));
    assert!(call!(mha(&flat, is_causal = true)).is_err());
    assert!(nnx::layers::make_causal_mask(&[]).is_err());
    assert!(matches!(
        call!(mha(&x, inputs_v = &x)),
        Err(ForwardError::Config {
            module: "MultiHeadAttention",
            ..
        })
    ));
    // Under vmap!, a batch of sequences, with the mask broadcast to every example.
    let xs = ArrayD::from_shape_fn(IxDyn(&[4, 3, 16]), |i| {
        (i[0] * 48 + i[1] * 16 + i[2]) as f32 * 0.01
    });
    let one = nnx::layers::make_causal_mask(&[3]).unwrap();
    let ys = vmap!(mha(xs, mask = one.view()), in_axes = (0, mask = None)).unwrap();
    for e in 0..4 {
        let direct = call!(mha(xs.index_axis(Axis(0), e), mask = &one)).unwrap();
        assert_eq!(ys.index_axis(Axis(0), e), direct);
    }
}

#[test]
fn layer_keywords_map_or_broadcast_under_vmap() {
    let mha = MultiHeadAttention::new(4, 16, &mut Rngs::new(2)).unwrap();
    let f = |shape: &[usize], seed: usize| {
        ArrayD::from_shape_fn(IxDyn(shape), |i| {
            (i.as_array_view().iter().sum::<usize>() as f32 * 0.37 + seed as f32).sin()
        })
    };
    let (xs, ks, k) = (f(&[4, 3, 16], 0), f(&[4, 5, 16], 1), f(&[5, 16], 2));
    let ms = ArrayD::from_shape_fn(IxDyn(&[4, 1, 3, 5]), |i| (i[0] + i[2] + i[3]) % 3 != 0);
    let mapped = vmap!(mha(xs, inputs_k = ks, mask = ms)).unwrap();
    let broadcast = vmap!(
        mha(xs, inputs_k = k.view(), mask = ms),
        in_axes = (0, inputs_k = None)
    )
    .unwrap();
    for e in 0..4 {
        let (x, m) = (xs.index_axis(Axis(0), e), ms.index_axis(Axis(0), e));
        let ke = ks.index_axis(Axis(0), e);
        assert_eq!(
            mapped.index_axis(Axis(0), e),
            call!(mha(&x, inputs_k = ke, mask = &m)).unwrap()
        );
        assert_eq!(
            broadcast.index_axis(Axis(0), e),
            call!(mha(&x, inputs_k = &k, mask = &m)).unwrap()
        );
    }
    // GroupNorm's mask, mapped with the examples or one for all.
    let gn = GroupNorm::new(16, 4);
    let gm = ArrayD::from_shape_fn(IxDyn(&[4, 3, 16]), |i| (i[0] * 7 + i[1] + i[2]) % 5 != 0);
    let one = gm.index_axis(Axis(0), 1);
    let mapped = vmap!(gn(xs, mask = gm)).unwrap();
    let shared = vmap!(gn(xs, mask = one.view()), in_axes = (0, mask = None)).unwrap();
    for e in 0..4 {
        let x = xs.index_axis(Axis(0), e);
        assert_eq!(
            mapped.index_axis(Axis(0), e),
            call!(gn(&x, mask = gm.index_axis(Axis(0), e))).unwrap()
        );
        assert_eq!(
            shared.index_axis(Axis(0), e),
            call!(gn(&x, mask = &one)).unwrap()
        );
    }
}

/// MultiHeadAttention's batching rule: one call over the batch, equal to the
/// per-example calls (within rounding: the products see more rows), with a mapped mask
/// of lower rank than the logits, causal masking, an empty batch, and the errors a
/// direct call would give.
#[test]
fn attention_batching_rule_equals_per_example_calls() {
    let mha = MultiHeadAttention::new(4, 16, &mut Rngs::new(5)).unwrap();
    let xs = ArrayD::from_shape_fn(IxDyn(&[3, 6, 16]), |i| {
        ((i[0] * 96 + i[1] * 16 + i[2]) as f32 * 0.013).cos()
    });
    // One [T, S] mask per example, mapped on its last axis.
    let ms = ArrayD::from_shape_fn(IxDyn(&[6, 6, 3]), |i| (i[0] + 2 * i[1] + i[2]) % 4 != 0);
    let ys = vmap!(
        mha(xs, mask = ms.view(), is_causal = true),
        in_axes = (0, mask = 2, is_causal = None)
    )
    .unwrap();
    for e in 0..3 {
        let m = ms.index_axis(Axis(2), e);
        let want = call!(mha(xs.index_axis(Axis(0), e), mask = &m, is_causal = true)).unwrap();
        let got = ys.index_axis(Axis(0), e).to_owned();
        assert_allclose(&format!("example {e}"), &got, &want, 1e-6, 1e-6);
    }
    let none = ArrayD::<f32>::zeros(IxDyn(&[0, 6, 16]));
    assert_eq!(vmap!(mha(none)).unwrap().shape(), &[0, 6, 16]);
    // Examples without a sequence axis: a typed error, as in a direct call. (A mapped
    // `is_causal` does not compile: a `bool` cannot be mapped.)
    let flat = ArrayD::<f32>::zeros(IxDyn(&[3, 16]));
    assert!(vmap!(mha(flat)).is_err());
    assert!(call!(mha(&ArrayD::<f32>::zeros(IxDyn(&[16])))).is_err());
}
