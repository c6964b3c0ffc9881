//! Expansion of `call!` and `vmap!`. Both expand to calls of the builders that
//! `#[module] impl` generated, so every name is resolved by rustc against the method's
//! real signature.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprClosure, Ident, Pat, Type};

use crate::invocation::{self, Axis, InAxes, Invocation, Options, VmapInput};
use crate::valid;

fn private(runtime: &TokenStream) -> TokenStream {
    quote!(#runtime::__private)
}

pub fn call(input: TokenStream) -> TokenStream {
    match invocation::parse_call_input(input) {
        Ok(call) => with_problems(call.problems.clone(), expand_call(&call)),
        Err(error) => diverging_error(error),
    }
}

/// The expansion with the errors found beside it, so one mistake is reported once and
/// everything else in the call is still type-checked.
fn with_problems(problems: Option<syn::Error>, expansion: TokenStream) -> TokenStream {
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
fn diverging_error(error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!({ #error loop {} })
}

/// `(ln).__nnx_call().mask(m).__call(x)`: the setter carries the user's `mask` token,
/// `call` the argument list's parentheses, so rustc's errors land on them. No path to
/// the runtime appears, so a renamed crate needs nothing more.
pub fn expand_call(call: &Invocation) -> TokenStream {
    let receiver = &call.receiver;
    let entry = entry_name("__nnx_call", call);
    let setters = keyword_setters(call, |value, _| quote!(#value));
    let call_ident = Ident::new("__call", call.args_span);
    let positionals = &call.positionals;
    quote! {
        (#receiver).#entry() #(#setters)* .#call_ident(#(#positionals),*)
    }
}

fn entry_name(prefix: &str, call: &Invocation) -> Ident {
    match &call.method {
        Some(method) => format_ident!("{}_{}", prefix, method.unraw(), span = method.span()),
        None => Ident::new(prefix, call.receiver.span()),
    }
}

fn keyword_setters<'a>(
    call: &'a Invocation,
    wrap: impl Fn(&Expr, &Ident) -> TokenStream + 'a,
) -> impl Iterator<Item = TokenStream> + 'a {
    call.keywords.iter().map(move |(name, value)| {
        let value = wrap(value, name);
        quote_spanned!(name.span()=> .#name(#value))
    })
}

pub fn vmap(input: TokenStream) -> TokenStream {
    let (runtime, input) = invocation::split_runtime(input);
    let result = syn::parse2::<VmapInput>(input).and_then(|input| match input.target {
        Expr::Closure(closure) => expand_vmap_closure(closure, &input.options, &runtime),
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
/// so do `&x` and `x.view()`); a broadcast argument is passed as written.
fn slot(value: &Expr, axis: &Axis, runtime: &TokenStream) -> TokenStream {
    let p = private(runtime);
    match axis {
        Axis::Mapped(axis) => {
            // A `&` the user wrote is redundant here (and clippy would say so).
            let value = match value {
                Expr::Reference(reference) if reference.mutability.is_none() => &*reference.expr,
                other => other,
            };
            // A method call (`MapArg`, imported by `expand_vmap_call`): the expression
            // is the argument's own span, so errors point at it.
            quote_spanned!(value.span()=> (&(#value), #axis).__nnx_mapped())
        }
        Axis::Broadcast => quote_spanned!(value.span()=> #p::Broadcast(#value)),
    }
}

fn expand_vmap_call(call: &Invocation, options: &Options, runtime: &TokenStream) -> TokenStream {
    let in_axes = options.in_axes.as_ref();
    let receiver = &call.receiver;
    let entry = entry_name("__nnx_vmap", call);
    let setters = keyword_setters(call, |value, name| {
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
        .map(|axes| quote!(.__out_axes(#axes)));
    let axis_size = options
        .axis_size
        .as_ref()
        .map(|size| quote!(.__axis_size(#size)));
    let run = Ident::new("__run", call.args_span);
    let method_span = call
        .method
        .as_ref()
        .map_or(call.receiver.span(), Ident::span);
    let tail = quote! {
        #(#setters)* #out_axes #axis_size .#run(#(#positionals),*)
    };
    // Mixed-site hygiene: the user's own names never meet these.
    let stack = Ident::new("stack", Span::mixed_site());
    let module = Ident::new("module", Span::mixed_site());
    let p = private(runtime);
    let import = quote!(use #p::MapArg as _;);
    if let Some(self_span) = stacked_receiver(in_axes) {
        // Spanned at `self`, so that `self = 0` on a module that is not a `Stacked` is
        // reported there.
        let first = Ident::new("__nnx_first", self_span);
        quote! {{
            #import
            use #p::StackedReceiver as _;
            let #stack = &mut (#receiver);
            #stack.#first().#entry().__stacked(#stack) #tail
        }}
    } else {
        let broadcast = Ident::new("__broadcast", method_span);
        let unit = quote_spanned!(method_span=> ());
        quote! {{
            #import
            let #module = &(#receiver);
            #module.#entry().#broadcast::<#unit>(#module) #tail
        }}
    }
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
    CallRewriter { modules: &modules }.visit_expr_mut(&mut closure.body);
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
        Some(axes) => quote!(#axes),
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
            let tokens = expand_call(&invocation);
            *expr = syn::parse_quote_spanned!(Span::call_site()=> #tokens);
        }
    }
}
