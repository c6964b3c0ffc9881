//! The parsed forms of `#[module]`'s inputs, read from syn's items. Parsing collects
//! every error it meets into the driver's `Errors` and keeps what did parse, so the
//! checks in `valid` still run on it and one build reports every mistake.

use syn::ext::IdentExt;
use syn::{FnArg, Ident, ImplItem, ItemImpl, ItemStruct, Member, Pat, Path, Type};

use crate::attr::{self, Errors, ParamKind};
use crate::fallback;

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
    pub call_attr: Option<Ident>,
    pub mutates: bool,
    pub generics: syn::Generics,
    pub params: Vec<Param>,
    pub output: Type,
    pub batching_rule: Option<Ident>,
    /// `#[no_vmap]`: only `call!` support, for methods whose types `vmap!` cannot map
    /// or stack (a `&Self` parameter, a `String` output, ...).
    pub no_vmap: bool,
}

pub struct Param {
    pub ident: Ident,
    pub ty: Type,
    pub kind: ParamKind,
}

impl Method {
    pub fn keywords(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.is_positional())
    }
}

impl Param {
    pub fn is_positional(&self) -> bool {
        matches!(self.kind, ParamKind::Positional)
    }
}

impl Struct {
    /// The struct's fields as the walk sees them; the item keeps no nnx attribute.
    pub fn from_syn(mut item: ItemStruct, krate: Path, errors: &mut Errors) -> Self {
        let fields = item
            .fields
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let (member, name) = match &field.ident {
                    Some(ident) => (Member::Named(ident.clone()), ident.unraw().to_string()),
                    None => (Member::Unnamed(index.into()), index.to_string()),
                };
                attr::misplaced(&field.attrs, attr::FIELD_ATTRS, "a field", errors);
                Field {
                    member,
                    name,
                    ty: field.ty.clone(),
                    skip: attr::field_is_skipped(&field.attrs, errors),
                }
            })
            .collect();
        fallback::strip_fields(&mut item);
        Self {
            item,
            krate,
            fields,
        }
    }
}

impl Impl {
    /// The methods whose signatures the block records; `None` when the self type has no
    /// name to give the generated items (the error is in `errors`).
    pub fn from_syn(mut item: ItemImpl, krate: Path, errors: &mut Errors) -> Option<Self> {
        if let Some((path, _)) = &item.trait_ {
            errors.push(syn::Error::new_spanned(
                path,
                "`#[module]` records the signatures of a type's own methods; put it on an \
                 inherent `impl Type { .. }` block, not a trait impl",
            ));
        }
        let self_name = self_type_name(&item.self_ty)
            .map_err(|e| errors.push(e))
            .ok()?;
        let methods = item
            .items
            .iter()
            .filter_map(|impl_item| match impl_item {
                ImplItem::Fn(method) => Method::from_syn(method, errors),
                _ => None,
            })
            .collect();
        fallback::strip_methods(&mut item);
        Some(Self {
            item,
            krate,
            self_name,
            methods,
        })
    }
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

impl Method {
    /// A method is recorded when it is public or carries an nnx attribute, and takes
    /// `&self` or `&mut self`; anything else stays an ordinary method.
    fn from_syn(method: &syn::ImplItemFn, errors: &mut Errors) -> Option<Self> {
        attr::misplaced(&method.attrs, attr::METHOD_ATTRS, "a method", errors);
        let call_attr = attr::flag(&method.attrs, attr::CALL, errors);
        let no_vmap = attr::flag(&method.attrs, attr::NO_VMAP, errors).is_some();
        let batching_rule = attr::batching_rule(&method.attrs, errors);
        let mut params = Vec::new();
        let mut receiver = None;
        for input in &method.sig.inputs {
            match input {
                FnArg::Receiver(recv) => {
                    attr::misplaced(&recv.attrs, &[], "the receiver `self`", errors);
                    receiver = Some(recv);
                }
                FnArg::Typed(pat_type) => {
                    attr::misplaced(&pat_type.attrs, attr::PARAM_ATTRS, "a parameter", errors);
                    let kind = attr::param_kind(&pat_type.attrs, errors);
                    match &*pat_type.pat {
                        Pat::Ident(pat) => params.push(Param {
                            ident: pat.ident.clone(),
                            ty: (*pat_type.ty).clone(),
                            kind,
                        }),
                        other => {
                            if call_attr.is_some() || !matches!(kind, ParamKind::Positional) {
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
        let has_nnx_attr = call_attr.is_some()
            || batching_rule.is_some()
            || params.iter().any(|p| !p.is_positional());
        let is_public = matches!(method.vis, syn::Visibility::Public(_));
        let reference_receiver =
            receiver.filter(|recv| matches!(recv.kind, syn::ReceiverKind::Reference(..)));
        match reference_receiver {
            Some(recv) if is_public || has_nnx_attr => Some(Method {
                ident: method.sig.ident.clone(),
                vis: method.vis.clone(),
                call_attr,
                mutates: matches!(recv.kind, syn::ReceiverKind::Reference(_, _, Some(_))),
                generics: method.sig.generics.clone(),
                params,
                output: match &method.sig.output {
                    syn::ReturnType::Default => syn::parse_quote!(()),
                    syn::ReturnType::Type(_, ty) => (**ty).clone(),
                },
                batching_rule,
                no_vmap,
            }),
            _ => {
                if has_nnx_attr {
                    errors.push(receiver_error(&method.sig.ident, receiver));
                }
                None
            }
        }
    }
}

/// A method with nnx attributes that is not called on a borrowed module: at `self` when
/// it takes the module by value, else at the method's name.
fn receiver_error(method: &Ident, receiver: Option<&syn::Receiver>) -> syn::Error {
    match receiver {
        Some(by_value) => syn::Error::new_spanned(
            by_value,
            format!(
                "`{method}` takes `self` by value, which would use the module up at its first \
                 call; take `&self` (or `&mut self` to update its state)"
            ),
        ),
        None => syn::Error::new_spanned(
            method,
            format!(
                "`{method}` has nnx attributes but no `&self` or `&mut self` receiver; only \
                 methods called on a module can have keywords, `#[call]` or `#[batched]`"
            ),
        ),
    }
}
