//! Code generation for `#[module] impl`: the signature metadata; per module, the tables
//! `call!` and `vmap!` pick a method from (`LayerNorm_methods`, reached through the
//! runtime's `ModuleMethods`); per recorded method, its entry in each table under the
//! user's name, a keyword builder for `call!` and an entry plus builder for `vmap!`.
//!
//! Method and keyword names are resolved by rustc as methods of the tables and
//! builders, so a misspelt one is rustc's own "no method named `maks`... there is a
//! method `mask`", at the user's token, during `cargo check`. The tables and builders
//! sit behind the runtime's public wrappers (`Methods<&LayerNorm>`,
//! `Keywords<'_, '_, LayerNorm, 0>`, reached by `Deref`), which are what that message
//! names: never a generated type.
//!
//! Nothing generated bounds the module's borrow: each method declares its access
//! (`Shared`/`Mutable`), and `call!`/`vmap!` convert the borrow they took with
//! `ModuleBorrow::enter` at the user's receiver, so a `&mut self` method on a module
//! behind `&` is that trait's one message, there, and rustc names no generated item.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{GenericParam, Ident, Lifetime, Type};

use crate::ast::{Impl, Method, Param};
use crate::attr::ParamKind;
use crate::lifetimes::{data_lifetime, name_lifetimes, receiver_lifetime};
use crate::mentions::{first_mention, type_param_names};
use crate::self_type::replace_self;
use crate::signature;

pub fn expand(input: &Impl) -> TokenStream {
    let item = &input.item;
    let methods = input
        .methods
        .iter()
        .enumerate()
        .map(|(index, method)| MethodGen::new(input, method, index).expand());
    let signatures = signature::expand(input);
    let tables = tables(input);
    // In an anonymous const, the tables and builders of `impl Dense<f32>` and
    // `impl Dense<f64>` (or of two modules' impls in one Rust module) cannot collide;
    // `Methods` and the other runtime traits reach them from the module type.
    // One import of the runtime and one list of allowed lints for the whole expansion:
    // a module need not use every setter or vmap entry it is given, the tables and
    // builders are named after the module (`LayerNorm_methods`), and they name private
    // types of the user's crate when the module is private; a keyword setter is named
    // after its keyword, so `is_causal(self, ..)` is not a predicate clippy should question.
    let krate = &input.krate;
    let generated = quote! {
        #[allow(
            dead_code,
            non_camel_case_types,
            private_interfaces,
            private_bounds,
            clippy::wrong_self_convention,
            clippy::needless_lifetimes
        )]
        const _: () = {
            use #krate::__private as __nnx;
            #signatures
            #tables
            #(#methods)*
        };
    };
    let generated = crate::generated_names::shorten(generated, item);
    quote! {
        #item
        #generated
    }
}

