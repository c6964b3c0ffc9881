//! Parsing of what `call!` and `vmap!` receive: a method call with keyword arguments,
//! and `vmap!`'s options (`in_axes`, `out_axes`, `axis_size`).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::attr::Errors;

/// `ln(x, mask = m)` or `ln.forward(x, mask = m)`.
pub struct Invocation {
    pub receiver: Expr,
    /// `None` for the module's `#[call]` method.
    pub method: Option<Ident>,
    pub positionals: Vec<Expr>,
    pub keywords: Vec<(Ident, Expr)>,
    /// The parentheses of the argument list, where arity errors point.
    pub args_span: Span,
    /// Mistakes that still leave a call to expand (a repeated keyword, a positional
    /// after keywords): reported beside the expansion, so rustc checks the rest too.
    pub problems: Option<syn::Error>,
}

impl Invocation {
    /// The whole call as written, to name what is generated for it.
    pub fn to_token_string(&self) -> String {
        let mut text = self.head();
        for positional in &self.positionals {
            text.push_str(&positional.to_token_stream().to_string());
        }
        for (name, value) in &self.keywords {
            text.push_str(&format!("{name}={}", value.to_token_stream()));
        }
        text
    }

    /// How the user wrote the call's head, for messages: `ln` or `ln.forward`.
    pub fn head(&self) -> String {
        let receiver = self.receiver.to_token_stream().to_string().replace(' ', "");
        match &self.method {
            Some(method) => format!("{receiver}.{method}"),
            None => receiver,
        }
    }
}

pub fn parse_invocation(expr: Expr) -> syn::Result<Invocation> {
    let (receiver, method, args, args_span) = match expr {
        Expr::Call(call) => (*call.func, None, call.args, call.paren_token.span.join()),
        Expr::MethodCall(call) => (
            *call.receiver,
            Some(call.method),
            call.args,
            call.paren_token.span.join(),
        ),
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "expected a module call: `module(args..)` or `module.method(args..)`, with \
                 keyword arguments written `name = value`",
            ));
        }
    };
    let mut errors = Errors::default();
    let mut positionals = Vec::new();
    let mut keywords: Vec<(Ident, Expr)> = Vec::new();
    for arg in args {
        match classify(arg) {
            Argument::Keyword(name, value) => {
                if let Some((first, _)) = keywords.iter().find(|(k, _)| *k == name) {
                    let mut error = syn::Error::new(
                        name.span(),
                        format!("keyword argument `{name}` is given twice"),
                    );
                    error.combine(syn::Error::new(
                        first.span(),
                        format!("`{name}` is first given here"),
                    ));
                    errors.push(error);
                } else {
                    keywords.push((name, value));
                }
            }
            Argument::Positional(positional) => {
                if let Some((last, _)) = keywords.last() {
                    errors.push(syn::Error::new_spanned(
                        &positional,
                        format!(
                            "positional argument after keyword argument `{last}`; positional \
                             arguments come first, keywords after them in any order"
                        ),
                    ));
                }
                positionals.push(positional);
            }
        }
    }
    Ok(Invocation {
        receiver,
        method,
        positionals,
        keywords,
        args_span,
        problems: errors.finish().err(),
    })
}

enum Argument {
    Keyword(Ident, Expr),
    Positional(Expr),
}

/// `name = value` is a keyword argument; anything else is positional.
fn classify(arg: Expr) -> Argument {
    match arg {
        Expr::Assign(assign) => match &*assign.left {
            Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
                let name = path.path.get_ident().cloned().expect("checked above");
                Argument::Keyword(name, *assign.right)
            }
            _ => Argument::Positional(Expr::Assign(assign)),
        },
        other => Argument::Positional(other),
    }
}

/// What `in_axes` says about one argument.
#[derive(Clone)]
pub enum Axis {
    Mapped(TokenStream),
    Broadcast,
}

/// `in_axes = 0`, or `in_axes = (0, None, mask = 1, self = 0)`.
pub enum InAxes {
    /// One axis for every argument.
    All(Axis),
    Each {
        positional: Vec<Axis>,
        keywords: Vec<(Ident, Axis)>,
        receiver: Option<(Axis, Span)>,
        span: Span,
    },
}

/// Everything after the call or closure.
#[derive(Default)]
pub struct Options {
    pub in_axes: Option<InAxes>,
    pub out_axes: Option<OutAxes>,
    pub axis_size: Option<Expr>,
}

/// `out_axes = 1` or `out_axes = (0, 1)`: one axis per output, or one for all.
pub struct OutAxes {
    pub axes: Vec<TokenStream>,
    /// Written as a tuple (a single axis applies to every output).
    pub tuple: bool,
    pub span: Span,
}

impl OutAxes {
    /// The axes as `out_axes` wrote them, for the closure form and generic methods.
    pub fn written(&self) -> TokenStream {
        let axes = &self.axes;
        if self.tuple {
            quote::quote!((#(#axes),*))
        } else {
            quote::quote!(#(#axes)*)
        }
    }
}

/// `vmap!`'s whole input.
pub struct VmapInput {
    pub target: Expr,
    pub options: Options,
}

impl Parse for VmapInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let target: Expr = input.parse()?;
        let mut options = Options::default();
        let mut errors = Errors::default();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            match name.to_string().as_str() {
                "in_axes" => match parse_in_axes(&value) {
                    Ok(axes) => options.in_axes = Some(axes),
                    Err(error) => errors.push(error),
                },
                "out_axes" => match parse_out_axes(&value) {
                    Ok(axes) => options.out_axes = Some(axes),
                    Err(error) => errors.push(error),
                },
                "axis_size" => options.axis_size = Some(value),
                _ => errors.push(syn::Error::new(
                    name.span(),
                    format!(
                        "unknown vmap! option `{name}`; the options are `in_axes`, `out_axes` \
                         and `axis_size`"
                    ),
                )),
            }
        }
        errors.finish()?;
        Ok(VmapInput { target, options })
    }
}

