//! The run-time signature metadata (`nnx::Signatures`) of a `#[module] impl`, emitted
//! inside its expansion's `const _`, where `__nnx` is the runtime's `__private`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::ast::{Impl, Method};
use crate::attr::ParamKind;
use syn::ext::IdentExt;

pub fn expand(input: &Impl) -> TokenStream {
    let item = &input.item;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let methods = input
        .methods
        .iter()
        .map(|method| method_signature(input, method));
    let callable = input
        .methods
        .iter()
        .position(|method| method.call_attr.is_some())
        .map(|index| {
            quote! {
                impl #impl_generics __nnx::Callable for #self_ty #where_clause {
                    fn call_signature() -> &'static __nnx::MethodSignature {
                        &<Self as __nnx::Signatures>::METHODS[#index]
                    }
                }
            }
        });
    quote! {
        impl #impl_generics __nnx::Signatures for #self_ty #where_clause {
            const METHODS: &'static [__nnx::MethodSignature] = &[#(#methods),*];
        }
        #callable
    }
}

fn method_signature(input: &Impl, method: &Method) -> TokenStream {
    let module = input.self_name.unraw().to_string();
    let name = method.ident.unraw().to_string();
    let is_call = method.call_attr.is_some();
    let mutates = method.mutates;
    let batched = method.batching_rule.is_some();
    let output = pretty(&method.output);
    let params = method.params.iter().map(|param| {
        let name = param.ident.unraw().to_string();
        let ty = pretty(&param.ty);
        let (kind, default) = match &param.kind {
            ParamKind::Positional => (quote!(Positional), quote!(__nnx::Option::None)),
            ParamKind::Keyword { default, .. } => {
                let text = match default {
                    Some(expr) => pretty(expr),
                    None if ty.starts_with("Option<") => "None".to_owned(),
                    None => "Default::default()".to_owned(),
                };
                (quote!(Keyword), quote!(__nnx::Option::Some(#text)))
            }
        };
        quote! {
            __nnx::ParamInfo {
                name: #name,
                kind: __nnx::ParamKind::#kind,
                ty: #ty,
                default: #default,
            }
        }
    });
    quote! {
        __nnx::MethodSignature {
            module: #module,
            method: #name,
            is_call: #is_call,
            mutates: #mutates,
            batched: #batched,
            params: &[#(#params),*],
            output: #output,
        }
    }
}

/// Tokens as a person writes them: `Option<ArrayViewD<'_, bool>>`, not `Option < ... >`.
pub fn pretty(tokens: &impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last().unwrap_or(' ');
            let next = chars.peek().copied().unwrap_or(' ');
            let tight_after = matches!(prev, '<' | '&' | '\'' | ':' | '(' | '[' | '!' | '-');
            let tight_before = matches!(next, '<' | '>' | ',' | ':' | ')' | ']' | '(' | '.' | ';');
            if tight_after || tight_before {
                continue;
            }
        }
        out.push(c);
    }
    out.replace("->", " -> ").replace("  ", " ")
}
