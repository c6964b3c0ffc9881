//! rustc prints a generated struct with its parameters as declared
//! (`LayerNorm_forward_keywords<'__m, '__a>`), so the expansion is written with
//! `__`-names that cannot meet the user's and then given short ones (`'m`, `'a`, `R`)
//! wherever the user's impl does not already use that name.

use std::collections::HashSet;

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::ToTokens;

/// Generated lifetimes, then generated type parameters, each with the short names to
/// try in order.
const LIFETIMES: &[(&str, &[&str])] = &[
    ("__m", &["m", "module", "mo"]),
    ("__a", &["a", "arg", "data"]),
];
const TYPES: &[(&str, &[&str])] = &[
    ("__R", &["R", "Recv"]),
    ("__O", &["O", "OutAxes"]),
    ("__P", &["P", "NewAxes"]),
];

pub fn shorten(generated: TokenStream, user: &impl ToTokens) -> TokenStream {
    let mut taken = Taken::default();
    taken.collect(user.to_token_stream());
    let free = |names: &[(&'static str, &'static [&'static str])],
                taken: &HashSet<String>|
     -> Vec<(&'static str, &'static str)> {
        names
            .iter()
            .filter_map(|(long, shorts)| {
                let short = shorts.iter().find(|short| !taken.contains(**short))?;
                Some((*long, *short))
            })
            .collect()
    };
    rename(
        generated,
        &free(LIFETIMES, &taken.lifetimes),
        &free(TYPES, &taken.idents),
    )
}

/// The user's names, lifetimes apart: `'module` does not clash with a field `module`.
#[derive(Default)]
struct Taken {
    lifetimes: HashSet<String>,
    idents: HashSet<String>,
}

impl Taken {
    fn collect(&mut self, tokens: TokenStream) {
        let mut after_quote = false;
        for token in tokens {
            match &token {
                TokenTree::Ident(ident) if after_quote => {
                    self.lifetimes.insert(ident.to_string());
                }
                TokenTree::Ident(ident) => {
                    self.idents.insert(ident.to_string());
                }
                TokenTree::Group(group) => self.collect(group.stream()),
                _ => {}
            }
            after_quote = matches!(&token, TokenTree::Punct(p) if p.as_char() == '\'');
        }
    }
}

fn rename(tokens: TokenStream, lifetimes: &[(&str, &str)], types: &[(&str, &str)]) -> TokenStream {
    let mut after_quote = false;
    tokens
        .into_iter()
        .map(|token| {
            let token = match token {
                TokenTree::Group(group) => {
                    let mut renamed =
                        Group::new(group.delimiter(), rename(group.stream(), lifetimes, types));
                    renamed.set_span(group.span());
                    TokenTree::Group(renamed)
                }
                TokenTree::Ident(ident) => {
                    let table = if after_quote { lifetimes } else { types };
                    let text = ident.to_string();
                    match table.iter().find(|(long, _)| *long == text) {
                        Some((_, short)) => {
                            TokenTree::Ident(proc_macro2::Ident::new(short, ident.span()))
                        }
                        None => TokenTree::Ident(ident),
                    }
                }
                other => other,
            };
            after_quote = matches!(&token, TokenTree::Punct(p) if p.as_char() == '\'');
            token
        })
        .collect()
}
