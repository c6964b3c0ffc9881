use nnx::prelude::*;
use std::rc::Rc;

// `BatchNorm::forward` updates running statistics (`&mut self`); behind `&`, no
// transform may run it, and each says so at the receiver.

// Shared across the batch (`self = None`): its batching rule would mutate it.
fn vmap_shared(bn: &BatchNorm, xs: &Array2<f32>) {
    let _ = vmap!(bn(xs), in_axes = (0, self = None));
}

// Two mistakes, two messages at the receiver: a `&mut self` method is not shared
// without `self = None`, and even with it, this module is behind `&`.
fn vmap_default(bn: &BatchNorm, xs: &Array2<f32>) {
    let _ = vmap!(bn(xs));
}

// One member per example (`self = 0`): each member would be mutated.
fn vmap_stacked(ensemble: &Stacked<BatchNorm>, xs: &Array2<f32>) {
    let _ = vmap!(ensemble(xs), in_axes = (0, self = 0));
}

// Each layer in turn.
fn scan_layers(layers: &Stacked<BatchNorm>, x: &Array2<f32>) {
    let _ = scan!(layers(x));
}

// Behind an `Rc`, as a direct call would be refused.
fn through_rc(bn: &mut Rc<BatchNorm>, layers: &mut Rc<Stacked<BatchNorm>>, x: &Array2<f32>) {
    let _ = call!(bn(x));
    let _ = vmap!(layers(x), in_axes = (0, self = 0));
    let _ = scan!(layers(x));
}

fn main() {
    let mut bn = BatchNorm::new(4);
    vmap_shared(&bn, &Array2::zeros((3, 4)));
    vmap_default(&bn, &Array2::zeros((3, 4)));
    let layers = Stacked::new(3, |_| BatchNorm::new(4));
    vmap_stacked(&layers, &Array2::zeros((3, 4)));
    scan_layers(&layers, &Array2::zeros((3, 4)));
    through_rc(&mut Rc::new(BatchNorm::new(4)), &mut Rc::new(layers), &Array2::zeros((3, 4)));
    let _ = call!(bn(&Array2::<f32>::zeros((3, 4))));
}