/// The per-module tables `call!` and `vmap!` pick a method from by the name the user
/// wrote, behind the runtime's `Methods` and `VmapMethods`: a misspelt name is then
/// rustc's "no method named `fowrard` found for struct `Methods<&LayerNorm>`", with
/// `forward` suggested, and never a generated name.
fn tables(input: &Impl) -> TokenStream {
    let self_ty = &input.item.self_ty;
    let (impl_generics, _, where_clause) = input.item.generics.split_for_impl();
    let args = generic_args(&input.item.generics);
    let calls = table_name(input);
    let vmaps = vmap_table_name(input);
    let call_method = input.methods.iter().find(|m| m.call_attr.is_some());
    let callable = call_method.map(|method| {
        let shared = (!method.mutates).then(|| {
            quote!(impl #impl_generics __nnx::SharedMethod<__nnx::CallName> for #self_ty #where_clause {})
        });
        let broadcast = (!method.mutates || method.batching_rule.is_some()).then(|| {
            quote!(impl #impl_generics __nnx::BroadcastMethod<__nnx::CallName> for #self_ty #where_clause {})
        });
        let (call, vmap_call) = (call_table_name(input), vmap_call_table_name(input));
        let params: Vec<_> = input.item.generics.params.iter().collect();
        quote! {
            pub struct #call <#(#params,)* __R>(__R, __nnx::PhantomData<fn() -> #self_ty>) #where_clause;
            pub struct #vmap_call #impl_generics (__nnx::PhantomData<fn() -> #self_ty>) #where_clause;

            impl <#(#params,)* __R> __nnx::Receiving for #call <#(#args,)* __R> #where_clause {
                type Receiver = __R;

                #[inline]
                fn into_receiver(self) -> __R {
                    self.0
                }
            }

            impl #impl_generics __nnx::CallMethod for #self_ty #where_clause {
                type CallTable<__R> = #call <#(#args,)* __R>;
                type VmapTable = #vmap_call <#(#args),*>;

                #[inline]
                fn call_through<__R>(receiver: __R) -> Self::CallTable<__R> {
                    #call(receiver, __nnx::PhantomData)
                }

                #[inline]
                fn vmap_through() -> Self::VmapTable {
                    #vmap_call(__nnx::PhantomData)
                }
            }
            #shared
            #broadcast
        }
    });
    let shared = input.methods.iter().filter(|m| !m.mutates).map(|method| {
        let name = method_name_type(&method.ident);
        quote!(impl #impl_generics __nnx::SharedMethod<#name> for #self_ty #where_clause {})
    });
    let broadcast = input
        .methods
        .iter()
        .filter(|m| !m.mutates || m.batching_rule.is_some())
        .map(|method| {
            let name = method_name_type(&method.ident);
            quote!(impl #impl_generics __nnx::BroadcastMethod<#name> for #self_ty #where_clause {})
        });
    quote! {
        pub struct #calls #impl_generics (__nnx::PhantomData<fn() -> #self_ty>) #where_clause;
        pub struct #vmaps #impl_generics (__nnx::PhantomData<fn() -> #self_ty>) #where_clause;

        impl #impl_generics __nnx::ModuleMethods for #self_ty #where_clause {
            type Table = #calls <#(#args),*>;
            type VmapTable = #vmaps <#(#args),*>;
            type Calls<__R> = __nnx::Methods<__R> where __R: __nnx::Borrowed<Module = Self>;
            type Vmaps = __nnx::VmapMethods<Self>;
            type Same<__R> = __R;

            #[inline]
            fn calls_through() -> Self::Table {
                #calls(__nnx::PhantomData)
            }

            #[inline]
            fn vmaps_through() -> Self::VmapTable {
                #vmaps(__nnx::PhantomData)
            }

            #[inline]
            fn calls<__R: __nnx::Borrowed<Module = Self>>(
                receiver: __R,
            ) -> __nnx::Methods<__R> {
                __nnx::Methods(receiver, Self::calls_through())
            }

            #[inline]
            fn vmaps<__R: __nnx::Borrowed<Module = Self>>(_: __R) -> __nnx::VmapMethods<Self> {
                __nnx::VmapMethods(Self::vmaps_through())
            }

            #[inline]
            fn same<__R: __nnx::Borrowed<Module = Self>>(receiver: __R) -> __R {
                receiver
            }
        }

        impl #impl_generics __nnx::PointsTo<Self> for #self_ty #where_clause {
            #[inline]
            fn module(&self) -> &Self {
                self
            }
        }

        impl #impl_generics __nnx::PointsToMut<Self> for #self_ty #where_clause {
            #[inline]
            fn module_mut(&mut self) -> &mut Self {
                self
            }
        }

        #callable
        #(#shared)*
        #(#broadcast)*
    }
}

pub fn table_name(input: &Impl) -> Ident {
    format_ident!("{}_methods", input.self_name.unraw())
}

/// The `#[call]` method's own tables, where it is `call()`: apart from the others, so a
/// user method named `call` does not meet it.
fn call_table_name(input: &Impl) -> Ident {
    format_ident!("{}_call", input.self_name.unraw())
}

fn vmap_call_table_name(input: &Impl) -> Ident {
    format_ident!("{}_vmap_call", input.self_name.unraw())
}

fn vmap_table_name(input: &Impl) -> Ident {
    format_ident!("{}_vmap_methods", input.self_name.unraw())
}

/// The impl's parameters as arguments: `'a, T, N`.
fn generic_args(generics: &syn::Generics) -> Vec<TokenStream> {
    generics
        .params
        .iter()
        .map(|param| match param {
            GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
            GenericParam::Type(t) => t.ident.to_token_stream(),
            GenericParam::Const(c) => c.ident.to_token_stream(),
        })
        .collect()
}

