//! Naming the lifetimes a signature leaves implicit, so parameter types can be stored in
//! the generated argument structs. Every elided lifetime of the parameters becomes one
//! lifetime `'__a` (variance lets all arguments share it), including the hidden one of
//! ndarray's view aliases: `ArrayViewD<f32>` becomes `ArrayViewD<'__a, f32>`.

use proc_macro2::Span;
use syn::visit_mut::{self, VisitMut};
use syn::{GenericArgument, Lifetime, PathArguments, Type, TypePath};

/// ndarray's view aliases: their first generic parameter is a lifetime that is usually
/// left out, and (unlike `CowArray`, which shares that) they have no `Default`.
pub const VIEW_ALIASES: &[&str] = &[
    "ArrayView",
    "ArrayView0",
    "ArrayView1",
    "ArrayView2",
    "ArrayView3",
    "ArrayView4",
    "ArrayView5",
    "ArrayView6",
    "ArrayViewD",
    "ArrayViewMut",
    "ArrayViewMut0",
    "ArrayViewMut1",
    "ArrayViewMut2",
    "ArrayViewMut3",
    "ArrayViewMut4",
    "ArrayViewMut5",
    "ArrayViewMut6",
    "ArrayViewMutD",
];

/// Whether a type named `name` has a lifetime first parameter that is usually left out.
fn hides_lifetime(name: &str) -> bool {
    VIEW_ALIASES.contains(&name) || name == "CowArray"
}

pub fn data_lifetime() -> Lifetime {
    Lifetime::new("'__a", Span::call_site())
}

pub fn receiver_lifetime() -> Lifetime {
    Lifetime::new("'__m", Span::call_site())
}

/// `ty` with its implicit and method-level lifetimes replaced by `lifetime`.
pub fn name_lifetimes(ty: &Type, lifetime: &Lifetime, method_lifetimes: &[Lifetime]) -> Type {
    let mut ty = ty.clone();
    Namer {
        lifetime,
        method_lifetimes,
    }
    .visit_type_mut(&mut ty);
    ty
}

struct Namer<'a> {
    lifetime: &'a Lifetime,
    method_lifetimes: &'a [Lifetime],
}

impl VisitMut for Namer<'_> {
    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_"
            || self
                .method_lifetimes
                .iter()
                .any(|l| l.ident == lifetime.ident)
        {
            *lifetime = self.lifetime.clone();
        }
    }

    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            reference.lifetime = Some(self.lifetime.clone());
        }
        visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_type_path_mut(&mut self, path: &mut TypePath) {
        if let Some(last) = path.path.segments.last_mut()
            && hides_lifetime(&last.ident.to_string())
        {
            add_lifetime_argument(&mut last.arguments, self.lifetime);
        }
        visit_mut::visit_type_path_mut(self, path);
    }

    // Lifetimes elided inside `fn(..)` types and `Fn(..)` bounds belong to them.
    fn visit_type_fn_ptr_mut(&mut self, _: &mut syn::TypeFnPtr) {}

    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

fn add_lifetime_argument(arguments: &mut PathArguments, lifetime: &Lifetime) {
    match arguments {
        PathArguments::AngleBracketed(args) => {
            let has_lifetime = args
                .args
                .iter()
                .any(|arg| matches!(arg, GenericArgument::Lifetime(_)));
            if !has_lifetime {
                args.args
                    .insert(0, GenericArgument::Lifetime(lifetime.clone()));
            }
        }
        PathArguments::None => {
            *arguments = PathArguments::AngleBracketed(syn::parse_quote!(<#lifetime>));
        }
        PathArguments::Parenthesized(_) => {}
    }
}
