//! Checks of a `#[module] impl` that the compiler would not make, or would make with a
//! message about generated code instead of the user's.

use syn::Ident;
use syn::ext::IdentExt;

use crate::ast::{Impl, Method};
use crate::attr::{Errors, ParamKind};
use crate::invocation::{Axis, InAxes, Invocation};
use crate::lifetimes::VIEW_ALIASES;
use crate::mentions::{first_mention, type_param_names};

pub fn check_impl(input: &Impl) -> syn::Result<()> {
    let mut errors = Errors::default();
    check_single_call(input, &mut errors);
    check_reserved_generics(&input.item.generics, &mut errors);
    for method in &input.methods {
        check_keyword_types(&input.self_name, method, &mut errors);
        check_keyword_defaults(input, method, &mut errors);
        check_keywords_have_defaults(input, method, &mut errors);
        check_reserved_names(method, &mut errors);
        check_batching_rule(method, &mut errors);
    }
    errors.finish()
}

/// After errors: whether the impl can still be expanded, and if so, `input` reduced to
/// what can: a method whose signature the expansion cannot express is left out, and an
/// attribute that contradicts another is dropped (the first `#[call]` stays the call
/// method). A trait impl or a reserved impl parameter leaves nothing to expand.
pub fn expandable(input: &mut Impl) -> bool {
    if input.item.trait_.is_some() || has_reserved_generic(&input.item.generics) {
        return false;
    }
    let self_name = input.self_name.clone();
    let mut seen_call = false;
    input.methods.retain_mut(|method| {
        if method.call_attr.is_some() {
            if seen_call {
                method.call_attr = None;
            }
            seen_call = true;
        }
        if method.mutates || method.no_vmap {
            method.batching_rule = None;
        }
        let mut errors = Errors::default();
        check_reserved_names(method, &mut errors);
        check_keyword_types(&self_name, method, &mut errors);
        errors.finish().is_ok()
    });
    for method in &mut input.methods {
        for param in &mut method.params {
            if let ParamKind::Keyword { default } = &mut param.kind
                && default
                    .as_ref()
                    .is_some_and(|d| first_mention(d, &["self".to_owned()]).is_some())
            {
                *default = None;
            }
        }
    }
    true
}

fn has_reserved_generic(generics: &syn::Generics) -> bool {
    let mut errors = Errors::default();
    check_reserved_generics(generics, &mut errors);
    errors.finish().is_err()
}

/// Generated code uses `__`-prefixed names (`__recv`, `__O`, `'__a`, ...) next to the
/// user's; reserving the prefix is what keeps the two apart.
fn check_reserved_names(method: &Method, errors: &mut Errors) {
    for param in &method.params {
        if param.ident.to_string().starts_with("__") {
            errors.push(syn::Error::new(
                param.ident.span(),
                "parameter names starting with `__` are reserved for the code nnx generates",
            ));
        }
    }
    check_reserved_generics(&method.generics, errors);
}

fn check_reserved_generics(generics: &syn::Generics, errors: &mut Errors) {
    for param in &generics.params {
        let ident = match param {
            syn::GenericParam::Lifetime(l) => &l.lifetime.ident,
            syn::GenericParam::Type(t) => &t.ident,
            syn::GenericParam::Const(c) => &c.ident,
        };
        if ident.to_string().starts_with("__") {
            errors.push(syn::Error::new(
                ident.span(),
                "generic parameters starting with `__` are reserved for the code nnx generates",
            ));
        }
    }
}

/// Defaults are fixed per method, as Python's are; the builders that hold them are not
/// the module, so `self` would not mean what it says.
fn check_keyword_defaults(input: &Impl, method: &Method, errors: &mut Errors) {
    for param in method.keywords() {
        if let crate::attr::ParamKind::Keyword {
            default: Some(default),
        } = &param.kind
            && first_mention(default, &["self".to_owned()]).is_some()
        {
            errors.push(syn::Error::new_spanned(
                default,
                format!(
                    "the default of `{}` in `{}::{}` uses `self`; defaults are fixed per \
                     method (take an `Option` and resolve it in the body)",
                    param.ident, input.self_name, method.ident
                ),
            ));
        }
    }
}

/// A `#[kw]` that is not an `Option` says its default (`#[kw(default = ..)]`): falling
/// back on `Default::default()` made an omitted `rate: f32` a silent `0.0`, and views
/// have no `Default` at all (rustc would say so about ndarray's `DataOwned`, at the
/// `#[module]` attribute). `Option` is recognised by its name.
fn check_keywords_have_defaults(input: &Impl, method: &Method, errors: &mut Errors) {
    for param in method.keywords() {
        let crate::attr::ParamKind::Keyword { default: None } = &param.kind else {
            continue;
        };
        let syn::Type::Path(path) = &param.ty else {
            errors.push(missing_default(input, method, param, ""));
            continue;
        };
        let Some(last) = path.path.segments.last() else {
            continue;
        };
        if last.ident == "Option" {
            continue;
        }
        let why = if VIEW_ALIASES.contains(&last.ident.to_string().as_str()) {
            " (an array view has no `Default` to fall back on)"
        } else {
            ""
        };
        errors.push(missing_default(input, method, param, why));
    }
}

