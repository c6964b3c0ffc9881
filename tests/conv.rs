//! `Conv` and `ConvTranspose` through the public API against the real Flax's outputs
//! (`tests/data/flax/conv`), against a direct f64 convolution, under `vmap!`, and on
//! bad input.

mod common;

use common::oracle::{self, assert_allclose, tensor_f32};
use nnx::ndarray::{ArrayD, Dimension, IxDyn};
use nnx::prelude::*;
use nnx::{ConvConfig, ConvTransposeConfig, Padding};
use serde_json::Value;

/// A Flax option given as an int (every axis) or a tuple (one per axis).
fn per_axis(value: &Value, axes: usize) -> Option<Vec<usize>> {
    match value {
        Value::Null => None,
        Value::Number(n) => Some(vec![n.as_u64().unwrap() as usize; axes]),
        Value::Array(v) => Some(v.iter().map(|n| n.as_u64().unwrap() as usize).collect()),
        other => panic!("not an axis option: {other}"),
    }
}

fn padding(value: &Value, axes: usize) -> Padding {
    match value {
        Value::Null => Padding::Same,
        Value::String(s) => match s.as_str() {
            "SAME" => Padding::Same,
            "VALID" => Padding::Valid,
            "CAUSAL" => Padding::Causal,
            "CIRCULAR" => Padding::Circular,
            other => panic!("padding {other}"),
        },
        Value::Number(n) => {
            let n = n.as_u64().unwrap() as usize;
            Padding::Explicit(vec![(n, n); axes])
        }
        Value::Array(pairs) => Padding::Explicit(
            pairs
                .iter()
                .map(|p| {
                    let p = p.as_array().unwrap();
                    (
                        p[0].as_u64().unwrap() as usize,
                        p[1].as_u64().unwrap() as usize,
                    )
                })
                .collect(),
        ),
        other => panic!("padding {other}"),
    }
}

fn config(cfg: &Value) -> ConvConfig {
    let kernel_size = per_axis(&cfg["kernel_size"], 1).unwrap();
    let axes = kernel_size.len();
    let mut config = ConvConfig::new(
        cfg["in_features"].as_u64().unwrap() as usize,
        cfg["out_features"].as_u64().unwrap() as usize,
        &kernel_size,
    );
    config.strides = per_axis(&cfg["strides"], axes).unwrap_or(config.strides);
    config.input_dilation = per_axis(&cfg["input_dilation"], axes).unwrap_or(config.input_dilation);
    config.kernel_dilation =
        per_axis(&cfg["kernel_dilation"], axes).unwrap_or(config.kernel_dilation);
    config.padding = padding(&cfg["padding"], axes);
    config.feature_group_count = cfg["feature_group_count"].as_u64().unwrap_or(1) as usize;
    config.use_bias = cfg["use_bias"].as_bool().unwrap_or(true);
    config
}

#[test]
fn conv_matches_flax() {
    let vectors = oracle::load_in("conv", "conv");
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        let mut conv = nnx::Conv::with_config(config(&vector["config"]), &mut Rngs::new(0))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        conv.update(&oracle::state(vector))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let x = tensor_f32(&vector["inputs"]["inputs"]);
        let got = call!(conv(&x)).unwrap_or_else(|err| panic!("{id}: {err}"));
        assert_allclose(id, &got, &tensor_f32(&vector["expected"]), 1e-5, 1e-5);
    }
    assert_eq!(vectors.len(), 16);
}

fn transpose_config(cfg: &Value) -> ConvTransposeConfig {
    let kernel_size = per_axis(&cfg["kernel_size"], 1).unwrap();
    let axes = kernel_size.len();
    let mut config = ConvTransposeConfig::new(
        cfg["in_features"].as_u64().unwrap() as usize,
        cfg["out_features"].as_u64().unwrap() as usize,
        &kernel_size,
    );
    config.strides = per_axis(&cfg["strides"], axes).unwrap_or(config.strides);
    config.kernel_dilation =
        per_axis(&cfg["kernel_dilation"], axes).unwrap_or(config.kernel_dilation);
    config.padding = padding(&cfg["padding"], axes);
    config.use_bias = cfg["use_bias"].as_bool().unwrap_or(true);
    config.transpose_kernel = cfg["transpose_kernel"].as_bool().unwrap_or(false);
    config
}

