use nnx::prelude::*;

fn main() {
    let ln = LayerNorm::new(4);
    let xs = ndarray::Array3::<f32>::zeros((2, 3, 4));
    // The outer vmap maps the module's call over a closure; its in_axes list the
    // closure's parameters, and here they are swapped (the module first, mapped).
    let per_row = vmap!(|op: &LayerNorm, x: ArrayView2<f32>| vmap!(op(x)), in_axes = (0, None));
    let _ = per_row(&ln, xs.view());
}
