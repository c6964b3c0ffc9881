// Each layer's keywords are checked at the call, with the right one suggested.
use ndarray::{Array2, Array3};
use nnx::prelude::*;

fn main() {
    let mut rngs = Rngs::new(0);
    let x = Array3::<f32>::zeros((2, 3, 8));
    let m = Array3::from_elem((2, 3, 8), true);

    let gn = GroupNorm::new(8, 2);
    let _ = call!(gn(&x, mask_ = &m));

    let mut bn = BatchNorm::new(8);
    let _ = call!(bn(&x, use_running_averages = Some(true)));

    let mut drop = Dropout::new(0.1, &mut rngs);
    let _ = call!(drop(&x, determinstic = Some(true)));

    let mha = MultiHeadAttention::new(2, 8, &mut rngs).unwrap();
    let _ = call!(mha(&x, is_casual = true));
    let xs = Array3::<f32>::zeros((4, 3, 8));
    let _ = vmap!(mha(xs, inputs_kv = xs));

    let emb = Embed::new(10, 8, &mut rngs);
    let idx = Array2::<i64>::zeros((2, 3));
    let _ = call!(emb(&idx, mask = &m));
}