/// `__nnx::Name<hash>`: the method's name as a type, which `call!` and `vmap!` compute
/// from the name the user wrote.
pub fn method_name_type(method: &Ident) -> TokenStream {
    let hash = crate::call::name_hash(&method.unraw().to_string());
    quote!(__nnx::Name<#hash>)
}

/// Names and types shared by the pieces generated for one method.
struct MethodGen<'a> {
    input: &'a Impl,
    method: &'a Method,
    /// The method's position in the impl, which names its keywords' wrappers.
    index: usize,
    call_struct: Ident,
    vmap_entry: Ident,
    vmap_struct: Ident,
    /// Parameter types with their lifetimes named `'__a`.
    types: Vec<Type>,
    output: Type,
}

impl<'a> MethodGen<'a> {
    fn new(input: &'a Impl, method: &'a Method, index: usize) -> Self {
        let base = format!("{}_{}", input.self_name.unraw(), method.ident.unraw());
        let method_lifetimes: Vec<Lifetime> = method
            .generics
            .lifetimes()
            .map(|param| param.lifetime.clone())
            .collect();
        let data = data_lifetime();
        let self_ty = &input.item.self_ty;
        let types = method
            .params
            .iter()
            .map(|param| {
                replace_self(
                    &name_lifetimes(&param.ty, &data, &method_lifetimes),
                    self_ty,
                )
            })
            .collect();
        // Elided lifetimes in the output come from the receiver, as in any method.
        let output = name_lifetimes(&method.output, &receiver_lifetime(), &method_lifetimes);
        let output = replace_self(&output, self_ty);
        Self {
            input,
            method,
            index,
            // Not a name anyone writes by hand; rustc's messages name the `Keywords`
            // wrapper in front of it.
            call_struct: format_ident!("{}_keywords", base),
            vmap_entry: format_ident!("{}_vmap_entry", base),
            vmap_struct: format_ident!("{}_vmap_keywords", base),
            types,
            output,
        }
    }

