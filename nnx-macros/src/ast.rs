//! The parsed forms of `#[module]`'s inputs, and the entry point that dispatches on them.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ImplItem, Item, ItemImpl, ItemStruct, Member, Pat, Path, Type};

use crate::attr::{self, Errors, Keyword};
use crate::{expand_impl, expand_struct, valid};
use syn::ext::IdentExt;

/// A `#[module]` struct: its fields as the walk sees them.
pub struct Struct {
    pub item: ItemStruct,
    pub krate: Path,
    pub fields: Vec<Field>,
}

pub struct Field {
    pub member: Member,
    /// The path segment this field contributes: its name, or its index in a tuple struct.
    pub name: String,
    pub ty: Type,
    pub skip: bool,
}

/// A `#[module] impl` block: the methods whose signatures it records.
pub struct Impl {
    pub item: ItemImpl,
    pub krate: Path,
    /// The self type's last path segment, for names and messages (`LayerNorm`).
    pub self_name: Ident,
    pub methods: Vec<Method>,
}

pub struct Method {
    pub ident: Ident,
    /// The generated entry points share it, so a private method stays private.
    pub vis: syn::Visibility,
    pub is_call: Option<Ident>,
    pub mutable: bool,
    pub generics: syn::Generics,
    pub params: Vec<Param>,
    pub output: Type,
    pub rule: Option<Ident>,
    /// `#[no_vmap]`: only `call!` support, for methods whose types `vmap!` cannot map
    /// or stack (a `&Self` parameter, a `String` output, ...).
    pub no_vmap: bool,
}

pub struct Param {
    pub ident: Ident,
    pub ty: Type,
    pub keyword: Keyword,
}

impl Method {
    pub fn keywords(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.is_positional())
    }
}

impl Param {
    pub fn is_positional(&self) -> bool {
        matches!(self.keyword, Keyword::Positional)
    }
}

/// `#[module]`: parse, validate, expand; on error, the user's item still comes out
/// (without nnx's helper attributes) beside the errors, so nothing else breaks.
pub fn module(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    // A bad item option does not stop the item from being checked: its errors and the
    // fields' or methods' come out together.
    let (krate, option_error) = match attr::item_options(args) {
        Ok(options) => (options.krate, None),
        Err(error) => (syn::parse_quote!(::nnx), Some(error)),
    };
    match item {
        Item::Struct(item) => {
            let fallback = strip_item(Item::Struct(item.clone()));
            match (parse_struct(item, krate), option_error) {
                (Ok(parsed), None) => expand_struct::expand(&parsed),
                (result, option_error) => with_fallback(errors_of(option_error, result), fallback),
            }
        }
        Item::Impl(item) => {
            let fallback = strip_item(Item::Impl(item.clone()));
            match (parse_impl(item, krate), option_error) {
                (Ok(parsed), None) => expand_impl::expand(&parsed),
                (result, option_error) => with_fallback(errors_of(option_error, result), fallback),
            }
        }
        other => {
            let message = match &other {
                Item::Enum(_) => {
                    "`#[module]` cannot go on an enum: a module is a struct whose fields are its \
                     state; use a struct (with `Option` fields for alternatives)"
                }
                Item::Union(_) => {
                    "`#[module]` cannot go on a union: a module is a struct whose fields are its \
                     state"
                }
                _ => {
                    "`#[module]` goes on a struct (module state) or an `impl` block (method signatures)"
                }
            };
            let error = syn::Error::new(item_keyword_span(&other), message);
            with_fallback(error, other.into_token_stream())
        }
    }
}

/// The item option's error (if any) followed by the item's own (if any); at least one
/// of them is present.
fn errors_of<T>(option_error: Option<syn::Error>, result: syn::Result<T>) -> syn::Error {
    match (option_error, result) {
        (Some(mut first), Err(second)) => {
            first.combine(second);
            first
        }
        (Some(error), Ok(_)) | (None, Err(error)) => error,
        (None, Ok(_)) => unreachable!("called only when something failed"),
    }
}

fn with_fallback(error: syn::Error, item: TokenStream) -> TokenStream {
    let error = error.to_compile_error();
    quote! { #item #error }
}

fn item_keyword_span(item: &Item) -> Span {
    match item {
        Item::Enum(item) => item.enum_token.span,
        Item::Union(item) => item.union_token.span,
        other => other.span(),
    }
}

/// The item with nnx's helper attributes removed, as emitted when expansion fails.
fn strip_item(item: Item) -> TokenStream {
    match item {
        Item::Struct(mut item) => {
            strip_fields(&mut item);
            item.into_token_stream()
        }
        Item::Impl(mut item) => {
            strip_methods(&mut item);
            item.into_token_stream()
        }
        other => other.into_token_stream(),
    }
}

pub fn strip_fields(item: &mut ItemStruct) {
    for field in item.fields.iter_mut() {
        attr::strip(&mut field.attrs, &["module"]);
    }
}

pub fn strip_methods(item: &mut ItemImpl) {
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            attr::strip(&mut method.attrs, &["call", "batched", "no_vmap"]);
            for input in method.sig.inputs.iter_mut() {
                if let FnArg::Typed(pat_type) = input {
                    attr::strip(&mut pat_type.attrs, &["kw"]);
                }
            }
        }
    }
}

