//! Layout and edge cases through the module API: strided and transposed views give the
//! same numbers as contiguous copies; empty inputs and bad shapes give clean results or
//! typed errors, never a panic.

use nnx::ndarray::{Array2, Array3, s};
use nnx::prelude::*;
use nnx::{ForwardError, kernels::KernelError};

fn sample(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 13 + j * 7) % 23) as f32 * 0.37 - 3.0
    })
}

fn layer_norm(features: usize) -> LayerNorm {
    let mut ln = LayerNorm::new(features);
    ln.scale.as_mut().unwrap().value = Array1::from_shape_fn(features, |j| 0.5 + j as f32 * 0.1);
    ln.bias.as_mut().unwrap().value = Array1::from_shape_fn(features, |j| j as f32 * -0.2);
    ln
}

#[test]
fn transposed_and_strided_views_match_contiguous_copies() {
    let ln = layer_norm(9);
    let base = sample(9, 14);
    // Rows of the transposed view are columns of `base`: not row-major in memory.
    let transposed = base.t();
    let expected = call!(ln(&transposed.to_owned())).unwrap();
    assert_eq!(call!(ln(transposed)).unwrap(), expected);
    // Every other column: a stride of 2 inside each row.
    let wide = sample(5, 18);
    let strided = wide.slice(s![.., ..;2]);
    assert_eq!(
        call!(ln(strided)).unwrap(),
        call!(ln(&strided.to_owned())).unwrap()
    );
    // A reversed axis: negative strides.
    let reversed = base.slice(s![..;-1, ..]);
    let reversed = reversed.t();
    assert_eq!(
        call!(ln(reversed)).unwrap(),
        call!(ln(&reversed.to_owned())).unwrap()
    );
}

#[test]
fn contiguous_reduction_axes_match_a_reshaped_last_axis() {
    let mut config = NormConfig::new(12);
    config.reduction_axes = vec![-2, -1];
    config.feature_axes = vec![-2, -1];
    let ln3 = LayerNorm::with_config(config);
    let x = Array3::from_shape_fn((4, 3, 4), |(a, b, c)| (a * 5 + b * 3 + c) as f32 * 0.1);
    let y3 = call!(ln3(&x)).unwrap();
    let flat = x.to_shape((4, 12)).unwrap().to_owned();
    let y2 = call!((LayerNorm::new(12))(&flat)).unwrap();
    assert_eq!(y3.into_shape_with_order(vec![4, 12]).unwrap(), y2);
}

#[test]
fn empty_batches_and_bad_shapes_are_clean() {
    let ln = layer_norm(10);
    let empty = Array2::<f32>::zeros((0, 10));
    assert_eq!(call!(ln(&empty)).unwrap().shape(), [0, 10]);
    assert_eq!(vmap!(ln(empty)).unwrap().shape(), [0, 10]);

    let wrong = Array2::<f32>::zeros((3, 7));
    assert!(matches!(
        call!(ln(&wrong)),
        Err(ForwardError::Shape { arg: "x", .. })
    ));
    // `forward_into` names its buffer when it does not have x's shape.
    let x = sample(3, 10);
    let mut out = Array2::<f32>::zeros((3, 9));
    assert!(matches!(
        ln.forward_into(x.view().into_dyn(), None, out.view_mut().into_dyn()),
        Err(ForwardError::Shape { arg: "out", .. })
    ));
    let scalar = nnx::ndarray::arr0(1.0f32);
    assert!(matches!(
        call!(ln(&scalar)),
        Err(ForwardError::Axis {
            arg: "reduction_axes",
            ..
        })
    ));
    let one = RmsNorm::new(1);
    let y = call!(one(&Array2::from_elem((2, 1), 3.0f32))).unwrap();
    assert!(y.iter().all(|v| (v - 1.0).abs() < 1e-6), "{y}");
}

#[test]
fn forcing_an_unavailable_path_is_a_typed_error() {
    use nnx::kernels::{Isa, NormSpec, Threads, norm_rows_into_with};
    let x = [1.0f32, 2.0, 3.0];
    let mut out = [0.0f32; 3];
    let spec = NormSpec::layer_norm(1e-6);
    for isa in [Isa::Scalar, Isa::Avx2Fma, Isa::Avx512, Isa::Neon] {
        let result = norm_rows_into_with(isa, Threads::Single, &x, None, 3, &spec, &mut out);
        if isa.is_available() {
            result.unwrap();
        } else {
            assert_eq!(result, Err(KernelError::IsaUnavailable { isa }));
        }
    }
}

#[test]
fn rms_norm_vmaps_like_its_loop() {
    let rms = RmsNorm::new(6);
    let x = sample(8, 6);
    let m = Array2::from_shape_fn((8, 6), |(i, j)| (i + j) % 4 != 1);
    let y = vmap!(rms(x, mask = m), in_axes = 0).unwrap();
    for i in 0..8 {
        let direct = call!(rms(x.row(i), mask = m.row(i))).unwrap();
        assert_eq!(y.slice(s![i, ..]).into_dyn(), direct);
    }
}

/// `#[module(crate = ..)]` names where the runtime lives, for crates that rename `nnx`.
mod renamed {
    use nnx as my_nnx;
    use nnx::prelude::*;

    #[my_nnx::module(crate = my_nnx)]
    pub struct Wrapper {
        pub norm: LayerNorm,
    }

    #[test]
    fn a_renamed_runtime_path_works() {
        let wrapper = Wrapper {
            norm: LayerNorm::new(3),
        };
        assert_eq!(wrapper.param_count(), 6);
    }
}

#[test]
fn replaced_parameters_are_used_or_refused_never_dropped_or_panicking() {
    let mut ln = layer_norm(6);
    let x = sample(4, 6);
    let expected = call!(ln(&x)).unwrap();
    // The same scale held in strided memory: used, not silently dropped.
    let mut strided = Array1::zeros(12);
    strided
        .slice_mut(s![..;2])
        .assign(&ln.scale.as_ref().unwrap().value);
    ln.scale.as_mut().unwrap().value = strided.slice_move(s![..;2]);
    assert!(ln.scale.as_ref().unwrap().as_slice().is_none());
    assert_eq!(call!(ln(&x)).unwrap(), expected);
    // A scale of the wrong length is a typed error naming it.
    ln.scale.as_mut().unwrap().value = Array1::ones(5);
    assert!(matches!(
        call!(ln(&x)),
        Err(ForwardError::Shape { arg: "scale", .. })
    ));
    // The same for Linear's bias.
    let mut linear = Linear::new(6, 3, &mut Rngs::new(0));
    linear.bias.as_mut().unwrap().value = Array1::zeros(4);
    assert!(matches!(
        call!(linear(&x)),
        Err(ForwardError::Shape { arg: "bias", .. })
    ));
}
