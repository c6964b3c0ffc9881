//! # nnx
//!
//! Neural-network modules declared as plain Rust structs, whose state the library can
//! see, split off, update and transform — above all vectorize with [`vmap!`] — with
//! keyword arguments resolved and checked by the compiler.
//!
//! See the README for a tour; this crate re-exports `nnx-core` and `nnx-macros`.

pub use nnx_core::*;
