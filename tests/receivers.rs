//! `call!` and `vmap!` take the receivers a direct method call takes: a module behind
//! any number of `&`, `&mut`, `Box`, `Rc` or `Arc`, as iterating a `Vec<&M>` or a
//! `Vec<&mut M>` gives. Checked against direct calls on the module itself.

use std::rc::Rc;

use nnx::ndarray::{Array2, Array3, ArrayD};
use nnx::prelude::*;

fn input(rows: usize, features: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, features), |(r, f)| {
        ((r * 5 + f * 3) % 7) as f32 - 3.0
    })
}

fn trained() -> BatchNorm {
    let mut bn = BatchNorm::new(5);
    bn.train();
    bn
}

#[test]
fn shared_methods_run_through_nested_references_and_shared_pointers() {
    let mut rngs = Rngs::new(0);
    let layers = [Linear::new(4, 3, &mut rngs), Linear::new(4, 3, &mut rngs)];
    let x = input(2, 4);
    let want: Vec<ArrayD<f32>> = layers
        .iter()
        .map(|l| l.forward(x.view().into_dyn()).unwrap())
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

    // A `Stacked` behind `&&`, mapped member by member and scanned.
    let stack = Stacked::new(3, |_| Linear::new(4, 4, &mut rngs));
    let xs = Array3::from_shape_fn((3, 2, 4), |(b, n, f)| ((b + n * 3 + f) % 5) as f32);
    let mapped = vmap!(stack(xs.view()), in_axes = (0, self = 0)).unwrap();
    let scanned = scan!(stack(&x)).unwrap();
    let stacks: Vec<&Stacked<Linear>> = vec![&stack];
    for stack in stacks.iter() {
        assert_eq!(
            vmap!(stack(xs.view()), in_axes = (0, self = 0)).unwrap(),
            mapped
        );
        assert_eq!(scan!(stack(&x)).unwrap(), scanned);
    }

    // `&mut Rc<Linear>`: shared through the `Rc`, as `rc.forward(..)` is.
    let mut shared = Rc::new(layers[0].clone());
    let rc = &mut shared;
    assert_eq!(call!(rc(&x)).unwrap(), want[0]);
}

#[test]
fn mutating_methods_run_through_nested_unique_references() {
    let x = input(4, 5);
    let mut direct = trained();
    let want = call!(direct(&x)).unwrap();

    // `iter_mut()` over a `Vec<&mut BatchNorm>` gives `&mut &mut BatchNorm`.
    let (mut first, mut second) = (trained(), trained());
    let mut norms: Vec<&mut BatchNorm> = vec![&mut first, &mut second];
    for norm in norms.iter_mut() {
        assert_eq!(call!(norm(&x)).unwrap(), want);
    }
    assert_eq!(first.state(), direct.state());
    assert_eq!(second.state(), direct.state());

    // A `Stacked` behind two `&mut`, mapped member by member.
    let xs = Array3::from_shape_fn((3, 4, 5), |(b, n, f)| ((b + n * 2 + f) % 5) as f32);
    let mut stacked = Stacked::new(3, |_| trained());
    let mut alone = Stacked::new(3, |_| trained());
    let expected = vmap!(alone(xs.view()), in_axes = (0, self = 0)).unwrap();
    let mut stacks: Vec<&mut Stacked<BatchNorm>> = vec![&mut stacked];
    for stack in stacks.iter_mut() {
        assert_eq!(
            vmap!(stack(xs.view()), in_axes = (0, self = 0)).unwrap(),
            expected
        );
    }
    assert_eq!(stacked.state(), alone.state());

    // ... and scanned, each member updating its statistics.
    let mut scanned_alone = Stacked::new(3, |_| trained());
    let want = scan!(scanned_alone(&x)).unwrap();
    let mut scanned = Stacked::new(3, |_| trained());
    let mut stacks: Vec<&mut Stacked<BatchNorm>> = vec![&mut scanned];
    for stack in stacks.iter_mut() {
        assert_eq!(scan!(stack(&x)).unwrap(), want);
    }
    assert_eq!(scanned.state(), scanned_alone.state());
    assert_ne!(scanned.state(), Stacked::new(3, |_| trained()).state());
}
