//! Which generic parameters a type mentions: decides bounds, conversions and errors.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

/// The first of `names` that appears anywhere in `tokens` (nested groups included).
pub fn first_mention(tokens: &impl ToTokens, names: &[String]) -> Option<String> {
    fn search(tokens: TokenStream, names: &[String]) -> Option<String> {
        tokens.into_iter().find_map(|tree| match tree {
            TokenTree::Ident(ident) => {
                let ident = ident.to_string();
                names.contains(&ident).then_some(ident)
            }
            TokenTree::Group(group) => search(group.stream(), names),
            _ => None,
        })
    }
    search(tokens.to_token_stream(), names)
}

/// The names of a generics list's type (and, with `consts`, const) parameters.
pub fn type_param_names(generics: &syn::Generics, consts: bool) -> Vec<String> {
    generics
        .params
        .iter()
        .filter_map(|param| match param {
            syn::GenericParam::Type(ty) => Some(ty.ident.to_string()),
            syn::GenericParam::Const(c) if consts => Some(c.ident.to_string()),
            _ => None,
        })
        .collect()
}
