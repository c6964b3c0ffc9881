use nnx::prelude::*;

// A tuple struct is a module too; its fields are named by index. A field that is not
// state is reported at it.
#[module]
struct Pair(LayerNorm, f32);

fn main() {}
