use ndarray::{Array2, Axis};
use nnx::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ln = LayerNorm::new(10);
    let x = Array2::from_shape_fn((15, 10), |(i, j)| ((i * 7 + j * 3) % 11) as f32 - 5.0);
    let m = Array2::from_shape_fn((15, 10), |(i, j)| (i + j) % 3 != 0);
    let y = vmap!(ln(x))?;
    println!("{:?}", y.shape());
    let y = vmap!(ln(x, mask = m))?;
    println!("{:?}", y.shape());
    let one = call!(ln(
        x.index_axis(Axis(0), 0),
        mask = m.index_axis(Axis(0), 0)
    ))?;
    println!("{one}");
    Ok(())
}
