//! Procedural macros of nnx. Use them through the `nnx` crate, which documents them.
//!
//! Each macro is split as in dtolnay's derive crates: `ast`/`attr` parse the input,
//! `valid` checks what the compiler cannot, and `expand_*` generate code. Errors carry
//! the span of the user's token and the user's item is emitted even on error, so one
//! mistake reports once instead of cascading.

mod ast;
mod attr;
mod call;
mod expand_impl;
mod expand_struct;
mod invocation;
mod lifetimes;
mod mentions;
mod signature;
#[cfg(test)]
mod snapshots;
mod valid;

use proc_macro::TokenStream;

/// `#[module]` on a struct derives the module machinery; on an `impl` block it records
/// each public method's signature and generates keyword and `vmap!` support.
#[proc_macro_attribute]
pub fn module(args: TokenStream, input: TokenStream) -> TokenStream {
    ast::module(args.into(), input.into()).into()
}

/// Calls a module method with keyword arguments: `call!(ln(x, mask = m))`.
#[proc_macro]
pub fn call(input: TokenStream) -> TokenStream {
    call::call(input.into()).into()
}

/// Vectorizes a module method or closure over a batch axis.
#[proc_macro]
pub fn vmap(input: TokenStream) -> TokenStream {
    call::vmap(input.into()).into()
}
