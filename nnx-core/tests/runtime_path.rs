//! The macros from a crate that cannot name `::nnx`: this test crate depends on
//! `nnx-core` only, as a user crate does that renames `nnx` in its `Cargo.toml` or
//! reaches it through another crate's re-export. `vmap!` names the runtime through its
//! own `$crate`, and `#[module(crate = ...)]` says where it lives.

use ndarray::{Array2, ArrayD, ArrayViewD, Axis, array};
use nnx_core::{LayerNorm, Param, call, module, vmap};

#[module(crate = nnx_core)]
struct Shift {
    offset: Param<ndarray::Array1<f32>>,
}

#[module(crate = nnx_core)]
impl Shift {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>, #[kw(default = 1.0)] gain: f32) -> ArrayD<f32> {
        (&x + &self.offset.value) * gain
    }
}

#[test]
fn vmap_of_a_user_module_with_a_keyword() {
    let shift = Shift {
        offset: Param::new(array![1.0f32, -1.0]),
    };
    let xs = array![[0.0f32, 0.0], [2.0, 3.0], [-1.0, 5.0]];
    let ys = vmap!(shift(xs, gain = 2.0), in_axes = (0, gain = None)).unwrap();
    let expected = array![[2.0f32, -2.0], [6.0, 4.0], [0.0, 8.0]].into_dyn();
    assert_eq!(ys, expected);
    let one = call!(shift(xs.row(1).into_dyn()));
    assert_eq!(one, array![3.0f32, 2.0].into_dyn());
}

#[test]
fn vmap_of_layer_norm_runs_its_batching_rule() {
    let ln = LayerNorm::new(4);
    let xs = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32);
    let mask = Array2::from_shape_fn((3, 4), |(_, j)| j != 3);
    let ys = vmap!(ln(xs, mask = mask)).unwrap();
    // Each row is 4i + (0, 1, 2, 3) with the last element masked out of the
    // statistics: mean 4i + 1, variance 2/3.
    let inv_std = 1.0 / (2.0f64 / 3.0 + 1e-5).sqrt();
    for (i, row) in ys.axis_iter(Axis(0)).enumerate() {
        for (j, &y) in row.iter().enumerate() {
            let want = (j as f64 - 1.0) * inv_std;
            let close = (f64::from(y) - want).abs() <= 1e-5 * want.abs().max(1.0);
            assert!(close, "row {i}, feature {j}: {y}, want {want}");
        }
    }
}

#[test]
fn a_closure_vmap() {
    let ln = LayerNorm::new(2);
    let f = vmap!(
        |op: &LayerNorm, x: ArrayViewD<f32>| call!(op(x)).map(|y| y.sum()),
        in_axes = (None, 0)
    );
    let xs = array![[1.0f32, 3.0], [0.0, -2.0]];
    let sums = f(&ln, xs.view().into_dyn()).unwrap();
    assert_eq!(sums.shape(), [2]);
    for (i, &sum) in sums.iter().enumerate() {
        assert_eq!(sum, call!(ln(xs.row(i))).unwrap().sum());
    }
}
