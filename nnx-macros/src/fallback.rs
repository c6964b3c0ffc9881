//! What `#[module]` emits beside its errors: the user's item without nnx's helper
//! attributes, so the rest of the crate still sees the type and its methods and one
//! mistake is reported once (thiserror's fallback and bon's token-level one do the same).

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{FnArg, ImplItem, ItemImpl, ItemStruct};

use crate::attr::{self, FIELD_ATTRS, METHOD_ATTRS, PARAM_ATTRS};

/// The item (already stripped) followed by the errors.
pub fn emit(item: impl ToTokens, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote! { #item #error }
}

/// An item syn could not parse, its helper attributes removed token by token: the
/// parse error alone, without the item, would make every use of it an error too.
pub fn unparsed(input: TokenStream, error: syn::Error) -> TokenStream {
    emit(strip_tokens(input), error)
}

// Every helper attribute is stripped wherever it is: one that does not belong there is
// reported by `attr::misplaced`, and rustc's "cannot find attribute" would repeat it.
pub fn strip_fields(item: &mut ItemStruct) {
    for field in item.fields.iter_mut() {
        attr::strip(&mut field.attrs, attr::ALL);
    }
}

pub fn strip_methods(item: &mut ItemImpl) {
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            attr::strip(&mut method.attrs, attr::ALL);
            for input in method.sig.inputs.iter_mut() {
                match input {
                    FnArg::Typed(pat_type) => attr::strip(&mut pat_type.attrs, attr::ALL),
                    FnArg::Receiver(receiver) => attr::strip(&mut receiver.attrs, attr::ALL),
                }
            }
        }
    }
}

/// Drops every `#[name ...]` whose name is one of nnx's helper attributes, at any depth.
fn strip_tokens(input: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut tokens = input.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(pound) if pound.as_char() == '#' => match tokens.peek() {
                Some(TokenTree::Group(group)) if is_helper_attr(group) => {
                    tokens.next();
                }
                _ => out.push(TokenTree::Punct(pound)),
            },
            TokenTree::Group(group) => {
                let mut stripped =
                    proc_macro2::Group::new(group.delimiter(), strip_tokens(group.stream()));
                stripped.set_span(group.span());
                out.push(TokenTree::Group(stripped));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

fn is_helper_attr(group: &proc_macro2::Group) -> bool {
    let helpers = FIELD_ATTRS.iter().chain(METHOD_ATTRS).chain(PARAM_ATTRS);
    group.delimiter() == Delimiter::Bracket
        && matches!(
            group.stream().into_iter().next(),
            Some(TokenTree::Ident(name)) if helpers.clone().any(|helper| name == helper)
        )
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn token_fallback_drops_only_nnx_attributes_at_any_depth() {
        let input = quote! {
            #[derive(Debug)]
            impl Norm {
                #[call] #[batched(rule)] #[inline]
                pub fn forward(&self, x: f32, #[kw(default = 1.0)] gain: f32) -> f32 { x * gain }
            }
        };
        let expected = quote! {
            #[derive(Debug)]
            impl Norm {
                #[inline]
                pub fn forward(&self, x: f32, gain: f32) -> f32 { x * gain }
            }
        };
        assert_eq!(super::strip_tokens(input).to_string(), expected.to_string());
    }
}