#[test]
fn conv_transpose_matches_flax() {
    let vectors = oracle::load_in("conv", "conv_transpose");
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap();
        let config = transpose_config(&vector["config"]);
        let mut conv = nnx::ConvTranspose::with_config(config, &mut Rngs::new(0))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        conv.update(&oracle::state(vector))
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let x = tensor_f32(&vector["inputs"]["inputs"]);
        let got = call!(conv(&x)).unwrap_or_else(|err| panic!("{id}: {err}"));
        assert_allclose(id, &got, &tensor_f32(&vector["expected"]), 1e-5, 1e-5);
    }
    assert_eq!(vectors.len(), 10);
}

#[test]
fn conv_transpose_under_vmap_and_on_bad_options() {
    let config = ConvTransposeConfig {
        strides: vec![2, 2],
        ..ConvTransposeConfig::new(3, 2, &[3, 3])
    };
    let conv = nnx::ConvTranspose::with_config(config, &mut Rngs::new(2)).unwrap();
    let xs = ArrayD::from_shape_fn(IxDyn(&[4, 3, 5, 3]), |ix| {
        (ix[0] * 13 + ix[1] * 5 + ix[2] * 3 + ix[3]) as f32 % 7.0 * 0.2
    });
    let ys = vmap!(conv(xs.view())).unwrap();
    assert_eq!(ys.shape(), &[4, 6, 10, 2]);
    for e in 0..4 {
        let want = call!(conv(xs.index_axis(Axis(0), e))).unwrap();
        let got = ys.index_axis(Axis(0), e).to_owned();
        assert_allclose(&format!("example {e}"), &got, &want, 1e-6, 1e-6);
    }
    for padding in [Padding::Circular, Padding::Causal] {
        let config = ConvTransposeConfig {
            padding,
            ..ConvTransposeConfig::new(3, 2, &[3])
        };
        let err = nnx::ConvTranspose::with_config(config, &mut Rngs::new(0)).unwrap_err();
        assert!(
            matches!(
                err,
                ForwardError::Config {
                    module: "ConvTranspose",
                    ..
                }
            ),
            "{err}"
        );
    }
}

/// The convolution as its definition, in f64, one output element at a time: explicit
/// padding and every dilation, so no padding rule is shared with the code under test.
fn direct(x: &ArrayD<f32>, kernel: &ArrayD<f32>, bias: &[f32], c: &ConvConfig) -> ArrayD<f64> {
    let Padding::Explicit(pads) = &c.padding else {
        panic!("the reference takes explicit padding")
    };
    let nd = c.kernel_size.len();
    let (batch, len) = (x.shape()[0], &x.shape()[1..=nd]);
    let groups = c.feature_group_count;
    let (gin, gout) = (c.in_features / groups, c.out_features / groups);
    let out: Vec<usize> = (0..nd)
        .map(|d| {
            let dilated = (len[d] - 1) * c.input_dilation[d] + 1 + pads[d].0 + pads[d].1;
            let taps = (c.kernel_size[d] - 1) * c.kernel_dilation[d] + 1;
            (dilated - taps) / c.strides[d] + 1
        })
        .collect();
    let mut shape = vec![batch];
    shape.extend(&out);
    shape.push(c.out_features);
    ArrayD::from_shape_fn(IxDyn(&shape), |index| {
        let (b, o, f) = (index[0], &index.slice()[1..=nd], index[nd + 1]);
        let g = f / gout;
        let mut sum = f64::from(bias.get(f).copied().unwrap_or(0.0));
        let taps: usize = c.kernel_size.iter().product();
        for t in 0..taps {
            let mut tap = vec![0; nd];
            let mut rest = t;
            for d in (0..nd).rev() {
                tap[d] = rest % c.kernel_size[d];
                rest /= c.kernel_size[d];
            }
            let mut at = vec![b];
            let inside = (0..nd).all(|d| {
                let p =
                    (o[d] * c.strides[d] + tap[d] * c.kernel_dilation[d]) as i64 - pads[d].0 as i64;
                let step = c.input_dilation[d] as i64;
                let ok = p >= 0 && p % step == 0 && p / step < len[d] as i64;
                at.push((p / step.max(1)).max(0) as usize);
                ok
            });
            if !inside {
                continue;
            }
            for i in 0..gin {
                let mut xi = at.clone();
                xi.push(g * gin + i);
                let mut ki = tap.clone();
                ki.extend([i, f]);
                sum += f64::from(x[IxDyn(&xi)]) * f64::from(kernel[IxDyn(&ki)]);
            }
        }
        sum
    })
}

