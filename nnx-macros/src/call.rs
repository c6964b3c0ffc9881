//! Expansion of `call!` and `vmap!`. Both expand to calls of the tables and builders
//! that `#[module] impl` generated, reached through the runtime's traits (each called on
//! the user's value, so a misuse is that trait's message at the user's token), and every
//! name is resolved by rustc against the method's real signature.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprClosure, Ident, Pat, Type};

use crate::invocation::{self, Axis, InAxes, Invocation, Options, OutAxes, VmapInput};
use crate::valid;

fn private(runtime: &TokenStream) -> TokenStream {
    quote!(#runtime::__private)
}

/// The runtime's path, located at `span` (resolved where `$crate` was): rustc reports a
/// path's errors at the path's tokens, and these would otherwise be `nnx`'s own macro.
pub(crate) fn private_at(runtime: &TokenStream, span: Span) -> TokenStream {
    relocate(private(runtime), span)
}

fn relocate(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut moved = Group::new(group.delimiter(), relocate(group.stream(), span));
                moved.set_span(group.span().located_at(span));
                return TokenTree::Group(moved);
            }
            token.set_span(token.span().located_at(span));
            token
        })
        .collect()
}

/// `span`, in the runtime path's (`$crate`'s) context: for tokens beside that path which
/// must be reported as one with it.
fn runtime_site(runtime: &TokenStream, span: Span) -> Span {
    let context = runtime
        .clone()
        .into_iter()
        .next()
        .map_or(span, |token| token.span());
    context.located_at(span)
}

