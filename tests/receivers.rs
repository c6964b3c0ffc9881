//! `call!`, `vmap!` and `scan!` take the receivers a direct method call takes: a module
//! or a `Stacked` behind any number of `&`, `&mut`, `Box`, `Rc` or `Arc`, as iterating a
//! `Vec<&M>` or a `Vec<&mut M>` gives. Checked against direct method calls (`forward`)
//! on the module itself and on each member.

use std::rc::Rc;
use std::sync::Arc;

use nnx::ndarray::{Array2, Array3, ArrayD, Axis, stack};
use nnx::prelude::*;

fn input(rows: usize, features: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, features), |(r, f)| {
        ((r * 5 + f * 3) % 7) as f32 - 3.0
    })
}

fn examples(batch: usize, rows: usize, features: usize) -> Array3<f32> {
    Array3::from_shape_fn((batch, rows, features), |(b, n, f)| {
        ((b + n * 3 + f) % 5) as f32 * (1.0 + b as f32)
    })
}

fn trained() -> BatchNorm {
    let mut bn = BatchNorm::new(5);
    bn.train();
    bn
}

/// Member `b` of `members` run directly on example `b` of `xs`, the results stacked.
fn per_member<M>(
    members: &mut [M],
    xs: &Array3<f32>,
    mut run: impl FnMut(&mut M, ArrayD<f32>) -> ArrayD<f32>,
) -> ArrayD<f32> {
    let ys: Vec<ArrayD<f32>> = members
        .iter_mut()
        .zip(xs.outer_iter())
        .map(|(member, x)| run(member, x.to_owned().into_dyn()))
        .collect();
    let views: Vec<_> = ys.iter().map(|y| y.view()).collect();
    stack(Axis(0), &views).unwrap()
}

/// Each member run directly in turn, its output feeding the next.
fn in_turn<M>(
    members: &mut [M],
    x: &Array2<f32>,
    mut run: impl FnMut(&mut M, ArrayD<f32>) -> ArrayD<f32>,
) -> ArrayD<f32> {
    members
        .iter_mut()
        .fold(x.clone().into_dyn(), |carry, member| run(member, carry))
}

fn linear(layer: &mut Linear, x: ArrayD<f32>) -> ArrayD<f32> {
    layer.forward(x.view()).unwrap()
}

fn batch_norm(norm: &mut BatchNorm, x: ArrayD<f32>) -> ArrayD<f32> {
    norm.forward(x.view(), None, None).unwrap()
}

#[test]
fn shared_methods_run_through_nested_references_and_shared_pointers() {
    let mut rngs = Rngs::new(0);
    let layers = [Linear::new(4, 3, &mut rngs), Linear::new(4, 3, &mut rngs)];
    let x = input(2, 4);
    let want: Vec<ArrayD<f32>> = layers
        .iter()
        .map(|layer| layer.forward(x.view().into_dyn()).unwrap())
        .collect();

    // `iter()` over a `Vec<&Linear>` gives `&&Linear`, on an immutable binding.
    let borrowed: Vec<&Linear> = layers.iter().collect();
    for (layer, want) in borrowed.iter().zip(&want) {
        assert_eq!(&call!(layer(&x)).unwrap(), want);
        assert_eq!(
            &vmap!(layer(x.view()), in_axes = (0, self = None)).unwrap(),
            want
        );
    }

    // Shared through `Rc` and `Arc`, as `rc.forward(..)` is.
    let mut counted = Rc::new(layers[0].clone());
    let rc = &mut counted;
    assert_eq!(call!(rc(&x)).unwrap(), want[0]);
    let atomic = Arc::new(layers[1].clone());
    assert_eq!(call!(atomic(&x)).unwrap(), want[1]);

    // A `Stacked` behind `&&`, `Rc` and `Box`: mapped member by member, and scanned.
    let stack = Stacked::new(3, |_| Linear::new(4, 4, &mut rngs));
    let xs = examples(3, 2, 4);
    let mut members = stack.members().to_vec();
    let mapped = per_member(&mut members, &xs, linear);
    let scanned = in_turn(&mut members, &x, linear);
    let stacks: Vec<&Stacked<Linear>> = vec![&stack];
    for stack in stacks.iter() {
        assert_eq!(
            vmap!(stack(xs.view()), in_axes = (0, self = 0)).unwrap(),
            mapped
        );
        assert_eq!(scan!(stack(&x)).unwrap(), scanned);
    }
    let counted = Rc::new(stack.clone());
    assert_eq!(
        vmap!(counted(xs.view()), in_axes = (0, self = 0)).unwrap(),
        mapped
    );
    assert_eq!(scan!(counted(&x)).unwrap(), scanned);
    let boxed = Box::new(stack);
    assert_eq!(scan!(boxed(&x)).unwrap(), scanned);
}

#[test]
fn mutating_methods_run_through_nested_unique_references_and_boxes() {
    let x = input(4, 5);
    let mut direct = trained();
    let want = batch_norm(&mut direct, x.clone().into_dyn());

    // `iter_mut()` over a `Vec<&mut BatchNorm>` gives `&mut &mut BatchNorm`.
    let (mut first, mut second) = (trained(), trained());
    let mut norms: Vec<&mut BatchNorm> = vec![&mut first, &mut second];
    for norm in norms.iter_mut() {
        assert_eq!(call!(norm(&x)).unwrap(), want);
    }
    assert_eq!(first.state(), direct.state());
    assert_eq!(second.state(), direct.state());

    // A `Box<&mut BatchNorm>`, shared by the batch through its batching rule: the
    // statistics of all three examples, as one direct call on the whole batch.
    let xs = examples(3, 4, 5);
    let mut whole = trained();
    let want = batch_norm(&mut whole, xs.clone().into_dyn());
    let mut shared = trained();
    let mut boxed: Box<&mut BatchNorm> = Box::new(&mut shared);
    assert_eq!(
        vmap!(boxed(xs.view()), in_axes = (0, self = None)).unwrap(),
        want
    );
    assert_eq!(shared.state(), whole.state());

    // A `Stacked` behind two `&mut`: each member runs its own example, then each member
    // runs in turn.
    let mut members: Vec<BatchNorm> = (0..3).map(|_| trained()).collect();
    let mapped = per_member(&mut members, &xs, batch_norm);
    let scanned = in_turn(&mut members, &x, batch_norm);
    let mut stacked = Stacked::new(3, |_| trained());
    let mut stacks: Vec<&mut Stacked<BatchNorm>> = vec![&mut stacked];
    for stack in stacks.iter_mut() {
        assert_eq!(
            vmap!(stack(xs.view()), in_axes = (0, self = 0)).unwrap(),
            mapped
        );
        assert_eq!(scan!(stack(&x)).unwrap(), scanned);
    }
    for (member, direct) in stacked.members().iter().zip(&members) {
        assert_eq!(member.state(), direct.state());
    }
}

/// The README's way to share a receiver typed `&mut M` (here behind `&`, where a unique
/// reborrow is refused) with a `&self` method.
#[test]
fn a_unique_reference_is_shared_by_reborrowing_it() {
    struct Holder<'a> {
        inner: &'a mut Linear,
    }
    fn run(holder: &Holder<'_>, x: &Array2<f32>) -> ArrayD<f32> {
        call!((&*holder.inner).forward(x)).unwrap()
    }
    let mut layer = Linear::new(4, 3, &mut Rngs::new(1));
    let want = layer.forward(input(2, 4).view().into_dyn()).unwrap();
    let holder = Holder { inner: &mut layer };
    assert_eq!(run(&holder, &input(2, 4)), want);
}
