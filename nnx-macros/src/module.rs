//! `#[module]`'s driver, top-down: item options, parse, validate, expand; on any error,
//! the fallback (the user's item without nnx's attributes) beside every error found.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Item, ItemImpl, ItemStruct, Path};

use crate::ast::{Impl, Struct};
use crate::attr::{self, Errors};
use crate::{expand_impl, expand_struct, fallback, valid};

pub fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return fallback::unparsed(input, error),
    };
    // A bad item option does not stop the item from being checked: one build reports
    // the option's mistakes and the fields' or methods' together.
    let mut errors = Errors::default();
    let krate = match attr::item_options(args) {
        Ok(options) => options.krate,
        Err(error) => {
            errors.push(error);
            syn::parse_quote!(::nnx)
        }
    };
    match item {
        Item::Struct(mut item) => {
            misplaced_on_item(&mut item.attrs, "a struct", &mut errors);
            module_struct(item, krate, errors)
        }
        Item::Impl(mut item) => {
            misplaced_on_item(&mut item.attrs, "an `impl` block", &mut errors);
            module_impl(item, krate, errors)
        }
        other => {
            let error = syn::Error::new(item_keyword_span(&other), not_a_module(&other));
            fallback::emit(other, error)
        }
    }
}

fn module_struct(item: ItemStruct, krate: Path, mut errors: Errors) -> TokenStream {
    let input = Struct::from_syn(item, krate, &mut errors);
    match errors.finish() {
        Ok(()) => expand_struct::expand(&input),
        Err(error) => fallback::emit(&input.item, error),
    }
}

fn module_impl(item: ItemImpl, krate: Path, mut errors: Errors) -> TokenStream {
    let mut stripped = item.clone();
    fallback::strip_methods(&mut stripped);
    let Some(mut input) = Impl::from_syn(item, krate, &mut errors) else {
        let error = errors
            .finish()
            .expect_err("from_syn says why it has no input");
        return fallback::emit(stripped, error);
    };
    // The checks run on whatever parsed, so one build reports every mistake.
    errors.push_result(valid::check_impl(&input));
    let Err(error) = errors.finish() else {
        return expand_impl::expand(&input);
    };
    // A mistake in one method still leaves the others (and the first `#[call]`) callable:
    // expanding them keeps every `call!` of the module from reporting it again.
    if valid::expandable(&mut input) {
        fallback::emit(expand_impl::expand(&input), error)
    } else {
        fallback::emit(&input.item, error)
    }
}

/// nnx's helper attributes below `#[module]` on the item itself (`#[call]` on the
/// struct, say): an error at each, and gone from the output.
fn misplaced_on_item(attrs: &mut Vec<syn::Attribute>, place: &str, errors: &mut Errors) {
    // A second `#[module]` is an attribute macro of its own, not a helper.
    attr::misplaced(attrs, &[attr::MODULE], place, errors);
    attr::strip(attrs, &[attr::CALL, attr::BATCHED, attr::NO_VMAP, attr::KW]);
}

fn not_a_module(item: &Item) -> &'static str {
    match item {
        Item::Enum(_) => {
            "`#[module]` cannot go on an enum: a module is a struct whose fields are its \
             state; use a struct (with `Option` fields for alternatives)"
        }
        Item::Union(_) => {
            "`#[module]` cannot go on a union: a module is a struct whose fields are its state"
        }
        _ => "`#[module]` goes on a struct (module state) or an `impl` block (method signatures)",
    }
}

fn item_keyword_span(item: &Item) -> Span {
    match item {
        Item::Enum(item) => item.enum_token.span,
        Item::Union(item) => item.union_token.span,
        other => other.span(),
    }
}
