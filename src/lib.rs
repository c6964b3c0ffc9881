//! # nnx
//!
//! Neural-network modules declared as plain Rust structs, whose state the library can
//! see, split off, update and transform — above all vectorize with [`vmap!`] — with
//! keyword arguments resolved and checked by the compiler.
//!
//! ```
//! use nnx::prelude::*;
//!
//! let ln = LayerNorm::new(10);
//! let x = Array2::<f32>::ones((15, 10));
//! let m = Array2::from_shape_fn((15, 10), |(i, j)| (i + j) % 3 != 0);
//!
//! // The keyword Flax's nnx.vmap cannot map, resolved to its slot at compile time.
//! let y = vmap!(ln(x, mask = m))?;
//! assert_eq!(y.shape(), [15, 10]);
//!
//! // One example, with the same keyword.
//! let y0 = call!(ln(x.row(0), mask = m.row(0)))?;
//! assert_eq!(y0.shape(), [10]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The README has the tour; this crate re-exports `nnx-core` (the runtime) and
//! `nnx-macros` (`#[module]`, `call!`, `vmap!`).

pub use nnx_core::*;
