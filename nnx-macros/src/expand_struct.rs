//! Code generation for `#[module]` on a struct: the walk (`Node`) and `Module`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::WherePredicate;
use syn::spanned::Spanned;

use crate::ast::{Field, Struct};
use crate::mentions::{first_mention, type_param_names};
use syn::ext::IdentExt;

pub fn expand(input: &Struct) -> TokenStream {
    let item = &input.item;
    let krate = &input.krate;
    let name = &item.ident;
    let name_text = name.unraw().to_string();
    let (impl_generics, ty_generics, _) = item.generics.split_for_impl();
    let where_clause = where_clause(input);
    let state_fields: Vec<&Field> = input.fields.iter().filter(|f| !f.skip).collect();
    let walks = state_fields.iter().map(|f| walk_field(f, krate, false));
    let walks_mut = state_fields.iter().map(|f| walk_field(f, krate, true));
    let set_training = state_fields.iter().map(|field| {
        let member = &field.member;
        let ty = &field.ty;
        quote_spanned!(field.ty.span()=> <#ty as #krate::Node>::set_training(&mut self.#member, training);)
    });
    quote! {
        #item

        impl #impl_generics #krate::Node for #name #ty_generics #where_clause {
            fn walk(&self, path: &mut #krate::Path, visitor: &mut dyn #krate::Visit) {
                #(#walks)*
            }

            fn walk_mut(&mut self, path: &mut #krate::Path, visitor: &mut dyn #krate::VisitMut) {
                #(#walks_mut)*
            }

            fn set_training(&mut self, training: bool) {
                #(#set_training)*
            }
        }

        impl #impl_generics #krate::Module for #name #ty_generics #where_clause {
            const NAME: &'static str = #name_text;
        }
    }
}

/// One field's step of the walk. Every token is spanned on the field's type, so a type
/// that is not state is reported once, there, with `Node`'s explanation: `Node` is
/// named on the field's type as written, so the three uses (walk, walk_mut,
/// set_training) are the one identical error rustc prints once.
fn walk_field(field: &Field, krate: &syn::Path, mutable: bool) -> TokenStream {
    let member = &field.member;
    let ty = &field.ty;
    let segment = &field.name;
    let span = field.ty.span();
    let call = if mutable {
        quote_spanned!(span=> <#ty as #krate::Node>::walk_mut(&mut self.#member, path, visitor))
    } else {
        quote_spanned!(span=> <#ty as #krate::Node>::walk(&self.#member, path, visitor))
    };
    quote_spanned! {span=>
        path.with(#krate::Segment::Field(#segment), |path| #call);
    }
}

/// The struct's own where clause plus `FieldType: Node` for every state field whose
/// type mentions a type parameter (serde's bound inference): `Mlp<A>` is a module
/// exactly when its fields are.
fn where_clause(input: &Struct) -> Option<syn::WhereClause> {
    let params = type_param_names(&input.item.generics, false);
    let mut clause = input.item.generics.where_clause.clone();
    let krate = &input.krate;
    for field in input.fields.iter().filter(|f| !f.skip) {
        if first_mention(&field.ty, &params).is_some() {
            let ty = &field.ty;
            let predicate: WherePredicate = syn::parse_quote!(#ty: #krate::Node);
            clause
                .get_or_insert_with(|| syn::parse_quote!(where))
                .predicates
                .push(predicate);
        }
    }
    clause
}
