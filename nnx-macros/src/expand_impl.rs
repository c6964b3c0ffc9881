//! Code generation for `#[module] impl`: per recorded method, a keyword-argument builder
//! for `call!` and an entry plus builder for `vmap!`, and the signature metadata.
//!
//! Keyword names are resolved by rustc as setter methods of the generated builders, so
//! an unknown keyword is rustc's own "no method named `maks`... did you mean `mask`",
//! at the user's token, during `cargo check`.

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
        .map(|method| MethodGen::new(input, method).expand());
    let signatures = signature::expand(input);
    // In an anonymous const, the builders of `impl Dense<f32>` and `impl Dense<f64>` (or
    // of two modules' impls in one Rust module) cannot collide; the inherent methods
    // that return them still attach to the module type.
    // One import of the runtime and one list of allowed lints for the whole expansion:
    // a module need not use every setter or vmap entry it is given, the builders are
    // named after the module (`LayerNorm_forward_Call`), and they name private types of
    // the user's crate when the module is private; a keyword setter is named after its
    // keyword, so `is_causal(self, ..)` is not a predicate clippy should question.
    let krate = &input.krate;
    quote! {
        #item
        #[allow(
            dead_code,
            non_camel_case_types,
            private_interfaces,
            private_bounds,
            clippy::wrong_self_convention
        )]
        const _: () = {
            use #krate::__private as __nnx;
            #signatures
            #(#methods)*
        };
    }
}

/// Names and types shared by the pieces generated for one method.
struct MethodGen<'a> {
    input: &'a Impl,
    method: &'a Method,
    call_struct: Ident,
    vmap_entry: Ident,
    vmap_struct: Ident,
    /// Parameter types with their lifetimes named `'__a`.
    types: Vec<Type>,
    output: Type,
}