    fn expand(&self) -> TokenStream {
        let call = self.call_builder();
        let call_table = self.call_table();
        let vmap = (!self.method.no_vmap).then(|| {
            let table = self.vmap_table();
            let builder = self.vmap_builder();
            quote!(#table #builder)
        });
        quote! {
            #call_table
            #call
            #vmap
        }
    }

    fn self_ty(&self) -> &Type {
        &self.input.item.self_ty
    }

    /// `<'__m, '__a, ..the impl's parameters.., extra>`, to declare a generated struct.
    fn struct_generics(&self, extra: TokenStream) -> (TokenStream, TokenStream) {
        let params = self.input.item.generics.params.iter();
        (
            quote!(<'__m, '__a, #(#params,)* #extra>),
            self.struct_generics_with(quote!()),
        )
    }

    /// `<'__m, '__a, ..the impl's parameters as arguments.., last>`, to name one.
    fn struct_generics_with(&self, last: TokenStream) -> TokenStream {
        let args = generic_args(&self.input.item.generics);
        quote!(<'__m, '__a, #(#args,)* #last>)
    }

    /// `Keywords<'__m, '__a, Module, index>` (or `VmapKeywords<..>`): what the method's
    /// table entry returns, and what rustc names when a keyword is misspelt.
    fn keywords_wrapper(&self, wrapper: &str) -> TokenStream {
        let self_ty = self.self_ty();
        let index = self.index;
        let wrapper = Ident::new(wrapper, Span::call_site());
        quote!(__nnx::#wrapper<'__m, '__a, #self_ty, #index>)
    }

    /// `vmap!`'s builder for a method as `__broadcast`/`__stacked` start it: the
    /// receiver, each keyword's default, no out_axes or axis_size yet.
    fn vmap_keywords(&self, receiver: TokenStream, defaults: &[TokenStream]) -> TokenStream {
        let name = &self.vmap_struct;
        quote! {
            __nnx::VmapKeywords(#name {
                __recv: #receiver,
                #(#defaults,)*
                __out_axes: __nnx::DefaultAxes,
                __axis_size: ::core::option::Option::None,
                __marker: __nnx::PhantomData,
            }, __nnx::PhantomData)
        }
    }

    fn impl_args(&self) -> Vec<TokenStream> {
        generic_args(&self.input.item.generics)
    }

    fn where_clause(&self) -> TokenStream {
        self.input.item.generics.where_clause.to_token_stream()
    }

    /// The impl's `where` clause with the module borrowed for `'__m`, which the lookup
    /// of a method's builder needs to name it.
    fn where_borrowed(&self) -> TokenStream {
        let mut generics = self.input.item.generics.clone();
        let self_ty = self.self_ty();
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(#self_ty: '__m));
        generics.where_clause.to_token_stream()
    }

    /// `__nnx::Shared` or `__nnx::Mutable`, as the method takes `self`.
    fn access(&self) -> TokenStream {
        access_marker(self.method.mutates)
    }

    /// Whether a module shared by the whole batch is mutated: only by a `&mut self`
    /// method's batching rule. (Any other `&mut self` method is refused by `vmap!`'s own
    /// check, which is then the one error.) The entry's `Broadcast` access and its
    /// `__broadcast` parameter both follow it.
    fn broadcast_mutates(&self) -> bool {
        self.method.mutates && self.method.batching_rule.is_some()
    }

    fn receiver(&self) -> TokenStream {
        if self.method.mutates {
            quote!(&'__m mut)
        } else {
            quote!(&'__m)
        }
    }

    fn params(&self) -> impl Iterator<Item = (&Param, &Type)> {
        self.method.params.iter().zip(&self.types)
    }

    fn positionals(&self) -> impl Iterator<Item = (&Param, &Type)> {
        self.params().filter(|(p, _)| p.is_positional())
    }

    fn keywords(&self) -> impl Iterator<Item = (&Param, &Type)> {
        self.params().filter(|(p, _)| !p.is_positional())
    }

    fn default_fn(&self, param: &Param) -> Ident {
        format_ident!("__default_{}", param.ident.unraw())
    }

    /// The keyword's default, through the one function that holds it.
    fn default_value(&self, param: &Param) -> TokenStream {
        let name = &self.call_struct;
        let args = self.struct_generics_with(quote!(()));
        let default = self.default_fn(param);
        quote!(#name::#args::#default())
    }

    /// One function per keyword default, spanned at the default the user wrote: a
    /// default of the wrong type is reported once, there, however many builders use it.
    fn default_fns(&self) -> impl Iterator<Item = TokenStream> + '_ {
        self.keywords().map(|(param, ty)| {
            let name = self.default_fn(param);
            let body = match &param.kind {
                ParamKind::Keyword {
                    default: Some(expr),
                    ..
                } => quote_spanned!(expr.span()=> #expr),
                _ if is_option(&param.ty) => quote!(::core::option::Option::None),
                // Reported by `valid` (a keyword without its default); this keeps the
                // rest of the expansion free of a second error.
                _ => quote!(::core::panic!()),
            };
            quote! {
                #[inline]
                fn #name() -> #ty {
                    #body
                }
            }
        })
    }

    /// Whether a positional parameter's type uses the method's own type parameters; such
    /// a parameter takes exactly its type, since a conversion could not be inferred.
    fn is_generic(&self, ty: &Type) -> bool {
        first_mention(ty, &type_param_names(&self.method.generics, false)).is_some()
    }

    /// The method's entry in `call!`'s table, under the user's name: its keywords, each
    /// at its default. The table holds no borrow: `call!` converts the one it took once
    /// the method is known (`ModuleBorrow::enter`, at the user's receiver).
    fn call_table(&self) -> TokenStream {
        let self_ty = self.self_ty();
        let table = table_name(self.input);
        let (impl_generics, _, where_clause) = self.input.item.generics.split_for_impl();
        let args = self.impl_args();
        let wrapper = self.keywords_wrapper("Keywords");
        let call_struct = &self.call_struct;
        let method = &self.method.ident;
        let vis = &self.method.vis;
        let alias = self.method.call_attr.as_ref().map(|_| {
            let call = call_table_name(self.input);
            let params = self.input.item.generics.params.iter();
            quote! {
                impl<#(#params,)* __R> #call<#(#args,)* __R> #where_clause {
                    #[inline]
                    #vis fn call<'__m, '__a>(&self) -> #wrapper where #self_ty: '__m {
                        #table(__nnx::PhantomData).#method()
                    }
                }
            }
        });
        let keyword_defaults = self.keywords().map(|(param, _)| {
            let name = &param.ident;
            let value = self.default_value(param);
            quote!(#name: #value)
        });
        quote! {
            impl #impl_generics #table<#(#args),*> #where_clause {
                #[inline]
                #vis fn #method<'__m, '__a>(&self) -> #wrapper where #self_ty: '__m {
                    __nnx::Keywords(#call_struct {
                        __recv: (),
                        #(#keyword_defaults,)*
                        __marker: __nnx::PhantomData,
                    }, __nnx::PhantomData)
                }
            }

            #alias
        }
    }

    /// The struct `call!` fills: every keyword (defaults first), then `.__on(module)`
    /// the module, once `call!` has converted its borrow, and `.__call(positionals)`
    /// makes the real call. (The module is not an argument of `__call`, whose arity
    /// rustc checks against the user's arguments.)
    fn call_builder(&self) -> TokenStream {
        let self_ty = self.self_ty();
        let name = &self.call_struct;
        let (params, _) = self.struct_generics(quote!());
        let (params_m, _) = self.struct_generics(quote!(__M = ()));
        let args = self.struct_generics_with(quote!(()));
        let where_clause = self.where_clause();
        let receiver = self.receiver();
        let access = self.access();
        let fields = self.keywords().map(|(param, ty)| {
            let name = &param.ident;
            quote!(#name: #ty)
        });
        // The value arrives converted (`call!` writes `IntoArg::into_arg(value)`), so a
        // value of the wrong type is reported at the user's value, in `IntoArg`'s words.
        let setters = self.keywords().map(|(param, ty)| {
            let name = &param.ident;
            quote_spanned! {param.ident.span()=>
                #[inline]
                pub fn #name(&mut self, #name: #ty) {
                    self.#name = #name;
                }
            }
        });
        let defaults = self.default_fns();
        let index = self.index;
        let where_borrowed = self.where_borrowed();
        let module_ty = quote!(#receiver #self_ty);
        let on_args = self.struct_generics_with(module_ty.clone());
        let field_names = self.keywords().map(|(param, _)| &param.ident);
        let call_step = self.call_step(&on_args);
        quote! {
            #[doc(hidden)]
            pub struct #name #params_m #where_clause {
                __recv: __M,
                #(#fields,)*
                __marker: __nnx::PhantomData<(&'__m #self_ty, &'__a ())>,
            }

            impl #params __nnx::MethodKeywords<'__m, '__a, #index> for #self_ty #where_borrowed {
                type Builder = #name #args;
                type Access = #access;
            }

            impl #params #name #args #where_clause {
                #(#defaults)*
                #(#setters)*

                #[inline]
                pub fn __on(self, module: #module_ty) -> #name #on_args {
                    #name {
                        __recv: module,
                        #(#field_names: self.#field_names,)*
                        __marker: __nnx::PhantomData,
                    }
                }
            }

            #call_step
        }
    }

    /// `.__call(positionals)` on the builder that holds its module (`on_args`): the
    /// method called with the positionals and the keywords set before.
    fn call_step(&self, on_args: &TokenStream) -> TokenStream {
        let name = &self.call_struct;
        let (params, _) = self.struct_generics(quote!());
        let where_clause = self.where_clause();
        // Arguments arrive converted too (`IntoArg::into_arg(x)` at the call); one whose
        // type uses the method's own parameters arrives as `Exact`, the one conversion
        // that cannot make its type ambiguous.
        let call_params = self.positionals().map(|(param, ty)| {
            let name = &param.ident;
            if self.is_generic(ty) {
                quote_spanned!(param.ident.span()=> #name: __nnx::Exact<#ty>)
            } else {
                quote_spanned!(param.ident.span()=> #name: #ty)
            }
        });
        let call_args = self.params().map(|(param, ty)| {
            let name = &param.ident;
            if !param.is_positional() {
                quote!(self.#name)
            } else if self.is_generic(ty) {
                quote!(#name.0)
            } else {
                quote!(#name)
            }
        });
        let method = &self.method.ident;
        let (method_generics, _, method_where) = self.method.generics.split_for_impl();
        let output = &self.output;
        // At the method's name: an arity mismatch names the user's method.
        let call = Ident::new("__call", self.method.ident.span());
        quote! {
            impl #params #name #on_args #where_clause {
                #[inline]
                pub fn #call #method_generics (self, #(#call_params),*) -> #output #method_where {
                    self.__recv.#method(#(#call_args),*)
                }
            }
        }
    }

    /// The method's entry in `vmap!`'s table, under the user's name.
    fn vmap_table(&self) -> TokenStream {
        let table = vmap_table_name(self.input);
        let (impl_generics, _, where_clause) = self.input.item.generics.split_for_impl();
        let args = self.impl_args();
        let (_, entry_args) = self.struct_generics(quote!());
        let entry = &self.vmap_entry;
        let method = &self.method.ident;
        let vis = &self.method.vis;
        let alias = self.method.call_attr.as_ref().map(|_| {
            let call = vmap_call_table_name(self.input);
            quote! {
                impl #impl_generics #call<#(#args),*> #where_clause {
                    #[inline]
                    #vis fn call<'__m, '__a>(self) -> #entry #entry_args {
                        #table(__nnx::PhantomData).#method()
                    }
                }
            }
        });
        quote! {
            impl #impl_generics #table<#(#args),*> #where_clause {
                #[inline]
                #vis fn #method<'__m, '__a>(&self) -> #entry #entry_args {
                    #entry {
                        __marker: __nnx::PhantomData,
                    }
                }
            }

            #alias
        }
    }

    /// The entry `vmap!` starts from (it only knows the method), then the builder that
    /// holds the receiver, each keyword's slot, `out_axes` and `axis_size`.
    fn vmap_builder(&self) -> TokenStream {
        let self_ty = self.self_ty();
        let entry = &self.vmap_entry;
        let name = &self.vmap_struct;
        let (params, args) = self.struct_generics(quote!());
        let (params_o, _) = self.struct_generics(quote!(__O));
        let args_o = self.struct_generics_with(quote!(__O));
        let where_clause = self.where_clause();
        let receiver_ty = if self.method.mutates {
            quote!(__nnx::ReceiverMut<'__m, #self_ty>)
        } else {
            quote!(__nnx::Receiver<'__m, #self_ty>)
        };
        let fields = self.keywords().map(|(param, ty)| {
            let name = &param.ident;
            quote!(#name: __nnx::Slot<#ty>)
        });
        let field_names: Vec<&Ident> = self.keywords().map(|(p, _)| &p.ident).collect();
        let defaults: Vec<TokenStream> = self
            .keywords()
            .map(|(param, _)| {
                let name = &param.ident;
                let value = self.default_value(param);
                quote!(#name: __nnx::Slot::Broadcast(#value))
            })
            .collect();
        let setters = self.keywords().map(|(param, ty)| {
            let name = &param.ident;
            quote_spanned! {param.ident.span()=>
                #[inline]
                pub fn #name(&mut self, #name: __nnx::Slot<#ty>) {
                    self.#name = #name;
                }
            }
        });
        let out_axes = self.out_axes_setter(&field_names);
        let index = self.index;
        let where_borrowed = self.where_borrowed();
        let default_args = self.struct_generics_with(quote!(__nnx::DefaultAxes));
        let access = self.access();
        let broadcast = self.broadcast_entry(&defaults);
        let broadcast_access = access_marker(self.broadcast_mutates());
        let stacked = self.stacked_entry(&defaults);
        let run = self.run();
        quote! {
            #[doc(hidden)]
            pub struct #entry #params #where_clause {
                __marker: __nnx::PhantomData<(&'__m #self_ty, &'__a ())>,
            }

            impl #params __nnx::VmapEntry<#self_ty> for #entry #args #where_clause {
                type Broadcast = #broadcast_access;
                type Stacked = #access;
            }

            impl #params #entry #args #where_clause {
                #broadcast
                #stacked
            }

            #[doc(hidden)]
            pub struct #name #params_o #where_clause {
                __recv: #receiver_ty,
                #(#fields,)*
                __out_axes: __O,
                __axis_size: ::core::option::Option<usize>,
                __marker: __nnx::PhantomData<&'__a ()>,
            }

            impl #params __nnx::MethodVmapKeywords<'__m, '__a, #index> for #self_ty #where_borrowed {
                type Builder = #name #default_args;
            }

            impl #params_o #name #args_o #where_clause {
                #(#setters)*

                #[inline]
                pub fn __axis_size(mut self, size: usize) -> Self {
                    self.__axis_size = ::core::option::Option::Some(size);
                    self
                }

                #out_axes

                #run
            }
        }
    }

    /// `out_axes`, as `vmap!` passes it: a function from the method's number of outputs
    /// (`Outputs<N>`) to its axes, which is where a mismatch is reported. Outputs that
    /// depend on the method's own type parameters have no number before the call, and
    /// take no out_axes.
    fn out_axes_setter(&self, field_names: &[&Ident]) -> Option<TokenStream> {
        if !type_param_names(&self.method.generics, true).is_empty() {
            return None;
        }
        let name = &self.vmap_struct;
        let output = &self.output;
        let axes_ty = quote!(<#output as __nnx::Stackable>::Axes);
        let args = self.struct_generics_with(axes_ty.clone());
        Some(quote! {
            #[inline]
            pub fn __out_axes<const __N: usize>(
                self,
                axes: impl ::core::ops::FnOnce(__nnx::Outputs<__N>) -> #axes_ty,
            ) -> #name #args
            where
                #output: __nnx::Stackable,
                #axes_ty: __nnx::AxesOf<__N>,
            {
                #name {
                    __recv: self.__recv,
                    #(#field_names: self.#field_names,)*
                    __out_axes: axes(__nnx::Outputs),
                    __axis_size: self.__axis_size,
                    __marker: __nnx::PhantomData,
                }
            }
        })
    }

    /// The module shared by every example, as `vmap!` converted the borrow it picked
    /// (`ModuleBorrow::enter`, with the entry's `Access`): shared for a `&self` method;
    /// unique for a `&mut self` one with a batching rule, which runs once on the whole
    /// batch. Any other `&mut self` method has the entry too, so that `vmap!`'s own check
    /// (that the method may be broadcast) is the only error.
    fn broadcast_entry(&self, defaults: &[TokenStream]) -> TokenStream {
        let self_ty = self.self_ty();
        let wrapper = self.keywords_wrapper("VmapKeywords");
        if self.broadcast_mutates() {
            let keywords =
                self.vmap_keywords(quote!(__nnx::ReceiverMut::Broadcast(module)), defaults);
            quote! {
                #[inline]
                pub fn __broadcast(self, module: &'__m mut #self_ty) -> #wrapper {
                    #keywords
                }
            }
        } else if self.method.mutates {
            quote! {
                #[inline]
                pub fn __broadcast(self, _module: &'__m #self_ty) -> #wrapper {
                    ::core::unreachable!("vmap! refuses to broadcast a module to a `&mut self` method without a batching rule")
                }
            }
        } else {
            let keywords = self.vmap_keywords(quote!(__nnx::Receiver::Broadcast(module)), defaults);
            quote! {
                #[inline]
                pub fn __broadcast(self, module: &'__m #self_ty) -> #wrapper {
                    #keywords
                }
            }
        }
    }

    fn stacked_entry(&self, defaults: &[TokenStream]) -> TokenStream {
        let self_ty = self.self_ty();
        let wrapper = self.keywords_wrapper("VmapKeywords");
        let receiver = if self.method.mutates {
            quote!(__nnx::ReceiverMut::Stacked(stack))
        } else {
            quote!(__nnx::Receiver::Stacked(stack))
        };
        let stack_ty = if self.method.mutates {
            quote!(&'__m mut __nnx::Stacked<#self_ty>)
        } else {
            quote!(&'__m __nnx::Stacked<#self_ty>)
        };
        let keywords = self.vmap_keywords(receiver, defaults);
        quote! {
            #[inline]
            pub fn __stacked(self, stack: #stack_ty) -> #wrapper {
                #keywords
            }
        }
    }

    /// `run(positionals)`, each already a `Slot` (`vmap!` converts the user's values, so
    /// a value that does not fit is reported at it): checks axes and batch sizes, then runs the batching rule on
    /// the whole batch, or the method once per example and stacks the outputs.
    fn run(&self) -> TokenStream {
        let p = quote!(__nnx);
        // Our locals get mixed-site hygiene, so a parameter named `size` or `index` is
        // never shadowed by them.
        let local = |name: &str| Ident::new(name, Span::mixed_site());
        let (batch, size, index, axes) =
            (local("batch"), local("size"), local("index"), local("axes"));
        let (module, stack) = (local("module"), local("stack"));
        let output = &self.output;
        let method = &self.method.ident;
        let (method_generics, _, method_where) = self.method.generics.split_for_impl();
        let run_params = self.positionals().map(|(param, ty)| {
            let name = &param.ident;
            quote_spanned!(param.ident.span()=> mut #name: #p::Slot<#ty>)
        });
        let take_keywords = self.keywords().map(|(param, _)| {
            let name = &param.ident;
            quote!(let mut #name = self.#name;)
        });
        let checks = self.params().map(|(param, _)| {
            let name = &param.ident;
            let text = name.unraw().to_string();
            quote!(#batch.add(#text, #name.check(#text)?)?;)
        });
        let examples: Vec<TokenStream> = self
            .params()
            .map(|(param, _)| {
                let name = &param.ident;
                let text = name.unraw().to_string();
                quote!(#name.example(#index, #text)?)
            })
            .collect();
        let names: Vec<&Ident> = self.params().map(|(p, _)| &p.ident).collect();
        let per_example = |receiver: TokenStream| {
            quote! {
                #p::map_examples::<#output>(#size, #axes, |#index| {
                    #p::Result::Ok(#receiver.#method(#(#examples),*))
                })
            }
        };
        let broadcast_body = match &self.method.batching_rule {
            Some(rule) => quote! {
                #module.#rule(#(#names,)* #p::Batch { size: #size, out_axes: #axes })
            },
            None => per_example(quote!(#module)),
        };
        let stacked_member = if self.method.mutates {
            quote!(#stack.members_mut()[#index])
        } else {
            quote!(#stack.members()[#index])
        };
        let stacked_body = per_example(stacked_member);
        let broadcast_mut = if self.method.batching_rule.is_some() {
            quote! {
                #p::ReceiverMut::Broadcast(#module) => {
                    let #size = #batch.finish()?;
                    #broadcast_body
                }
            }
        } else {
            quote! {
                #p::ReceiverMut::Broadcast(_) => ::core::unreachable!(
                    "vmap! broadcasts a `&mut self` method only through its batching rule"
                ),
            }
        };
        let receiver_arms = if self.method.mutates {
            quote! {
                #broadcast_mut
                #p::ReceiverMut::Stacked(#stack) => {
                    #batch.add("self", ::core::option::Option::Some(#stack.len()))?;
                    let #size = #batch.finish()?;
                    #stacked_body
                }
            }
        } else {
            quote! {
                #p::Receiver::Broadcast(#module) => {
                    let #size = #batch.finish()?;
                    #broadcast_body
                }
                #p::Receiver::Stacked(#stack) => {
                    #batch.add("self", ::core::option::Option::Some(#stack.len()))?;
                    let #size = #batch.finish()?;
                    #stacked_body
                }
            }
        };
        let out_bound = quote_spanned!(self.method.output.span()=> #output: #p::Stackable);
        let method_predicates = method_where.map(|clause| {
            let predicates = &clause.predicates;
            quote!(#predicates)
        });
        let run = Ident::new("__run", self.method.ident.span());
        quote! {
            #[inline]
            pub fn #run #method_generics (self, #(#run_params),*)
                -> #p::Result<<#output as #p::Stackable>::Batched, #p::VmapError>
            where
                #out_bound,
                __O: #p::IntoAxes<<#output as #p::Stackable>::Axes>,
                #method_predicates
            {
                #(#take_keywords)*
                let mut #batch = #p::BatchSize::new(self.__axis_size);
                #(#checks)*
                let #axes = #p::IntoAxes::into_axes(self.__out_axes);
                match self.__recv {
                    #receiver_arms
                }
            }
        }
    }
}

/// Whether a type is written `Option<..>`, which an omitted keyword leaves `None`.
fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// `__nnx::Mutable` for a method that mutates its module, else `__nnx::Shared`.
fn access_marker(mutates: bool) -> TokenStream {
    if mutates {
        quote!(__nnx::Mutable)
    } else {
        quote!(__nnx::Shared)
    }
}
