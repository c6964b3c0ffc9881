//! Expansion of `scan!`: the members of a `Stacked` module applied in turn, each to the
//! previous one's output (the carry), as `nnx.scan` over a stack of layers. Every other
//! argument is evaluated once and handed to each member. It expands to one `call!` per
//! member, so each member call is resolved and checked exactly as `call!` checks it, and
//! the members are borrowed as their method needs (`&mut self` layers, such as
//! BatchNorm in training, update their own statistics).

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::call::{diverging_error, private_at, reported_at, stacked_borrow, with_problems};
use crate::invocation::{self, Invocation};

pub fn scan(input: TokenStream) -> TokenStream {
    let (runtime, input) = invocation::split_runtime(input);
    let parsed = syn::parse2::<ScanInput>(input)
        .and_then(|input| Ok((invocation::parse_invocation(input.call)?, input.out_axes)));
    match parsed {
        Ok((call, out_axes)) => match expand_scan(&call, out_axes.as_ref(), &runtime) {
            Ok(expansion) => with_problems(call.problems.clone(), expansion),
            Err(error) => diverging_error(error),
        },
        Err(error) => diverging_error(error),
    }
}

/// `layers(x, ..)`, then optionally `, out_axes = axis`.
struct ScanInput {
    call: Expr,
    out_axes: Option<Expr>,
}

impl Parse for ScanInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let call: Expr = input.parse()?;
        let mut out_axes = None;
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let option: Ident = input.parse()?;
            if option != "out_axes" {
                return Err(syn::Error::new(
                    option.span(),
                    format!("unknown scan! option `{option}`: the one option is `out_axes = axis`"),
                ));
            }
            input.parse::<Token![=]>()?;
            out_axes = Some(input.parse()?);
            input.parse::<Option<Token![,]>>()?;
        }
        Ok(ScanInput { call, out_axes })
    }
}

/// The arguments handed to every member: bound once before the loop, cloned per member
/// (a view, a reference or an `Option` of one: cheap).
struct Shared {
    bindings: TokenStream,
    positionals: Vec<TokenStream>,
    keywords: Vec<TokenStream>,
}

