use ndarray::Array1;
use nnx::prelude::*;

// Every mistake here is reported in one build.
#[module]
struct Block {
    #[module(skp)]
    name: String,
    #[module(frozen)]
    scale: Param<Array1<f32>>,
}

#[module(crate = ::nnx, strict)]
struct Other {
    norm: LayerNorm,
    #[module(skp)]
    label: String,
}

#[module(strict)]
impl Other {
    #[call(fast)]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        x.to_owned()
    }

    #[no_vmap = true]
    pub fn describe(&self) -> String {
        self.label.clone()
    }
}

fn main() {}