/// A keyword that may be omitted needs a value to take then: an `Option` is `None`;
/// anything else says its default, so that an omitted `rate: f32` is never a silent
/// `0.0` (Python's `rate=0.5`).
fn missing_default(
    input: &Impl,
    method: &Method,
    param: &crate::ast::Param,
    why: &str,
) -> syn::Error {
    syn::Error::new_spanned(
        &param.ty,
        format!(
            "keyword `{name}` of `{}::{}` has no default{why}: give one with \
             `#[kw(default = ..)]`, or make it an `Option<..>` (omitted: `None`)",
            input.self_name.unraw(),
            method.ident.unraw(),
            name = param.ident.unraw(),
        ),
    )
}

/// A batching rule of a `&mut self` method runs when `vmap!` shares the module on
/// purpose (`self = None`), mutating it once for the whole batch.
fn check_batching_rule(method: &Method, errors: &mut Errors) {
    if let (Some(rule), true) = (&method.batching_rule, method.no_vmap) {
        errors.push(syn::Error::new(
            rule.span(),
            "`#[batched]` and `#[no_vmap]` contradict each other",
        ));
    }
}

/// Like `__call__`, a module has one call method.
fn check_single_call(input: &Impl, errors: &mut Errors) {
    let calls: Vec<&Ident> = input
        .methods
        .iter()
        .filter_map(|m| m.call_attr.as_ref())
        .collect();
    if let [first, rest @ ..] = calls.as_slice() {
        for extra in rest {
            let mut error = syn::Error::new(
                extra.span(),
                format!(
                    "`{}` already has a `#[call]` method; a module has one",
                    input.self_name
                ),
            );
            error.combine(syn::Error::new(first.span(), "the first `#[call]` is here"));
            errors.push(error);
        }
    }
}

/// Keyword values are stored before the call, so their types cannot depend on the
/// method's own type parameters (positional parameters can).
fn check_keyword_types(self_name: &Ident, method: &Method, errors: &mut Errors) {
    let generics = type_param_names(&method.generics, true);
    for param in method.keywords() {
        if let Some(generic) = first_mention(&param.ty, &generics) {
            errors.push(syn::Error::new_spanned(
                &param.ty,
                format!(
                    "keyword parameter `{}` of `{}::{}` uses the method's type parameter \
                     `{generic}`; keyword types must be fixed by the impl (make it positional, \
                     or move `{generic}` to the impl)",
                    param.ident, self_name, method.ident
                ),
            ));
        }
    }
}

/// `in_axes` must fit the call as written: one entry per positional argument, and
/// keyword entries only for keywords the call passes.
pub fn check_in_axes(call: &Invocation, in_axes: &InAxes) -> syn::Result<()> {
    let InAxes::Each {
        positional,
        keywords,
        receiver,
        span,
    } = in_axes
    else {
        return Ok(());
    };
    let mut errors = Errors::default();
    if positional.len() != call.positionals.len() {
        errors.push(syn::Error::new(
            *span,
            format!(
                "in_axes has {} positional {} but `{}(..)` passes {} positional {}; give one \
                 axis (or None) per positional argument, then `name = axis` for keywords",
                positional.len(),
                plural(positional.len(), "entry", "entries"),
                call.head(),
                call.positionals.len(),
                plural(call.positionals.len(), "argument", "arguments"),
            ),
        ));
    }
    for (name, _) in keywords {
        if !call.keywords.iter().any(|(k, _)| k == name) {
            let passed: Vec<String> = call.keywords.iter().map(|(k, _)| k.to_string()).collect();
            let hint = match closest(&name.to_string(), &passed) {
                Some(near) => format!("; did you mean `{near}`?"),
                None if passed.is_empty() => "; it passes no keyword arguments".to_owned(),
                None => format!("; it passes {}", passed.join(", ")),
            };
            errors.push(syn::Error::new(
                name.span(),
                format!(
                    "in_axes names keyword `{name}`, but `{}(..)` passes no `{name}`{hint}",
                    call.head()
                ),
            ));
        }
    }
    if let Some((Axis::Mapped(tokens), span)) = receiver
        && tokens.to_string().replace(' ', "") != "0isize"
    {
        errors.push(syn::Error::new(
            *span,
            "`self` maps over a `Stacked` module along axis 0 only: write `self = 0` or `self = None`",
        ));
    }
    errors.finish()
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The candidate within edit distance 2, as rustc suggests names.
fn closest(name: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}
