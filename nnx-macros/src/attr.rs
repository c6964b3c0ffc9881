//! Parsing of nnx's attributes: `#[module(...)]` on items and fields, `#[kw]`, `#[call]`
//! and `#[batched(...)]` inside `#[module] impl` blocks.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, Path};

/// nnx's helper attributes. Parsing, stripping and the token-level fallback all name
/// them through these, by where they go.
pub const MODULE: &str = "module";
pub const CALL: &str = "call";
pub const BATCHED: &str = "batched";
pub const NO_VMAP: &str = "no_vmap";
pub const KW: &str = "kw";
pub const FIELD_ATTRS: &[&str] = &[MODULE];
pub const METHOD_ATTRS: &[&str] = &[CALL, BATCHED, NO_VMAP];
pub const PARAM_ATTRS: &[&str] = &[KW];

/// Options of `#[module(...)]` on the item itself.
pub struct ItemOptions {
    /// Where the runtime lives in generated paths (`#[module(crate = my::nnx)]`).
    pub krate: Path,
}

pub fn item_options(args: TokenStream) -> syn::Result<ItemOptions> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            krate = Some(meta.value()?.parse::<Path>()?);
            Ok(())
        } else {
            Err(meta.error("unknown `#[module]` option; the only item option is `crate = path`"))
        }
    });
    parser.parse2(args)?;
    Ok(ItemOptions {
        krate: krate.unwrap_or_else(|| syn::parse_quote!(::nnx)),
    })
}

/// `#[module(skip)]` on a field: configuration kept in the struct but never state.
pub fn field_is_skipped(attrs: &[Attribute], errors: &mut Errors) -> bool {
    let mut skip = false;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(MODULE)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown field option; `#[module(skip)]` is the only one: it keeps the \
                     field out of the module's state",
                ))
            }
        });
        errors.push_result(result);
    }
    skip
}

/// How a method parameter is passed: positionally, or by name when it has `#[kw]` or
/// `#[kw(default = expr)]` (the runtime's `nnx::ParamKind`, with the default's tokens).
pub enum ParamKind {
    Positional,
    Keyword { default: Option<Expr> },
}

pub fn param_kind(attrs: &[Attribute], errors: &mut Errors) -> ParamKind {
    let mut found = ParamKind::Positional;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(KW)) {
        let mut default = None;
        if !matches!(attr.meta, syn::Meta::Path(_)) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    default = Some(meta.value()?.parse::<Expr>()?);
                    Ok(())
                } else if meta.input.peek(syn::Token![=]) {
                    // `defualt = 1.0` means a default: keep it, so the keyword is not
                    // also reported as having none.
                    let error = meta.error(
                        "unknown `#[kw]` option; did you mean `default`? (`#[kw(default = expr)]`)",
                    );
                    default = Some(meta.value()?.parse::<Expr>()?);
                    Err(error)
                } else {
                    Err(meta
                        .error("unknown `#[kw]` option; write `#[kw]` or `#[kw(default = expr)]`"))
                }
            });
            errors.push_result(result);
        }
        found = ParamKind::Keyword { default };
    }
    found
}

/// `#[batched(rule)]` on a method: the batching rule `vmap!` calls with the whole batch.
pub fn batching_rule(attrs: &[Attribute], errors: &mut Errors) -> Option<Ident> {
    let attr = attrs.iter().find(|attr| attr.path().is_ident(BATCHED))?;
    match attr.parse_args::<Ident>() {
        Ok(rule) => Some(rule),
        Err(err) => {
            errors.push(syn::Error::new(
                err.span(),
                "write `#[batched(method_name)]`, naming the method that computes the whole batch",
            ));
            None
        }
    }
}

/// A bare marker attribute such as `#[call]`: its name, or `None` when absent. Arguments
/// are an error rather than silently ignored.
pub fn flag(attrs: &[Attribute], name: &str, errors: &mut Errors) -> Option<Ident> {
    let attr = attrs.iter().find(|attr| attr.path().is_ident(name))?;
    let arguments = match &attr.meta {
        syn::Meta::Path(_) => None,
        syn::Meta::List(list) => Some(list.delimiter.span().join()),
        syn::Meta::NameValue(pair) => Some(pair.value.span()),
    };
    if let Some(span) = arguments {
        errors.push(syn::Error::new(
            span,
            format!("`#[{name}]` takes no arguments"),
        ));
    }
    attr.path().get_ident().cloned()
}

/// Every helper attribute, wherever it goes.
pub const ALL: &[&str] = &[MODULE, CALL, BATCHED, NO_VMAP, KW];

/// nnx's attributes that do not belong where they are (`allowed` lists those that do),
/// each an error at the attribute saying where it goes; the fallback strips them.
pub fn misplaced(attrs: &[Attribute], allowed: &[&str], place: &str, errors: &mut Errors) {
    for attr in attrs {
        let Some(name) = ALL
            .iter()
            .find(|name| attr.path().is_ident(name) && !allowed.contains(name))
        else {
            continue;
        };
        errors.push(syn::Error::new_spanned(
            attr,
            format!("`#[{name}]` cannot go on {place}: {}", where_it_goes(name)),
        ));
    }
}

fn where_it_goes(name: &str) -> &'static str {
    match name {
        KW => {
            "it marks a keyword parameter of a method in a `#[module] impl` \
             (`#[kw] mask: Option<..>` or `#[kw(default = ..)] rate: f32`)"
        }
        CALL => "it marks the method of a `#[module] impl` that `call!(m(..))` calls",
        BATCHED => {
            "it names the batching rule of a method in a `#[module] impl` \
             (`#[batched(rule)]` on the method)"
        }
        NO_VMAP => "it marks a method of a `#[module] impl` that `vmap!` never maps",
        _ => {
            "it goes on a struct or an `impl` block, and `#[module(skip)]` on a field \
             of a `#[module]` struct"
        }
    }
}

/// Removes nnx's helper attributes so the emitted item compiles without them.
pub fn strip(attrs: &mut Vec<Attribute>, names: &[&str]) {
    attrs.retain(|attr| !names.iter().any(|name| attr.path().is_ident(name)));
}

/// Collects every error of an item, so the user sees all of them in one build.
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    pub fn push_result(&mut self, result: syn::Result<()>) {
        if let Err(error) = result {
            self.push(error);
        }
    }

    pub fn finish(self) -> syn::Result<()> {
        self.combined.map_or(Ok(()), Err)
    }
}
