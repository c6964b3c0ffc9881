//! The seed scenario: `vmap` of a LayerNorm whose forward takes an optional `mask`
//! keyword. In Flax NNX, `nnx.vmap(layer_norm)(x)` fails with "keyword arguments could
//! not be resolved to positions"; here the keyword is resolved when the code compiles.
//!
//! Run with `cargo run --example layernorm_vmap`.

use nnx::init::{Initializer, normal};
use nnx::ndarray::{self, Array2, ArrayD, ArrayViewD, Axis};
use nnx::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rngs = Rngs::new(0);
    let data = |rngs: &mut Rngs, rows, cols| -> Array2<f32> {
        normal(1.0)
            .init(&mut rngs.stream("data").next_key(), &[rows, cols])
            .into_dimensionality()
            .expect("a 2-D shape")
    };
    let ln = LayerNorm::new(10);
    let x = data(&mut rngs, 15, 10);
    let m = data(&mut rngs, 15, 10).mapv(|v| v > -0.5);

    // Every argument mapped on axis 0; the batching rule runs the kernel once.
    let y = vmap!(ln(x))?;
    report("vmap!(ln(x))", &y, &per_example(&ln, &x, None, 0)?);

    // The keyword Flax cannot map: resolved to its slot at compile time.
    let y = vmap!(ln(x, mask = m))?;
    report(
        "vmap!(ln(x, mask = m))",
        &y,
        &per_example(&ln, &x, Some(&m), 0)?,
    );

    // Examples along axis 1 in and out.
    let (xt, mt) = (x.t().to_owned(), m.t().to_owned());
    let y = vmap!(ln(xt, mask = mt), in_axes = (1, mask = 1), out_axes = 1)?;
    let expected = per_example(&ln, &xt, Some(&mt), 1)?;
    let expected = expected.permuted_axes(vec![1, 0]);
    report("in_axes = (1, mask = 1), out_axes = 1", &y, &expected);

    // The function form: a reusable closure, the module broadcast (None).
    let f = vmap!(
        |op: &LayerNorm, x: ArrayViewD<f32>| op(x),
        in_axes = (None, 0)
    );
    let y = f(&ln, x.view().into_dyn())?;
    report(
        "vmap!(|op, x| op(x), in_axes = (None, 0))",
        &y,
        &per_example(&ln, &x, None, 0)?,
    );

    // An ensemble of 4 LayerNorms with different scales, example i on member i.
    let ensemble = Stacked::new(4, |i| {
        let mut member = LayerNorm::new(10);
        member
            .scale
            .as_mut()
            .expect("LayerNorm has a scale")
            .value
            .fill(1.0 + i as f32);
        member
    });
    let x4 = x.slice(ndarray::s![..4, ..]).to_owned();
    let y = vmap!(ensemble(x4), in_axes = (0, self = 0))?;
    let direct: Vec<ArrayD<f32>> = (0..4)
        .map(|i| call!((ensemble[i])(x4.row(i))))
        .collect::<Result<_, _>>()?;
    let views: Vec<_> = direct.iter().map(|a| a.view()).collect();
    report(
        "ensemble of 4, in_axes = (0, self = 0)",
        &y,
        &ndarray::stack(Axis(0), &views)?,
    );

    println!(
        "\nLayerNorm's recorded signature: {}",
        LayerNorm::call_signature()
    );
    Ok(())
}

/// The reference: one direct call per example (examples along `axis`), stacked on axis 0.
fn per_example(
    ln: &LayerNorm,
    x: &Array2<f32>,
    mask: Option<&Array2<bool>>,
    axis: usize,
) -> Result<ArrayD<f32>, ForwardError> {
    let rows = (0..x.len_of(Axis(axis)))
        .map(|i| {
            let mask_i = mask.map(|m| m.index_axis(Axis(axis), i).into_dyn());
            call!(ln(x.index_axis(Axis(axis), i), mask = mask_i))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
    Ok(ndarray::stack(Axis(0), &views).expect("rows of one shape"))
}

fn report(what: &str, got: &ArrayD<f32>, expected: &ArrayD<f32>) {
    assert_eq!(got.shape(), expected.shape(), "{what}");
    let diff = got
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        diff <= 1e-6,
        "{what}: differs from the per-example loop by {diff}"
    );
    println!(
        "{what:<44} shape {:?}  max |vmap - loop| = {diff:e}",
        got.shape()
    );
}
