use nnx::prelude::*;

fn main() {
    let layers = Stacked::new(2, |_| LayerNorm::new(4));
    let m = Array2::from_elem((3, 4), true);
    let _ = scan!(layers(mask = &m));
}
