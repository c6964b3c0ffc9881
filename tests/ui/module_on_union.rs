use nnx::prelude::*;

#[module]
union Bits {
    i: u32,
    f: f32,
}

fn main() {
    let _ = Bits { i: 1 };
}
