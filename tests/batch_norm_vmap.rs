//! BatchNorm under `vmap!`: shared across the batch (`self = None`, its batching rule
//! runs once, with statistics over every example, as Flax's `axis_name`), or one member
//! per example (`self = 0`, per-member statistics). Checked against direct calls.

use nnx::ndarray::{Array3, ArrayD, Axis, IxDyn};
use nnx::prelude::*;

/// 3 examples of 4 rows × 5 features, examples differing in scale and offset.
fn examples() -> Array3<f32> {
    Array3::from_shape_fn((3, 4, 5), |(b, n, f)| {
        ((n * 7 + f * 3) % 11) as f32 * (0.5 + b as f32) - b as f32
    })
}

fn trained() -> BatchNorm {
    let mut bn = BatchNorm::new(5);
    bn.train();
    bn
}

#[test]
fn shared_batch_norm_takes_statistics_over_the_whole_vmapped_batch() {
    let xs = examples();
    let mut bn = trained();
    let mut direct = trained();
    let ys = vmap!(bn(xs.view()), in_axes = (0, self = None)).unwrap();
    // The same as one call on the whole [3, 4, 5] batch: statistics over 12 rows, the
    // running averages updated once.
    let want = call!(direct(&xs)).unwrap();
    assert_eq!(ys, want);
    assert_eq!(bn.state(), direct.state());
    assert_ne!(bn.state(), trained().state());

    // The batch on another axis, in and out.
    let mut moved = trained();
    let xs_t = xs.view().permuted_axes([1, 0, 2]);
    let ys_t = vmap!(moved(xs_t), in_axes = (1, self = None), out_axes = 1).unwrap();
    assert_eq!(ys_t, want.view().permuted_axes(IxDyn(&[1, 0, 2])));
    assert_eq!(moved.state(), direct.state());

    // A mapped mask: only the kept elements of every example enter the statistics.
    let mask = Array3::from_shape_fn((3, 4, 5), |(b, n, _)| (b + n) % 3 != 0);
    let mut masked = trained();
    let mut masked_direct = trained();
    let ys = vmap!(
        masked(xs.view(), mask = mask.view()),
        in_axes = (0, self = None)
    )
    .unwrap();
    assert_eq!(ys, call!(masked_direct(&xs, mask = &mask)).unwrap());
    assert_eq!(masked.state(), masked_direct.state());
}

#[test]
fn shared_batch_norm_in_eval_mode_uses_its_running_averages() {
    let xs = examples();
    let mut bn = trained();
    call!(bn(&xs)).unwrap();
    bn.eval();
    let before = bn.state();
    let ys = vmap!(bn(xs.view()), in_axes = (0, self = None)).unwrap();
    for b in 0..3 {
        let y = call!(bn(xs.index_axis(Axis(0), b))).unwrap();
        assert_eq!(ys.index_axis(Axis(0), b), y);
    }
    assert_eq!(bn.state(), before);
    // The keyword overrides the mode for the whole batch, as in a direct call.
    let ys = vmap!(
        bn(xs.view(), use_running_average = Some(false)),
        in_axes = (0, use_running_average = None, self = None)
    )
    .unwrap();
    assert_eq!(ys.shape(), xs.shape());
}

#[test]
fn stacked_batch_norms_keep_per_member_statistics() {
    let xs = examples();
    let mut members = Stacked::new(3, |_| trained());
    let ys = vmap!(members(xs.view()), in_axes = (0, self = 0)).unwrap();
    for b in 0..3 {
        let mut alone = trained();
        let y: ArrayD<f32> = call!(alone(xs.index_axis(Axis(0), b))).unwrap();
        assert_eq!(ys.index_axis(Axis(0), b), y);
        assert_eq!(members[b].state(), alone.state());
    }
}

#[test]
fn a_shared_batch_norm_refuses_a_bad_example_and_changes_nothing() {
    let mut bn = trained();
    let before = bn.state();
    let wrong = Array3::<f32>::zeros((3, 4, 6));
    assert!(vmap!(bn(wrong.view()), in_axes = (0, self = None)).is_err());
    assert_eq!(bn.state(), before);
}

/// A `&mut self` method through `&mut` and `Box`, as in `fn step(model: &mut M, ..)`:
/// the borrow `call!`/`vmap!` took is the module's, and the running statistics move as
/// in a direct call.
#[test]
fn batch_norm_behind_mut_references_and_boxes_is_mutated() {
    fn step(bn: &mut BatchNorm, x: &Array3<f32>) -> ArrayD<f32> {
        call!(bn(x)).unwrap()
    }
    fn step_boxed(bn: &mut Box<BatchNorm>, xs: &Array3<f32>) -> ArrayD<f32> {
        vmap!(bn(xs), in_axes = (0, self = None)).unwrap()
    }
    let xs = examples();
    let mut direct = trained();
    let want = call!(direct(&xs)).unwrap();

    let mut borrowed = trained();
    assert_eq!(step(&mut borrowed, &xs), want);
    assert_eq!(borrowed.state(), direct.state());

    let mut boxed = Box::new(trained());
    assert_eq!(step_boxed(&mut boxed, &xs), want);
    assert_eq!(boxed.state(), direct.state());
    assert_eq!(call!(boxed(&xs)).unwrap(), call!(direct(&xs)).unwrap());
    assert_eq!(boxed.state(), direct.state());
}
