//! `scan!` over a `Stacked` module: against the real Flax's `nnx.scan` over a stack of
//! layers, and against the loop it stands for, with keywords, named methods, members
//! that mutate their state, and errors.

mod common;

use common::oracle::{self, assert_allclose, state, tensor_f32};
use nnx::ndarray::{Array2, ArrayD, ArrayViewD, Axis};
use nnx::prelude::*;

#[test]
fn scan_matches_flax_nnx_scan() {
    let vector = oracle::load_in("stacked", "stacked")
        .into_iter()
        .find(|v| v["id"] == "linear_scan_x4")
        .expect("the scan vector");
    let mut rngs = Rngs::new(0);
    let mut layers = Stacked::new(4, |_| Linear::new(5, 5, &mut rngs));
    layers.update_stacked(&state(&vector)).unwrap();
    let x = tensor_f32(&vector["inputs"]["x"]);
    let y = scan!(layers(&x)).unwrap();
    assert_allclose(
        "linear_scan_x4",
        &y,
        &tensor_f32(&vector["expected"]),
        1e-5,
        1e-5,
    );
}

fn input(rows: usize, features: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, features), |(i, j)| {
        ((i * 7 + j * 3) % 11) as f32 * 0.3 - 1.5
    })
}

#[test]
fn scan_is_the_loop_over_members_with_shared_keywords() {
    let mut rngs = Rngs::new(3);
    let layers = Stacked::new(6, |_| Linear::new(8, 8, &mut rngs));
    let x = input(4, 8);
    let mut h = x.clone().into_dyn();
    for layer in layers.members() {
        h = call!(layer(&h)).unwrap();
    }
    assert_eq!(scan!(layers(&x)).unwrap(), h);

    // A mask keyword goes to every member, as the same value.
    let norms = Stacked::new(3, |i| {
        let mut ln = LayerNorm::new(8);
        ln.bias.as_mut().unwrap().value.fill(i as f32);
        ln
    });
    let mask = Array2::from_shape_fn((4, 8), |(i, j)| (i + j) % 3 != 0);
    let mut h = x.clone().into_dyn();
    for ln in norms.members() {
        h = call!(ln(&h, mask = &mask)).unwrap();
    }
    assert_eq!(scan!(norms(&x, mask = &mask)).unwrap(), h);
    // The method by name, as call! takes it.
    assert_eq!(scan!(norms.forward(&x, mask = &mask)).unwrap(), h);
}

#[test]
fn members_that_mutate_update_their_own_state() {
    // BatchNorm in training: each member normalizes with its batch's statistics and
    // updates its own running averages.
    let mut layers = Stacked::new(3, |_| BatchNorm::new(8));
    layers.train();
    let mut looped = layers.clone();
    let x = input(16, 8);
    let y = scan!(layers(&x)).unwrap();
    let mut h = x.clone().into_dyn();
    for bn in looped.members_mut() {
        h = call!(bn(&h)).unwrap();
    }
    assert_eq!(y, h);
    assert_eq!(layers.state(), looped.state());
    assert_ne!(
        layers.state(),
        Stacked::new(3, |_| BatchNorm::new(8)).state()
    );
}

/// A model holding its layer stack, scanned from a `&self` forward.
#[module]
struct Tower {
    layers: Stacked<Linear>,
}

#[module]
impl Tower {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        scan!((self.layers)(x))
    }
}

#[test]
fn scan_works_from_a_shared_forward_and_stops_at_the_first_error() {
    let mut rngs = Rngs::new(9);
    let tower = Tower {
        layers: Stacked::new(4, |_| Linear::new(6, 6, &mut rngs)),
    };
    let x = input(3, 6);
    let y = call!(tower(x.view())).unwrap();
    assert_eq!(y, scan!((tower.layers)(&x)).unwrap());
    assert_eq!(y.len_of(Axis(1)), 6);

    // A member whose input does not fit: the member's own error, not a panic.
    let err = call!(tower(input(3, 5).view())).unwrap_err();
    assert!(
        matches!(
            err,
            ForwardError::Shape {
                module: "Linear",
                arg: "x",
                ..
            }
        ),
        "{err}"
    );
}

#[path = "../examples/scan_layers.rs"]
mod scan_example;

/// `examples/scan_layers.rs` asserts that `scan!` equals the loop.
#[test]
fn the_scan_example_holds() {
    scan_example::main().unwrap();
}

/// Each member of a stack built with `Stacked::new` forks its own stream, so a scan over
/// Dropout layers draws a different mask in every layer (Flax's per-layer keys).
#[test]
fn scanned_dropout_layers_draw_their_own_masks() {
    let mut rngs = Rngs::new(4);
    let layers = Stacked::new(2, |_| nnx::Dropout::new(0.5, &mut rngs));
    let mut first = Stacked::from_vec(vec![layers[0].clone()]).unwrap();
    let mut second = Stacked::from_vec(vec![layers[1].clone()]).unwrap();
    let mut second_alone = second.clone();
    let mut layers = layers;
    let x = Array2::<f32>::ones((1, 512));
    let y = scan!(layers(&x)).unwrap();
    // The same draws, layer by layer.
    let h = scan!(first(&x)).unwrap();
    let mask_first: Vec<bool> = h.iter().map(|&v| v != 0.0).collect();
    assert_eq!(y, scan!(second(&h)).unwrap());
    // Layer 1's first draw on a row of ones: its mask is not layer 0's first draw.
    let alone = scan!(second_alone(&x)).unwrap();
    let mask_second: Vec<bool> = alone.iter().map(|&v| v != 0.0).collect();
    assert_ne!(mask_first, mask_second);
}

/// A layer that also reports something per layer: the mean of its output's rows.
#[module]
struct Probe {
    lin: Linear,
}

#[module]
impl Probe {
    #[call]
    pub fn forward(
        &self,
        x: ArrayViewD<'_, f32>,
    ) -> Result<(ArrayD<f32>, ArrayD<f32>), ForwardError> {
        let y = call!((self.lin)(x))?;
        let means = y.mean_axis(Axis(y.ndim() - 1)).expect("features");
        Ok((y, means))
    }
}

#[test]
fn out_axes_stacks_what_each_member_reports() {
    let mut rngs = Rngs::new(8);
    let layers = Stacked::new(5, |_| Probe {
        lin: Linear::new(4, 4, &mut rngs),
    });
    let x = input(3, 4);
    let (y, means) = scan!(layers(&x), out_axes = 0).unwrap();
    let mut h = x.clone().into_dyn();
    let mut want = Vec::new();
    for layer in layers.members() {
        let (next, m) = call!(layer(&h)).unwrap();
        h = next;
        want.push(m);
    }
    assert_eq!(y, h);
    assert_eq!(means.shape(), [5, 3]);
    for (l, m) in want.iter().enumerate() {
        assert_eq!(means.index_axis(Axis(0), l), m);
    }
    // Along the last axis instead: [3, 5].
    let (_, last) = scan!(layers(&x), out_axes = -1).unwrap();
    assert_eq!(last, means.t());
    // An axis the outputs do not have is an error, not a panic.
    assert!(scan!(layers(&x), out_axes = 3).is_err());
}