impl<'a> MethodGen<'a> {
    fn new(input: &'a Impl, method: &'a Method) -> Self {
        let base = format!("{}_{}", input.self_name, method.ident.unraw());
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
            // Readable in rustc's messages ("no method named `maks` found for struct
            // `LayerNorm_forward_Call`"), and not a name anyone writes by hand.
            call_struct: format_ident!("{}_Call", base),
            vmap_entry: format_ident!("{}_VmapEntry", base),
            vmap_struct: format_ident!("{}_Vmap", base),
            types,
            output,
        }
    }

    fn expand(&self) -> TokenStream {
        let call = self.call_builder();
        let vmap = (!self.method.no_vmap).then(|| self.vmap_builder());
        let entries = self.entries();
        let guard = self.mutation_guard().filter(|_| !self.method.no_vmap);
        quote! {
            #entries
            #call
            #vmap
            #guard
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
        let args = self
            .input
            .item
            .generics
            .params
            .iter()
            .map(|param| match param {
                GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
                GenericParam::Type(t) => t.ident.to_token_stream(),
                GenericParam::Const(c) => c.ident.to_token_stream(),
            });
        quote!(<'__m, '__a, #(#args,)* #last>)
    }

    fn where_clause(&self) -> TokenStream {
        self.input.item.generics.where_clause.to_token_stream()
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

    fn default_value(&self, param: &Param) -> TokenStream {
        match &param.kind {
            ParamKind::Keyword {
                default: Some(expr),
                ..
            } => quote_spanned!(expr.span()=> #expr),
            _ => quote_spanned!(param.ty.span()=> ::core::default::Default::default()),
        }
    }

    /// Whether a positional parameter's type uses the method's own type parameters; such
    /// a parameter takes exactly its type, since a conversion could not be inferred.
    fn is_generic(&self, ty: &Type) -> bool {
        first_mention(ty, &type_param_names(&self.method.generics, false)).is_some()
    }

    /// `ln.__nnx_call_forward()`, `ln.__nnx_vmap_forward()`, and the `__nnx_call` /
    /// `__nnx_vmap` aliases of the `#[call]` method, on the module type itself.
    fn entries(&self) -> TokenStream {
        let self_ty = self.self_ty();
        let (impl_generics, _, where_clause) = self.input.item.generics.split_for_impl();
        let (_, call_args) = self.struct_generics(quote!());
        let call_struct = &self.call_struct;
        let vmap_entry = &self.vmap_entry;
        let receiver = self.receiver();
        let method = &self.method.ident;
        let vis = &self.method.vis;
        let call_entry = format_ident!("__nnx_call_{}", method.unraw());
        let vmap_entry_fn = format_ident!("__nnx_vmap_{}", method.unraw());
        let keyword_defaults: Vec<TokenStream> = self
            .keywords()
            .map(|(param, _)| {
                let name = &param.ident;
                let value = self.default_value(param);
                quote!(#name: #value)
            })
            .collect();
        let vmap_entry_fns = (!self.method.no_vmap).then(|| {
            let alias = self.method.call_attr.as_ref().map(|_| {
                quote! {
                    #[doc(hidden)]
                    #[inline]
                    #vis fn __nnx_vmap<'__m, '__a>(&self) -> #vmap_entry #call_args {
                        self.#vmap_entry_fn()
                    }
                }
            });
            quote! {
                /// The receiver only fixes the type: `vmap!` passes the module (or stack) next.
                #[doc(hidden)]
                #[inline]
                #vis fn #vmap_entry_fn<'__m, '__a>(&self) -> #vmap_entry #call_args {
                    #vmap_entry {
                        __marker: __nnx::PhantomData,
                    }
                }

                #alias
            }
        });
        let call_alias = self.method.call_attr.as_ref().map(|_| {
            quote! {
                #[doc(hidden)]
                #[inline]
                #vis fn __nnx_call<'__m, '__a>(#receiver self) -> #call_struct #call_args {
                    self.#call_entry()
                }
            }
        });
        quote! {
            impl #impl_generics #self_ty #where_clause {
                #[doc(hidden)]
                #[inline]
                #vis fn #call_entry<'__m, '__a>(#receiver self) -> #call_struct #call_args {
                    #call_struct {
                        __recv: self,
                        #(#keyword_defaults,)*
                        __marker: __nnx::PhantomData,
                    }
                }

                #call_alias
                #vmap_entry_fns
            }
        }
    }

    /// The struct `call!` fills: the receiver and every keyword (defaults first), then
    /// `.__call(positionals)` makes the real call.
    fn call_builder(&self) -> TokenStream {
        let self_ty = self.self_ty();
        let name = &self.call_struct;
        let (params, args) = self.struct_generics(quote!());
        let where_clause = self.where_clause();
        let receiver = self.receiver();
        let fields = self.keywords().map(|(param, ty)| {
            let name = &param.ident;
            quote!(#name: #ty)
        });
        let setters = self.keywords().map(|(param, ty)| {
            let name = &param.ident;
            quote_spanned! {param.ident.span()=>
                #[inline]
                pub fn #name(mut self, #name: impl __nnx::IntoArg<#ty>) -> Self {
                    self.#name = __nnx::IntoArg::into_arg(#name);
                    self
                }
            }
        });
        let call_params = self.positionals().map(|(param, ty)| {
            let name = &param.ident;
            if self.is_generic(ty) {
                quote_spanned!(param.ident.span()=> #name: #ty)
            } else {
                quote_spanned!(param.ident.span()=> #name: impl __nnx::IntoArg<#ty>)
            }
        });
        let call_args = self.params().map(|(param, ty)| {
            let name = &param.ident;
            if !param.is_positional() {
                quote!(self.#name)
            } else if self.is_generic(ty) {
                quote!(#name)
            } else {
                quote!(__nnx::IntoArg::into_arg(#name))
            }
        });
        let method = &self.method.ident;
        let (method_generics, _, method_where) = self.method.generics.split_for_impl();
        let output = &self.output;
        let call_span = self.method.ident.span();
        let call = Ident::new("__call", call_span);
        quote! {
            #[doc(hidden)]
            pub struct #name #params #where_clause {
                __recv: #receiver #self_ty,
                #(#fields,)*
                __marker: __nnx::PhantomData<&'__a ()>,
            }

            impl #params #name #args #where_clause {
                #(#setters)*

                #[inline]
                pub fn #call #method_generics (self, #(#call_params),*) -> #output #method_where {
                    self.__recv.#method(#(#call_args),*)
                }
            }
        }
    }

    /// For a `&mut self` method, the trait whose absence makes broadcasting the module a
    /// compile error that says why.
    fn mutation_guard(&self) -> Option<TokenStream> {
        if !self.method.mutates {
            return None;
        }
        let name = self.guard_name();
        let message = format!(
            "`{}::{}` takes `&mut self`, so vmap! cannot broadcast the module",
            self.input.self_name, self.method.ident
        );
        let label = "every example would mutate the same module";
        let note = "stack the module (`Stacked::new(n, ..)`) and map it with `in_axes = (self = 0, ..)`: each example then mutates its own member";
        Some(quote! {
            #[doc(hidden)]
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            pub trait #name {
                fn refuse() -> ::core::convert::Infallible;
            }
        })
    }

    fn guard_name(&self) -> Ident {
        format_ident!(
            "{}_{}_MutatesSelf",
            self.input.self_name,
            self.method.ident.unraw()
        )
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
        let args_p = self.struct_generics_with(quote!(__P));
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
                pub fn #name(mut self, #name: impl __nnx::IntoSlot<#ty>) -> Self {
                    self.#name = __nnx::IntoSlot::into_slot(#name);
                    self
                }
            }
        });
        let broadcast = self.broadcast_entry(&defaults);
        let stacked = self.stacked_entry(&defaults);
        let run = self.run();
        quote! {
            #[doc(hidden)]
            pub struct #entry #params #where_clause {
                __marker: __nnx::PhantomData<(&'__m #self_ty, &'__a ())>,
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

            impl #params_o #name #args_o #where_clause {
                #(#setters)*

                #[inline]
                pub fn __axis_size(mut self, size: usize) -> Self {
                    self.__axis_size = ::core::option::Option::Some(size);
                    self
                }

                #[inline]
                pub fn __out_axes<__P>(self, axes: __P) -> #name #args_p {
                    #name {
                        __recv: self.__recv,
                        #(#field_names: self.#field_names,)*
                        __out_axes: axes,
                        __axis_size: self.__axis_size,
                        __marker: __nnx::PhantomData,
                    }
                }

                #run
            }
        }
    }

    fn broadcast_entry(&self, defaults: &[TokenStream]) -> TokenStream {
        let self_ty = self.self_ty();
        let name = &self.vmap_struct;
        let args = self.struct_generics_with(quote!(__nnx::DefaultAxes));
        let span = self.method.ident.span();
        if self.method.mutates {
            let guard = self.guard_name();
            quote_spanned! {span=>
                #[inline]
                #[allow(unreachable_code)]
                pub fn __broadcast<__G: #guard>(self, _module: &'__m #self_ty) -> #name #args {
                    match <__G as #guard>::refuse() {}
                }
            }
        } else {
            quote_spanned! {span=>
                #[inline]
                pub fn __broadcast<__G: __nnx::MayBroadcast>(self, module: &'__m #self_ty) -> #name #args {
                    #name {
                        __recv: __nnx::Receiver::Broadcast(module),
                        #(#defaults,)*
                        __out_axes: __nnx::DefaultAxes,
                        __axis_size: ::core::option::Option::None,
                        __marker: __nnx::PhantomData,
                    }
                }
            }
        }
    }

    fn stacked_entry(&self, defaults: &[TokenStream]) -> TokenStream {
        let self_ty = self.self_ty();
        let name = &self.vmap_struct;
        let args = self.struct_generics_with(quote!(__nnx::DefaultAxes));
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
        quote! {
            #[inline]
            pub fn __stacked(self, stack: #stack_ty) -> #name #args {
                #name {
                    __recv: #receiver,
                    #(#defaults,)*
                    __out_axes: __nnx::DefaultAxes,
                    __axis_size: ::core::option::Option::None,
                    __marker: __nnx::PhantomData,
                }
            }
        }
    }

    /// `run(positionals)`: checks axes and batch sizes, then runs the batching rule on
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
            quote_spanned!(param.ident.span()=> #name: impl #p::IntoSlot<#ty>)
        });
        let take_positionals = self.positionals().map(|(param, _)| {
            let name = &param.ident;
            quote!(let mut #name = #p::IntoSlot::into_slot(#name);)
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
        let receiver_arms = if self.method.mutates {
            quote! {
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
                #(#take_positionals)*
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