fn shared(call: &Invocation) -> Shared {
    let clone = quote!(::core::clone::Clone::clone);
    let mut bindings = TokenStream::new();
    let mut positionals = Vec::new();
    for (index, value) in call.positionals.iter().enumerate().skip(1) {
        let name = format_ident!("arg{}", index, span = Span::mixed_site());
        bindings.extend(quote_spanned!(value.span()=> let #name = #value;));
        positionals.push(quote_spanned!(value.span()=> #clone(&#name)));
    }
    let mut keywords = Vec::new();
    for (keyword, value) in &call.keywords {
        let name = format_ident!("kw_{}", keyword, span = Span::mixed_site());
        bindings.extend(quote_spanned!(value.span()=> let #name = #value;));
        keywords.push(quote_spanned!(value.span()=> #keyword = #clone(&#name)));
    }
    Shared {
        bindings,
        positionals,
        keywords,
    }
}

fn expand_scan(
    call: &Invocation,
    out_axes: Option<&Expr>,
    runtime: &TokenStream,
) -> syn::Result<TokenStream> {
    let Some(first) = call.positionals.first() else {
        return Err(syn::Error::new(
            call.args_span,
            format!(
                "scan!({}(..)) needs the carry, the first member's input, as its first \
                 positional argument",
                call.head()
            ),
        ));
    };
    let receiver = &call.receiver;
    let span = receiver.span();
    let p = quote_spanned!(span=> #runtime::__private);
    let Shared {
        bindings,
        positionals,
        keywords,
    } = shared(call);
    let method = call.method.as_ref().map(|method| quote!(.#method));
    let index = Ident::new("index", Span::mixed_site());
    // At the user's first argument, with its hygiene: a `carry` whose type does not fit
    // the next member's input is then reported there, in the user's code. No user
    // expression is evaluated where it is in scope.
    let carry = Ident::new("carry", first.span());
    let stack = Ident::new("stack", Span::mixed_site());
    let label = syn::Lifetime::new("'scan", Span::mixed_site());
    // The carry fed back is spanned at the user's first argument: a member whose output
    // does not fit its input is reported there.
    let fed_back = quote_spanned!(first.span()=> &#carry);
    let (output, outputs) = (
        Ident::new("output", Span::mixed_site()),
        Ident::new("outputs", Span::mixed_site()),
    );
    let (step, finish) = match out_axes {
        None => (quote!(#output), quote!(::core::result::Result::Ok(#carry))),
        Some(axis) => {
            // Each member returns `(carry, output)`; the outputs are stacked along `axis`.
            let at = private_at(runtime, axis.span());
            let split = quote_spanned!(axis.span()=> #at::ScanOutputs::split(#output));
            let stacked = quote_spanned!(axis.span()=> #at::scan_stack(#outputs, #axis));
            let next = Ident::new("next", Span::mixed_site());
            (
                quote! {{
                    let (#next, #output) = #split;
                    #outputs.push(#output);
                    #next
                }},
                quote! {
                    match #stacked {
                        ::core::result::Result::Ok(stacked) => ::core::result::Result::Ok((#carry, stacked)),
                        ::core::result::Result::Err(error) => ::core::result::Result::Err(error),
                    }
                },
            )
        }
    };
    let collect = out_axes.map(|_| quote!(let mut #outputs = ::std::vec::Vec::new();));
    // With out_axes the stacking may fail too, so every error is a `VmapError`.
    let error = match out_axes {
        None => quote!(error),
        Some(_) => quote!(#p::IntoVmapError::into_vmap_error(error)),
    };
    let member = |index: TokenStream, input: TokenStream| {
        // The member's borrow as a value, not a place: a `&mut self` method on the
        // members of a stack behind `&` is then `call!`'s "borrowed shared" message.
        let mut member = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(span=> #p::ScanMembers::member(&mut #stack, #index)),
        );
        // The parentheses at the user's receiver: `call!` reports the receiver there.
        member.set_span(span);
        quote! {
            match #runtime::call!(#member #method (#input #(, #positionals)* #(, #keywords)*)) {
                ::core::result::Result::Ok(#output) => #step,
                ::core::result::Result::Err(error) => break #label ::core::result::Result::Err(#error),
            }
        }
    };
    let first_call = member(quote!(0), first.to_token_stream());
    let next_call = member(quote!(#index), fed_back);
    let borrow = stacked_borrow(call, runtime);
    let members = quote_spanned!(span=> #p::ScanMembers::members(&#stack));
    let check = stack_check(call, runtime);
    let at_receiver = reported_at(quote!(#stack), "receiver", span);
    let checked = quote_spanned!(span=> ScanStack::scan_members(#at_receiver));
    Ok(quote! {
        #label: {
            #bindings
            #borrow
            #check
            let mut #stack = #checked;
            #collect
            let mut #carry = #first_call;
            for #index in 1..#members {
                #carry = #next_call;
            }
            #finish
        }
    })
}

/// A local trait that only a borrowed `Stacked` has, whose message names the receiver as
/// written: another receiver is this one message, at it. The stack it gives is a
/// parameter, not an associated type, so nothing after it is reported.
fn stack_check(call: &Invocation, runtime: &TokenStream) -> TokenStream {
    let p = quote!(#runtime::__private);
    let span = call.receiver.span();
    let receiver = call.receiver.to_token_stream().to_string().replace(' ', "");
    let message = format!(
        "`scan!` runs the members of a `Stacked` module in turn, and `{receiver}` is not one"
    );
    let label = "not a `Stacked` module";
    let note = "build the layer stack with `Stacked::new(n, |i| ..)`; a single module is called with `call!`";
    let through_counted = [quote!(::std::rc::Rc<P>), quote!(::std::sync::Arc<P>)].map(|ptr| {
        quote_spanned! {span=>
            #[diagnostic::do_not_recommend]
            impl<'s, M, P: #p::PointsTo<#p::Stacked<M>> + ?::core::marker::Sized>
                ScanStack<&'s #p::Stacked<M>> for &'s mut #ptr
            {
                #[inline]
                fn scan_members(self) -> &'s #p::Stacked<M> {
                    #p::PointsTo::module(self)
                }
            }
        }
    });
    // At the receiver, so that the message is reported in the user's code.
    quote_spanned! {span=>
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait ScanStack<S> {
            fn scan_members(self) -> S;
        }
        // The stack, borrowed as picked, through any pointers (`&&Stacked<M>` from
        // `Vec<&Stacked<M>>::iter()`, `&mut Box<Stacked<M>>`). Hidden from rustc's
        // notes, as every impl here: the message says what `scan!` takes.
        #[diagnostic::do_not_recommend]
        impl<'s, M, P: #p::PointsTo<#p::Stacked<M>> + ?::core::marker::Sized>
            ScanStack<&'s #p::Stacked<M>> for &'s P
        {
            #[inline]
            fn scan_members(self) -> &'s #p::Stacked<M> {
                #p::PointsTo::module(self)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<'s, M, P: #p::PointsToMut<#p::Stacked<M>> + ?::core::marker::Sized>
            ScanStack<&'s mut #p::Stacked<M>> for &'s mut P
        {
            #[inline]
            fn scan_members(self) -> &'s mut #p::Stacked<M> {
                #p::PointsToMut::module_mut(self)
            }
        }
        // A stack behind `&`, `Rc` or `Arc`, taken unique for a `&mut self` method: its
        // members are then `&M`, and `call!` on them says that they are borrowed shared.
        #[diagnostic::do_not_recommend]
        impl<'s, 't, M, P: #p::PointsTo<#p::Stacked<M>> + ?::core::marker::Sized>
            ScanStack<&'t #p::Stacked<M>> for &'s mut &'t P
        {
            #[inline]
            fn scan_members(self) -> &'t #p::Stacked<M> {
                #p::PointsTo::module(*self)
            }
        }
        #(#through_counted)*
    }
}
