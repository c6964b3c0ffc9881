//! Procedural macros of nnx. Use them through the `nnx` crate, which documents them.
//!
//! Each macro is split as in dtolnay's derive crates: `module` drives `#[module]`
//! top-down, `ast`/`attr` parse the input, `valid` checks what the compiler cannot,
//! `expand_*` generate code, and `fallback` is what comes out on error: the user's item,
//! so one mistake reports once instead of cascading. `call` drives `call!` and `vmap!`
//! (parsed by `invocation`). Errors carry the span of the user's token.

mod ast;
mod attr;
mod call;
mod expand_impl;
mod expand_struct;
mod fallback;
mod generated_names;
mod invocation;
mod lifetimes;
mod mentions;
mod module;
mod scan;
mod self_type;
mod signature;
#[cfg(test)]
mod snapshots;
mod valid;

use proc_macro::TokenStream;

/// `#[module]` on a struct derives the module machinery (`nnx::Node` and `nnx::Module`:
/// state walk, `state`/`update`, counts, `tree`, `train`/`eval`). Every field is a
/// variable, a module, a `Mode`, a container of those, or `#[module(skip)]`.
///
/// On an `impl` block it records each forward method (every `pub` method taking `&self`
/// or `&mut self`): `#[kw]` marks an `Option` keyword parameter (omitted: `None`),
/// `#[kw(default = expr)]` any keyword parameter with its default, `#[call]`
/// the module's call method, `#[batched(rule)]` a batching rule for `vmap!`. It
/// generates the signature metadata (`nnx::Signatures`) and the tables and builders
/// `call!` and `vmap!` expand to. `#[module(crate = path)]` names the runtime if `nnx` is renamed.
#[proc_macro_attribute]
pub fn module(args: TokenStream, input: TokenStream) -> TokenStream {
    module::expand(args.into(), input.into()).into()
}

/// `call!`'s expansion; use it through `nnx::call!`, which documents it and passes the
/// runtime's path (`$crate`) first.
#[proc_macro]
pub fn call(input: TokenStream) -> TokenStream {
    call::call(input.into()).into()
}

/// `scan!`'s expansion; use it through `nnx::scan!`, which documents it and passes the
/// runtime's path (`$crate`) first.
#[proc_macro]
pub fn scan(input: TokenStream) -> TokenStream {
    scan::scan(input.into()).into()
}

/// `vmap!`'s expansion; use it through `nnx::vmap!`, which documents it and passes the
/// runtime's path (`$crate`) first.
#[proc_macro]
pub fn vmap(input: TokenStream) -> TokenStream {
    call::vmap(input.into()).into()
}
