use nnx::prelude::*;

fn main() {
    let mut rngs = Rngs::new(0);
    let lin = Linear::new(4, 2, &mut rngs);
    let x = Array2::<f32>::zeros((3, 4));
    let m = Array2::from_elem((3, 4), true);
    let _ = call!(lin(&x, mask = &m));
}