fn parse_struct(mut item: ItemStruct, krate: Path) -> syn::Result<Struct> {
    let mut errors = Errors::default();
    let fields = item
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let (member, name) = match &field.ident {
                Some(ident) => (Member::Named(ident.clone()), ident.unraw().to_string()),
                None => (Member::Unnamed(index.into()), index.to_string()),
            };
            Field {
                member,
                name,
                ty: field.ty.clone(),
                skip: attr::field_is_skipped(&field.attrs, &mut errors),
            }
        })
        .collect();
    errors.finish()?;
    strip_fields(&mut item);
    Ok(Struct {
        item,
        krate,
        fields,
    })
}

fn parse_impl(mut item: ItemImpl, krate: Path) -> syn::Result<Impl> {
    let mut errors = Errors::default();
    if let Some((path, _)) = &item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[module]` records the signatures of a type's own methods; put it on an inherent \
             `impl Type { .. }` block, not a trait impl",
        ));
    }
    let self_name = self_type_name(&item.self_ty)?;
    let mut methods = Vec::new();
    for impl_item in &item.items {
        if let ImplItem::Fn(method) = impl_item
            && let Some(parsed) = parse_method(method, &mut errors)
        {
            methods.push(parsed);
        }
    }
    strip_methods(&mut item);
    let parsed = Impl {
        item,
        krate,
        self_name,
        methods,
    };
    // Checks run on whatever parsed, so one build reports every mistake.
    errors.push_result(valid::check_impl(&parsed));
    errors.finish()?;
    Ok(parsed)
}

fn self_type_name(ty: &Type) -> syn::Result<Ident> {
    match ty {
        Type::Path(path) if path.qself.is_none() => Ok(path
            .path
            .segments
            .last()
            .expect("a type path has a segment")
            .ident
            .clone()),
        other => Err(syn::Error::new_spanned(
            other,
            "`#[module] impl` needs a named self type such as `LayerNorm` or `Mlp<A>`",
        )),
    }
}

/// A method is recorded when it is public or carries an nnx attribute, and takes
/// `&self` or `&mut self`; anything else stays an ordinary method.
fn parse_method(method: &syn::ImplItemFn, errors: &mut Errors) -> Option<Method> {
    let is_call = attr::flag(&method.attrs, "call", errors);
    let no_vmap = attr::flag(&method.attrs, "no_vmap", errors).is_some();
    let rule = attr::batching_rule(&method.attrs, errors);
    let mut params = Vec::new();
    let mut receiver = None;
    for input in &method.sig.inputs {
        match input {
            FnArg::Receiver(recv) => receiver = Some(recv),
            FnArg::Typed(pat_type) => {
                let keyword = attr::keyword(&pat_type.attrs, errors);
                match &*pat_type.pat {
                    Pat::Ident(pat) => params.push(Param {
                        ident: pat.ident.clone(),
                        ty: (*pat_type.ty).clone(),
                        keyword,
                    }),
                    other => {
                        if is_call.is_some() || !matches!(keyword, Keyword::Positional) {
                            errors.push(syn::Error::new_spanned(
                                other,
                                "parameters of an nnx method need a plain name: it is how \
                                 keyword arguments and `in_axes` refer to them",
                            ));
                        }
                        return None;
                    }
                }
            }
        }
    }
    let has_nnx_attr =
        is_call.is_some() || rule.is_some() || params.iter().any(|p| !p.is_positional());
    let is_public = matches!(method.vis, syn::Visibility::Public(_));
    let reference_receiver =
        receiver.filter(|recv| matches!(recv.kind, syn::ReceiverKind::Reference(..)));
    match reference_receiver {
        Some(recv) if is_public || has_nnx_attr => Some(Method {
            ident: method.sig.ident.clone(),
            vis: method.vis.clone(),
            is_call,
            mutable: matches!(recv.kind, syn::ReceiverKind::Reference(_, _, Some(_))),
            generics: method.sig.generics.clone(),
            params,
            output: match &method.sig.output {
                syn::ReturnType::Default => syn::parse_quote!(()),
                syn::ReturnType::Type(_, ty) => (**ty).clone(),
            },
            rule,
            no_vmap,
        }),
        _ => {
            if has_nnx_attr {
                errors.push(syn::Error::new_spanned(
                    &method.sig.ident,
                    format!(
                        "`{}` has nnx attributes but no `&self` or `&mut self` receiver; only \
                         methods called on a module can have keywords, `#[call]` or `#[batched]`",
                        method.sig.ident
                    ),
                ));
            }
            None
        }
    }
}