/// `{ let name = value; name }`, the name spanned at `span`: rustc reports an
/// expression of the macro's own (mixed-site) context at the whole invocation, and this
/// one at the user's token. The block holds no user code for the name to capture.
pub(crate) fn reported_at(value: TokenStream, name: &str, span: Span) -> TokenStream {
    let name = Ident::new(name, span);
    quote_spanned!(span=> { let #name = #value; #name })
}

/// `(args)` with the user's parentheses' span, where arity errors and rustc's
/// "provide the argument" suggestion belong.
fn arguments(args: impl ToTokens, span: Span) -> Group {
    let mut group = Group::new(Delimiter::Parenthesis, args.into_token_stream());
    group.set_span(span);
    group
}

pub fn call(input: TokenStream) -> TokenStream {
    let (runtime, input) = invocation::split_runtime(input);
    match invocation::parse_call_input(input) {
        Ok(call) => with_problems(call.problems.clone(), expand_call(&call, &runtime)),
        Err(error) => diverging_error(error),
    }
}

/// The expansion with the errors found beside it, so one mistake is reported once and
/// everything else in the call is still type-checked.
pub(crate) fn with_problems(problems: Option<syn::Error>, expansion: TokenStream) -> TokenStream {
    match problems {
        Some(error) => {
            let error = error.to_compile_error();
            quote!({ #error #expansion })
        }
        None => expansion,
    }
}

/// An error where no call can be expanded: the block diverges, so it fits any type the
/// surrounding code expects and causes no follow-on errors.
pub(crate) fn diverging_error(error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!({ #error loop {} })
}

/// FNV-1a of a method's name: `#[module]` and `call!`/`vmap!` meet on `Name<hash>`
/// without either knowing the other's tokens.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The method's name as a type; the `#[call]` method has one of its own.
fn name_type(call: &Invocation, p: &TokenStream) -> TokenStream {
    match &call.method {
        Some(method) => {
            let hash = name_hash(&method.unraw().to_string());
            quote!(#p::Name<#hash>)
        }
        None => quote!(#p::CallName),
    }
}

/// A local trait `Pick` with a method on `&M` when the method named in `call` takes
/// `&self` on `M` (a module, a `Stacked` of them, or a pointer to either), and on
/// `&mut T` otherwise, and `(receiver).pick()`: method-call autoref
/// then borrows the receiver exactly as the method needs, as a direct call would (shared
/// for `&self`, so a module behind `&` works; unique otherwise, where a misspelt name is
/// reported by the table and an immutable binding by the borrow checker). Named after
/// the call's tokens: a call in another's arguments has its own trait, and two in scope
/// would make the method ambiguous.
fn autoref_pick(call: &Invocation, runtime: &TokenStream) -> (TokenStream, TokenStream) {
    let p = &private(runtime);
    let name = name_type(call, p);
    let receiver = &call.receiver;
    let span = receiver.span();
    let hash = name_hash(&call.to_token_string());
    let pick = format_ident!("__NnxPick{:x}", hash);
    let pick_fn = format_ident!("__nnx_pick_{:x}", hash, span = span);
    let items = quote! {
        trait #pick {
            fn #pick_fn(self) -> Self;
        }
        impl<M: ?::core::marker::Sized + #p::SharedMethod<#name>> #pick for &M {
            #[inline]
            fn #pick_fn(self) -> Self {
                self
            }
        }
        impl<T: ?::core::marker::Sized> #pick for &mut T {
            #[inline]
            fn #pick_fn(self) -> Self {
                self
            }
        }
    };
    (items, quote_spanned!(span=> (#receiver).#pick_fn()))
}

/// `ModuleMethods::calls(ln.pick())`, then `.forward()`, `.mask(..)`, `.__on(module)`
/// and `.__call(x)`, the module borrowed as the method needs ([`autoref_pick`]) and
/// converted to `&M`/`&mut M` by `ModuleBorrow::enter` ([`enter`]).
pub fn expand_call(call: &Invocation, runtime: &TokenStream) -> TokenStream {
    let span = call.receiver.span();
    let at = private_at(runtime, span);
    let (pick, picked) = autoref_pick(call, runtime);
    let (head, method) = match &call.method {
        Some(method) => (
            quote_spanned!(span=> #at::ModuleMethods::calls(#picked)),
            method.clone(),
        ),
        None => (
            quote_spanned!(span=> #at::CallMethod::call(#at::ModuleMethods::same(#picked))),
            Ident::new("call", span),
        ),
    };
    let values = keyword_values(call, |value, _| {
        let at = private_at(runtime, value.span());
        quote_spanned!(value.span()=> #at::IntoArg::into_arg(#value))
    });
    let call_ident = Ident::new("__call", call.args_span);
    let positionals = call.positionals.iter().map(|value| {
        let at = private_at(runtime, value.span());
        quote_spanned!(value.span()=> #at::IntoArg::into_arg(#value))
    });
    let p = private(runtime);
    let call = set_keywords(
        "table",
        head,
        values,
        |table| quote_spanned!(method.span()=> #table.#method()),
        |table, keywords| {
            let needs = Ident::new("needs", Span::mixed_site());
            let receiver = quote_spanned!(span=> #at::Receiving::into_receiver(#table));
            let module = enter(runtime, span, receiver, &needs);
            let args = arguments(quote!(#(#positionals),*), call.args_span);
            quote! {{
                let #needs = #p::Keywords::needs(&#keywords);
                #p::Keywords::into_builder(#keywords).__on(#module).#call_ident #args
            }}
        },
    );
    quote! {{
        #pick
        #call
    }}
}

/// `ModuleBorrow::enter(needs, receiver)`, at the user's receiver: the borrow `call!` or
/// `vmap!` took, as the `&M` or `&mut M` the method needs; a `&mut self` method on a
/// module behind `&` is `ModuleBorrow`'s one message, there. rustc reports an unmet
/// trait at the `Self` argument, so `needs` is the one rebound at the user's token.
fn enter(runtime: &TokenStream, span: Span, receiver: TokenStream, needs: &Ident) -> TokenStream {
    let at = private_at(runtime, span);
    let needs = reported_at(quote!(#needs), "needs", span);
    quote_spanned!(span=> #at::ModuleBorrow::enter(#needs, #receiver))
}

/// Each keyword's name and its value as `wrap` converts it.
fn keyword_values(
    call: &Invocation,
    wrap: impl Fn(&Expr, &Ident) -> TokenStream,
) -> Vec<(Ident, TokenStream)> {
    call.keywords
        .iter()
        .map(|(name, value)| (name.clone(), wrap(value, name)))
        .collect()
}

/// `match (head, values..) { (name, v..) => { let mut keywords = start(name);
/// keywords.mask(v); ..; finish(name, keywords) } }`, with `head` bound as `name`.
/// Each keyword is set on the `Keywords` wrapper that `start` gives, which rustc names
/// when one is misspelt. The values are evaluated in the scrutinee, so their
/// temporaries live through the call, as in one chained expression.
fn set_keywords(
    head_name: &str,
    head: TokenStream,
    values: Vec<(Ident, TokenStream)>,
    start: impl FnOnce(&Ident) -> TokenStream,
    finish: impl FnOnce(&Ident, &Ident) -> TokenStream,
) -> TokenStream {
    let head_binding = Ident::new(head_name, Span::mixed_site());
    let keywords = Ident::new("keywords", Span::mixed_site());
    let bound: Vec<Ident> = (0..values.len())
        .map(|index| format_ident!("value{}", index, span = Span::mixed_site()))
        .collect();
    let converted = values.iter().map(|(_, value)| value);
    let setters = values.iter().zip(&bound).map(|((name, value), bound)| {
        let argument = arguments(bound, value.span());
        quote_spanned!(name.span()=> #keywords.#name #argument;)
    });
    let mutable = (!values.is_empty()).then(|| quote!(mut));
    let start = start(&head_binding);
    let finish = finish(&head_binding, &keywords);
    quote! {
        match (#head, #(#converted,)*) {
            (#head_binding, #(#bound,)*) => {
                let #mutable #keywords = #start;
                #(#setters)*
                #finish
            }
        }
    }
}

pub fn vmap(input: TokenStream) -> TokenStream {
    let (runtime, input) = invocation::split_runtime(input);
    let result = syn::parse2::<VmapInput>(input).and_then(|input| match input.target {
        Expr::Closure(closure) => {
            let arity = closure.inputs.len();
            Ok(expand_vmap_closure(closure, &input.options, &runtime)
                .unwrap_or_else(|error| closure_error(error, arity, &runtime)))
        }
        target => {
            let call = invocation::parse_invocation(target)?;
            let mut problems = call.problems.clone();
            if let Some(Err(error)) = input
                .options
                .in_axes
                .as_ref()
                .map(|axes| valid::check_in_axes(&call, axes))
            {
                match &mut problems {
                    Some(problems) => problems.combine(error),
                    None => problems = Some(error),
                }
            }
            Ok(with_problems(
                problems,
                expand_vmap_call(&call, &input.options, &runtime),
            ))
        }
    });
    result.unwrap_or_else(diverging_error)
}

/// The axis of each argument: explicit entries, else `in_axes = n` for all, else 0.
fn positional_axis(in_axes: Option<&InAxes>, index: usize) -> Axis {
    match in_axes {
        None => Axis::Mapped(quote!(0isize)),
        Some(InAxes::All(axis)) => axis.clone(),
        Some(InAxes::Each { positional, .. }) => positional
            .get(index)
            .cloned()
            .unwrap_or(Axis::Mapped(quote!(0isize))),
    }
}

fn keyword_axis(in_axes: Option<&InAxes>, name: &Ident) -> Axis {
    match in_axes {
        None => Axis::Mapped(quote!(0isize)),
        Some(InAxes::All(axis)) => axis.clone(),
        Some(InAxes::Each { keywords, .. }) => keywords
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, axis)| axis.clone())
            .unwrap_or(Axis::Mapped(quote!(0isize))),
    }
}

/// The span of `self` in `in_axes = (.., self = 0)`, when the receiver is mapped.
fn stacked_receiver(in_axes: Option<&InAxes>) -> Option<Span> {
    match in_axes {
        Some(InAxes::Each {
            receiver: Some((Axis::Mapped(_), span)),
            ..
        }) => Some(*span),
        _ => None,
    }
}

/// A mapped array is borrowed as a view (`vmap!(ln(x))` with an owned `x` works, and
/// so do `&x` and `x.view()`); a broadcast argument is passed as written. Both are
/// converted here, by trait functions on the user's value, so what does not fit is
/// reported at it, in those traits' words.
fn slot(value: &Expr, axis: &Axis, runtime: &TokenStream) -> TokenStream {
    let p = private_at(runtime, value.span());
    match axis {
        Axis::Mapped(axis) => {
            // A `&` the user wrote is redundant here (and clippy would say so).
            let value = match value {
                Expr::Reference(reference) if reference.mutability.is_none() => &*reference.expr,
                other => other,
            };
            // rustc reports a failed `BatchView` bound at the function's path and at its
            // argument; with one context for both, the two messages are one.
            let view = quote_spanned! {runtime_site(runtime, value.span())=>
                #p::BatchView::view_of(&(#value))
            };
            quote_spanned! {value.span()=>
                #p::Slot::Mapped {
                    batched: #p::IntoArg::into_arg(#view),
                    axis: #axis,
                }
            }
        }
        Axis::Broadcast => {
            quote_spanned!(value.span()=> #p::Slot::Broadcast(#p::IntoArg::into_arg(#value)))
        }
    }
}

fn expand_vmap_call(call: &Invocation, options: &Options, runtime: &TokenStream) -> TokenStream {
    let p = private(runtime);
    let in_axes = options.in_axes.as_ref();
    let values = keyword_values(call, |value, name| {
        slot(value, &keyword_axis(in_axes, name), runtime)
    });
    let positionals = call
        .positionals
        .iter()
        .enumerate()
        .map(|(index, value)| slot(value, &positional_axis(in_axes, index), runtime));
    let out_axes = options
        .out_axes
        .as_ref()
        .map(|axes| out_axes_setter(call, axes, runtime));
    let axis_size = options
        .axis_size
        .as_ref()
        .map(|size| quote!(.__axis_size(#size)));
    let run = Ident::new("__run", call.args_span);
    let args = arguments(quote!(#(#positionals),*), call.args_span);
    let finish = |_: &Ident, keywords: &Ident| quote!(#p::VmapKeywords::into_builder(#keywords) #out_axes #axis_size .#run #args);
    // Mixed-site hygiene: the user's own names never meet these.
    let stack = Ident::new("stack", Span::mixed_site());
    let module = Ident::new("module", Span::mixed_site());
    if let Some(self_span) = stacked_receiver(in_axes) {
        // Spanned at `self`, so that `self = 0` on a module that is not a `Stacked` is
        // reported there.
        let at = private_at(runtime, self_span);
        let stack_at_self = reported_at(quote!(&*#stack), "receiver", self_span);
        let first = quote_spanned!(self_span=> #at::StackedReceiver::first(#stack_at_self));
        let entry = vmap_entry(call, runtime, first);
        let borrow = stacked_borrow(call, runtime);
        let start = vmap_start(call, runtime, quote!(#stack), VmapReceiver::Stacked);
        let call = set_keywords("entry", entry, values, start, finish);
        quote! {{
            #borrow
            #call
        }}
    } else {
        // A reborrow: the table only reads the module's type, and a unique borrow is
        // still needed for the entry.
        let entry = vmap_entry(call, runtime, quote!(&*#module));
        let check = match shared_receiver(in_axes) {
            Some(_) => whole_batch_check(call, &p),
            None => broadcast_check(call, &p),
        };
        let span = call
            .method
            .as_ref()
            .map_or(call.receiver.span(), Ident::span);
        let checked = quote_spanned!(span=> <_ as MayBroadcast>::check);
        let borrow = module_borrow(call, runtime);
        let start = vmap_start(call, runtime, quote!(#module), VmapReceiver::Broadcast);
        let call = set_keywords("entry", quote!(#checked(#entry)), values, start, finish);
        quote! {{
            #check
            #borrow
            #call
        }}
    }
}

/// How `vmap!` hands the module to its entry: one module shared by the whole batch, or
/// a `Stacked` whose members each take one slice.
#[derive(Clone, Copy)]
enum VmapReceiver {
    Broadcast,
    Stacked,
}

/// `{ let needs = VmapEntry::broadcast_needs(&entry); entry.__broadcast(enter(needs, module)) }`
/// (`stacked_needs` / `__stacked` for a `Stacked`): the entry knows the borrow its method
/// needs, and the receiver is converted to it at the user's token.
fn vmap_start(
    call: &Invocation,
    runtime: &TokenStream,
    receiver: TokenStream,
    kind: VmapReceiver,
) -> impl Fn(&Ident) -> TokenStream {
    let p = private(runtime);
    let (needs_of, hand_over) = match kind {
        VmapReceiver::Broadcast => ("broadcast_needs", "__broadcast"),
        VmapReceiver::Stacked => ("stacked_needs", "__stacked"),
    };
    let needs_of = Ident::new(needs_of, Span::call_site());
    let hand_over = Ident::new(hand_over, Span::call_site());
    let needs = Ident::new("needs", Span::mixed_site());
    let entered = enter(runtime, call.receiver.span(), receiver, &needs);
    move |entry: &Ident| {
        quote! {{
            let #needs = #p::VmapEntry::#needs_of(&#entry);
            #entry.#hand_over(#entered)
        }}
    }
}

/// The span of `self` in `in_axes = (.., self = None)`: the module shared on purpose,
/// which a `&mut self` method with a batching rule accepts (the rule runs once on the
/// whole batch).
fn shared_receiver(in_axes: Option<&InAxes>) -> Option<Span> {
    match in_axes {
        Some(InAxes::Each {
            receiver: Some((Axis::Broadcast, span)),
            ..
        }) => Some(*span),
        _ => None,
    }
}

/// `let module = receiver.pick();`: the module borrowed as the method needs, by
/// method-call autoref as in `call!` (unique for a `&mut self` method, which only its
/// batching rule may run on a shared module; otherwise the check before it is the one
/// error, and borrow checking does not run on a body with errors).
fn module_borrow(call: &Invocation, runtime: &TokenStream) -> TokenStream {
    let (pick, picked) = autoref_pick(call, runtime);
    let module = Ident::new("module", Span::mixed_site());
    quote! {
        #pick
        let #module = #picked;
    }
}

/// `let stack = ensemble.pick();`: a `Stacked` receiver borrowed as its members' method
/// needs, by method-call autoref as in `call!`: shared when the method takes `&self`
/// (so an ensemble works behind `&`, inside a `&self` forward), unique otherwise. A
/// receiver that is no stack is borrowed by the same rule, and `StackedReceiver`
/// (`ScanStack` for `scan!`) then reports it. Binds `stack`.
pub(crate) fn stacked_borrow(call: &Invocation, runtime: &TokenStream) -> TokenStream {
    let (pick, picked) = autoref_pick(call, runtime);
    let stack = Ident::new("stack", Span::mixed_site());
    quote! {
        #pick
        let #stack = #picked;
    }
}

/// `.__out_axes(|outputs| OutAxesFit::fit(outputs, [axes]))`: the builder gives the
/// number of the method's outputs as `Outputs<N>`, and `OutAxesFit` is implemented for
/// the number written (for any number when one axis is written, which applies to every
/// output), so a mismatch is one message at the out_axes tokens, in outputs.
fn out_axes_setter(call: &Invocation, out_axes: &OutAxes, runtime: &TokenStream) -> TokenStream {
    let span = out_axes.span;
    let p = private_at(runtime, span);
    let given = out_axes.axes.len();
    let axes = &out_axes.axes;
    let head = format!("{}(..)", call.head());
    let message = format!("`{head}` returns {{N}} output(s); out_axes gives {given}");
    let label = format!("{given} {}, one per output", plural(given, "axis", "axes"));
    let note = "give one axis per output (a tuple for several), or a single axis for all of them";
    let fits = if out_axes.tuple || given != 1 {
        quote! {
            #[diagnostic::do_not_recommend]
            impl<A: #p::AxesOf<#given>> OutAxesFit<#given> for A {
                #[inline]
                fn fit(_: #p::Outputs<#given>, axes: [isize; #given]) -> A {
                    #p::AxesOf::from_axes(axes)
                }
            }
        }
    } else {
        quote! {
            impl<A, const N: usize> OutAxesFit<N> for A where isize: #p::IntoAxes<A> {
                #[inline]
                fn fit(_: #p::Outputs<N>, axes: [isize; 1]) -> A {
                    #p::IntoAxes::into_axes(axes[0])
                }
            }
        }
    };
    let outputs = Ident::new("outputs", Span::mixed_site().located_at(span));
    let fit = quote_spanned!(span=> <_ as OutAxesFit<_>>::fit(#outputs, [#(#axes),*]));
    quote! {
        .__out_axes(|#outputs| {
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            trait OutAxesFit<const N: usize>: ::core::marker::Sized {
                fn fit(outputs: #p::Outputs<N>, axes: [isize; #given]) -> Self;
            }
            #fits
            #fit
        })
    }
}

/// The method's vmap entry, from the table of the module `borrowed` refers to.
fn vmap_entry(call: &Invocation, runtime: &TokenStream, borrowed: TokenStream) -> TokenStream {
    let span = call.receiver.span();
    let p = private_at(runtime, span);
    match &call.method {
        Some(method) => {
            let table = quote_spanned!(span=> #p::ModuleMethods::vmaps(#borrowed));
            quote_spanned!(method.span()=> #table.#method())
        }
        None => quote_spanned! {span=>
            #p::CallMethod::vmap(#p::ModuleMethods::same(#borrowed)).call()
        },
    }
}

/// A module broadcast to every example may only be read: the entry passes through
/// `MayBroadcast`, which a module has for its `&self` methods. Its message names the
/// call as written; `do_not_recommend` makes rustc report it instead of the bound
/// behind it.
fn broadcast_check(call: &Invocation, p: &TokenStream) -> TokenStream {
    let name = name_type(call, p);
    let receiver = call.receiver.to_token_stream().to_string().replace(' ', "");
    let (message, label) = match &call.method {
        Some(method) => (
            format!(
                "vmap! cannot broadcast `{receiver}` to `{method}`: the method takes `&mut self`"
            ),
            format!("`{method}` takes `&mut self`: every example would mutate the same module"),
        ),
        None => (
            format!("vmap! cannot broadcast `{receiver}`: its `#[call]` method takes `&mut self`"),
            "the `#[call]` method takes `&mut self`: every example would mutate the same module"
                .to_owned(),
        ),
    };
    let note = "stack the module (`Stacked::new(n, ..)`) and map it with `in_axes = (.., self = 0)`: each example then mutates its own member; a method with a batching rule (BatchNorm's) may instead share it with `self = None`, the rule then mutating it once for the whole batch";
    may_broadcast(p, quote!(#p::SharedMethod<#name>), &message, &label, note)
}

/// The local trait `MayBroadcast`, which a module has when `bound` holds (called as
/// `<_ as MayBroadcast>::check(entry)`), with the message rustc gives where it does not.
fn may_broadcast(
    p: &TokenStream,
    bound: TokenStream,
    message: &str,
    label: &str,
    note: &str,
) -> TokenStream {
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait MayBroadcast {
            #[inline]
            fn check<E: #p::VmapEntry<Self>>(entry: E) -> E {
                entry
            }
        }
        #[diagnostic::do_not_recommend]
        impl<M: ?::core::marker::Sized + #bound> MayBroadcast for M {}
    }
}

/// [`broadcast_check`] for `self = None` written out: a `&mut self` method passes too
/// when it has a batching rule (`BroadcastMethod`), which then runs once on the whole
/// batch.
fn whole_batch_check(call: &Invocation, p: &TokenStream) -> TokenStream {
    let name = name_type(call, p);
    let receiver = call.receiver.to_token_stream().to_string().replace(' ', "");
    let method = match &call.method {
        Some(method) => format!("`{method}`"),
        None => "its `#[call]` method".to_owned(),
    };
    let message = format!(
        "vmap! cannot share `{receiver}` across the batch: {method} takes `&mut self` and has no batching rule"
    );
    let label = "`self = None` shares one module, which every example would mutate";
    let note = "stack the module (`Stacked::new(n, ..)`) and map it with `self = 0`, or give the method a batching rule (`#[batched(rule)]`) that mutates the module once for the whole batch";
    may_broadcast(p, quote!(#p::BroadcastMethod<#name>), &message, label, note)
}

/// A closure of the same arity beside the error: its calls type-check against it, so
/// the mistake is reported once (a diverging block would make them unreachable code).
fn closure_error(error: syn::Error, arity: usize, runtime: &TokenStream) -> TokenStream {
    let p = private(runtime);
    let error = error.to_compile_error();
    let params = (0..arity).map(|_| quote!(_));
    quote!({
        #error
        move |#(#params),*| -> #p::Result<_, #p::VmapError> { ::core::unreachable!() }
    })
}

/// One parameter of the function form.
struct ClosureParam {
    name: Ident,
    ty: Type,
    axis: Axis,
}

/// `vmap!(|op: &LayerNorm, x: ArrayView1<f32>| op(x), in_axes = (None, 0))`: a closure
/// over batched arguments that runs the given closure once per example.
fn expand_vmap_closure(
    mut closure: ExprClosure,
    options: &Options,
    runtime: &TokenStream,
) -> syn::Result<TokenStream> {
    let params = closure_params(&closure, options.in_axes.as_ref())?;
    let modules: Vec<Ident> = params
        .iter()
        .filter(|param| matches!(param.ty, Type::Reference(_)))
        .map(|param| param.name.clone())
        .collect();
    CallRewriter {
        modules: &modules,
        runtime,
    }
    .visit_expr_mut(&mut closure.body);
    let p = private(runtime);
    let outer = params.iter().map(|param| {
        let name = &param.name;
        let ty = &param.ty;
        match param.axis {
            Axis::Mapped(_) => quote!(#name: <#ty as #p::Mappable>::Batched),
            Axis::Broadcast => quote!(#name: #ty),
        }
    });
    // Mixed-site hygiene: a parameter named `size` or `index` is never shadowed.
    let local = |name: &str| Ident::new(name, Span::mixed_site());
    let (per_example, batch, size, index) = (
        local("per_example"),
        local("batch"),
        local("size"),
        local("index"),
    );
    let slots = params.iter().filter_map(|param| {
        let name = &param.name;
        let ty = &param.ty;
        let text = name.unraw().to_string();
        match &param.axis {
            Axis::Mapped(axis) => Some(quote! {
                let mut #name = #p::Slot::<#ty>::Mapped { batched: #name, axis: #axis };
                #batch.add(#text, #name.check(#text)?)?;
            }),
            Axis::Broadcast => None,
        }
    });
    let examples = params.iter().map(|param| {
        let name = &param.name;
        let text = name.unraw().to_string();
        match param.axis {
            Axis::Mapped(_) => quote!(#name.example(#index, #text)?),
            Axis::Broadcast => quote!(::core::clone::Clone::clone(&#name)),
        }
    });
    let axis_size = match &options.axis_size {
        Some(size) => quote!(::core::option::Option::Some(#size)),
        None => quote!(::core::option::Option::None),
    };
    let out_axes = match &options.out_axes {
        Some(axes) => axes.written(),
        None => quote!(#p::DefaultAxes),
    };
    Ok(quote! {{
        let #per_example = #closure;
        move |#(#outer),*| -> #p::Result<_, #p::VmapError> {
            let mut #batch = #p::BatchSize::new(#axis_size);
            #(#slots)*
            let #size = #batch.finish()?;
            #p::map_examples(#size, #p::IntoAxes::into_axes(#out_axes), |#index| {
                #p::Result::Ok(#per_example(#(#examples),*))
            })
        }
    }})
}

fn closure_params(
    closure: &ExprClosure,
    in_axes: Option<&InAxes>,
) -> syn::Result<Vec<ClosureParam>> {
    let axes: Vec<Axis> = match in_axes {
        None => vec![Axis::Mapped(quote!(0isize)); closure.inputs.len()],
        Some(InAxes::All(axis)) => vec![axis.clone(); closure.inputs.len()],
        Some(InAxes::Each {
            positional,
            keywords,
            receiver,
            span,
        }) => {
            if !keywords.is_empty()
                || receiver.is_some()
                || positional.len() != closure.inputs.len()
            {
                return Err(syn::Error::new(
                    *span,
                    format!(
                        "in_axes for a closure lists one axis (or None) per parameter: this \
                         closure has {} and in_axes gives {} positional entries",
                        closure.inputs.len(),
                        positional.len()
                    ),
                ));
            }
            positional.clone()
        }
    };
    closure
        .inputs
        .iter()
        .zip(axes)
        .map(|(input, axis)| match input {
            Pat::Type(pat_type) => match &*pat_type.pat {
                Pat::Ident(ident) => {
                    if let (Axis::Mapped(_), Type::Reference(_)) = (&axis, &*pat_type.ty) {
                        return Err(syn::Error::new_spanned(
                            &pat_type.ty,
                            format!(
                                "`{}` is a reference, which vmap! does not map: give it `None` \
                                 in in_axes to share it with every example (an ensemble of \
                                 modules is a `Stacked`, mapped with `self = 0`)",
                                ident.ident
                            ),
                        ));
                    }
                    if let (Axis::Broadcast, Type::Reference(reference)) = (&axis, &*pat_type.ty)
                        && reference.mutability.is_some()
                    {
                        return Err(syn::Error::new_spanned(
                            &pat_type.ty,
                            "a `&mut` parameter cannot be broadcast: every example would \
                             mutate the same value",
                        ));
                    }
                    Ok(ClosureParam {
                        name: ident.ident.clone(),
                        ty: (*pat_type.ty).clone(),
                        axis,
                    })
                }
                other => Err(syn::Error::new_spanned(other, "vmap! closure parameters need plain names")),
            },
            other => Err(syn::Error::new_spanned(
                other,
                "vmap! closure parameters need a type (`x: ArrayView1<f32>`): it tells vmap! what one example is",
            )),
        })
        .collect()
}

/// Inside a `vmap!` closure, `op(x, mask = m)` on a module parameter is a module call.
struct CallRewriter<'a> {
    modules: &'a [Ident],
    runtime: &'a TokenStream,
}

impl VisitMut for CallRewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        let Expr::Call(call) = expr else { return };
        let Expr::Path(path) = &*call.func else {
            return;
        };
        let Some(name) = path.path.get_ident() else {
            return;
        };
        if !self.modules.contains(name) {
            return;
        }
        if let Ok(invocation) = invocation::parse_invocation(Expr::Call(call.clone())) {
            let tokens = expand_call(&invocation, self.runtime);
            *expr = syn::parse_quote_spanned!(Span::call_site()=> #tokens);
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