fn parse_in_axes(value: &Expr) -> syn::Result<InAxes> {
    let elements: Vec<&Expr> = match value {
        Expr::Tuple(tuple) => tuple.elems.iter().collect(),
        Expr::Paren(paren) if matches!(*paren.expr, Expr::Assign(_)) => vec![&*paren.expr],
        single => return Ok(InAxes::All(parse_axis(single)?)),
    };
    let mut errors = Errors::default();
    let mut positional = Vec::new();
    let mut keywords: Vec<(Ident, Axis)> = Vec::new();
    let mut receiver = None;
    for element in elements {
        match element {
            Expr::Assign(assign) => {
                let axis = match parse_axis(&assign.right) {
                    Ok(axis) => axis,
                    Err(error) => {
                        errors.push(error);
                        continue;
                    }
                };
                match &*assign.left {
                    Expr::Path(path) if path.path.is_ident("self") => {
                        receiver = Some((axis, assign.left.span()));
                    }
                    Expr::Path(path) if path.path.get_ident().is_some() => {
                        let name = path.path.get_ident().cloned().expect("checked above");
                        if keywords.iter().any(|(k, _)| *k == name) {
                            errors.push(syn::Error::new(
                                name.span(),
                                format!("in_axes gives `{name}` twice"),
                            ));
                        }
                        keywords.push((name, axis));
                    }
                    other => errors.push(syn::Error::new_spanned(
                        other,
                        "expected a keyword name or `self` before `=` in in_axes",
                    )),
                }
            }
            other => {
                if !keywords.is_empty() {
                    errors.push(syn::Error::new_spanned(
                        other,
                        "in_axes lists positional entries first, then `name = axis` entries",
                    ));
                }
                match parse_axis(other) {
                    Ok(axis) => positional.push(axis),
                    Err(error) => errors.push(error),
                }
            }
        }
    }
    errors.finish()?;
    Ok(InAxes::Each {
        positional,
        keywords,
        receiver,
        span: value.span(),
    })
}

/// An integer literal (possibly negative) or `None`.
fn parse_axis(expr: &Expr) -> syn::Result<Axis> {
    match expr {
        Expr::Path(path) if path.path.is_ident("None") => Ok(Axis::Broadcast),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => Ok(Axis::Mapped(isize_literal(false, int)?)),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(int),
                ..
            }) => Ok(Axis::Mapped(isize_literal(true, int)?)),
            other => Err(axis_error(other)),
        },
        other => Err(axis_error(other)),
    }
}

fn isize_literal(negative: bool, int: &syn::LitInt) -> syn::Result<TokenStream> {
    let value: isize = int.base10_parse()?;
    let value = if negative { -value } else { value };
    let literal = proc_macro2::Literal::isize_suffixed(value.abs());
    let mut literal = literal;
    literal.set_span(int.span());
    Ok(if negative {
        quote::quote!(-#literal)
    } else {
        literal.into_token_stream()
    })
}

fn axis_error(expr: &Expr) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        "an axis is an integer literal (negative counts from the end) or `None` to broadcast",
    )
}

fn parse_out_axes(value: &Expr) -> syn::Result<OutAxes> {
    let axis = |expr: &Expr| match parse_axis(expr)? {
        Axis::Mapped(tokens) => Ok(tokens),
        Axis::Broadcast => Err(syn::Error::new_spanned(
            expr,
            "out_axes cannot be None: every output of a vmapped call has a batch axis",
        )),
    };
    let (axes, tuple) = match value {
        Expr::Tuple(tuple) => (
            tuple
                .elems
                .iter()
                .map(axis)
                .collect::<syn::Result<Vec<_>>>()?,
            true,
        ),
        single => (vec![axis(single)?], false),
    };
    Ok(OutAxes {
        axes,
        tuple,
        span: value.span(),
    })
}

/// Splits off the runtime's path: `nnx`'s `vmap!` passes its own `$crate` first
/// (`$crate; ...`), so generated paths resolve however the user reaches the crate
/// (renamed, or re-exported by another crate). The proc macro invoked directly, without
/// that prefix, names `::nnx`.
pub fn split_runtime(tokens: TokenStream) -> (TokenStream, TokenStream) {
    let mut iter = tokens.clone().into_iter();
    if let (Some(TokenTree::Ident(krate)), Some(TokenTree::Punct(semi))) =
        (iter.next(), iter.next())
        && krate == "$crate"
        && semi.as_char() == ';'
    {
        return (TokenTree::Ident(krate).into(), iter.collect());
    }
    (quote::quote!(::nnx), tokens)
}

pub fn parse_call_input(tokens: TokenStream) -> syn::Result<Invocation> {
    let expr: Expr = syn::parse2(tokens)?;
    parse_invocation(expr)
}