#[test]
fn conv_matches_a_direct_f64_convolution() {
    let cases: Vec<(ConvConfig, Vec<usize>)> = vec![
        (
            ConvConfig {
                padding: Padding::Explicit(vec![(2, 1)]),
                strides: vec![2],
                kernel_dilation: vec![3],
                ..ConvConfig::new(5, 6, &[3])
            },
            vec![3, 17, 5],
        ),
        (
            ConvConfig {
                padding: Padding::Explicit(vec![(1, 0), (0, 2)]),
                input_dilation: vec![2, 3],
                feature_group_count: 2,
                ..ConvConfig::new(4, 6, &[2, 3])
            },
            vec![2, 5, 4, 4],
        ),
        (
            ConvConfig {
                padding: Padding::Explicit(vec![(0, 0), (1, 1), (2, 2)]),
                strides: vec![1, 2, 1],
                ..ConvConfig::new(3, 2, &[2, 3, 1])
            },
            vec![2, 3, 6, 4, 3],
        ),
    ];
    for (i, (config, shape)) in cases.into_iter().enumerate() {
        let mut rngs = Rngs::new(i as u64);
        let conv = nnx::Conv::with_config(config.clone(), &mut rngs).unwrap();
        let n: usize = shape.iter().product();
        let x = ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
            ((ix.slice().iter().sum::<usize>() * 7 + n) % 13) as f32 * 0.25 - 1.5
        });
        let bias: Vec<f32> = (0..config.out_features).map(|f| f as f32 * 0.1).collect();
        let mut conv = conv;
        conv.bias
            .as_mut()
            .unwrap()
            .assign(&nnx::ndarray::Array1::from(bias.clone()));
        let want = direct(&x, &conv.kernel, &bias, &config).mapv(|v| v as f32);
        let got = call!(conv(&x)).unwrap();
        assert_allclose(&format!("case {i}"), &got, &want, 1e-5, 1e-5);
    }
}

#[test]
fn vmap_convolves_every_example_in_one_call() {
    let conv = nnx::Conv::new(3, 4, &[3, 3], &mut Rngs::new(1)).unwrap();
    // Four examples of one [h, w, c] image each, stacked on axis 1.
    let xs = ArrayD::from_shape_fn(IxDyn(&[5, 4, 6, 3]), |ix| {
        (ix[0] * 31 + ix[1] * 7 + ix[2] * 3 + ix[3]) as f32 % 11.0 * 0.1
    });
    let ys = vmap!(conv(xs.view()), in_axes = (1,)).unwrap();
    for e in 0..4 {
        let example = xs.index_axis(Axis(1), e);
        let want = call!(conv(example)).unwrap();
        let got = ys.index_axis(Axis(0), e).to_owned();
        // One product over the batch may block its sums differently from one example's.
        assert_allclose(&format!("example {e}"), &got, &want, 1e-6, 1e-6);
    }
}

#[test]
fn bad_input_and_options_are_typed_errors() {
    let conv = nnx::Conv::new(3, 4, &[3], &mut Rngs::new(0)).unwrap();
    let wrong_channels = ArrayD::<f32>::zeros(IxDyn(&[2, 7, 2]));
    let Err(ForwardError::Shape { arg, found, .. }) = call!(conv(&wrong_channels)) else {
        panic!("expected a shape error")
    };
    assert_eq!((arg, found), ("x", vec![2, 7, 2]));
    // A VALID window longer than the input: an error naming the axis, not an empty output.
    let valid = ConvConfig {
        padding: Padding::Valid,
        ..ConvConfig::new(3, 4, &[5])
    };
    let valid = nnx::Conv::with_config(valid, &mut Rngs::new(0)).unwrap();
    let short = ArrayD::<f32>::zeros(IxDyn(&[2, 4, 3]));
    let Err(ForwardError::Shape { arg, expected, .. }) = call!(valid(&short)) else {
        panic!("expected a shape error")
    };
    assert!(arg == "x" && expected.contains("axis 0"), "{expected}");
    let no_spatial = ArrayD::<f32>::zeros(IxDyn(&[3]));
    assert!(matches!(
        call!(conv(&no_spatial)),
        Err(ForwardError::Shape { .. })
    ));
    let bad = [
        ConvConfig {
            feature_group_count: 2,
            ..ConvConfig::new(3, 4, &[3])
        },
        ConvConfig {
            strides: vec![1, 1],
            ..ConvConfig::new(3, 4, &[3])
        },
        ConvConfig {
            padding: Padding::Causal,
            ..ConvConfig::new(3, 4, &[3, 3])
        },
        ConvConfig {
            input_dilation: vec![2],
            ..ConvConfig::new(3, 4, &[3])
        },
        ConvConfig::new(3, 4, &[0]),
    ];
    for config in bad {
        let err = nnx::Conv::with_config(config.clone(), &mut Rngs::new(0)).unwrap_err();
        assert!(
            matches!(err, ForwardError::Config { module: "Conv", .. }),
            "{config:?}: {err}"
        );
    }
}
