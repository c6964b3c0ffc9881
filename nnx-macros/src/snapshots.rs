//! Expansion snapshots: what the macros generate for representative inputs, pretty-
//! printed. Read them to learn the design; `UPDATE_EXPECT=1 cargo test -p nnx-macros`
//! rewrites them after an intended change.

use expect_test::{ExpectFile, expect_file};
use proc_macro2::TokenStream;
use quote::quote;

fn pretty_item(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

fn pretty_expr(tokens: TokenStream) -> String {
    pretty_item(quote!(fn expansion() { let _ = #tokens; }))
}

fn check(expected: ExpectFile, actual: String) {
    expected.assert_eq(&actual);
}

#[test]
fn module_on_a_struct() {
    let input = quote! {
        pub struct Block {
            norm: LayerNorm,
            layers: Vec<Linear>,
            gate: Param<Array1<f32>>,
            #[module(skip)]
            name: String,
        }
    };
    check(
        expect_file!["../snapshots/module_struct.expanded.rs"],
        pretty_item(crate::module::expand(TokenStream::new(), input)),
    );
}

#[test]
fn module_on_an_impl() {
    let input = quote! {
        impl LayerNorm {
            #[call]
            #[batched(forward_batched)]
            pub fn forward(
                &self,
                x: ArrayViewD<f32>,
                #[kw] mask: Option<ArrayViewD<bool>>,
            ) -> Result<ArrayD<f32>, ForwardError> {
                self.numerics().forward(x, mask)
            }

            pub fn update(&mut self, x: ArrayViewD<f32>, #[kw(default = 0.5)] rate: f32) -> ArrayD<f32> {
                self.step(x, rate)
            }
        }
    };
    check(
        expect_file!["../snapshots/module_impl.expanded.rs"],
        pretty_item(crate::module::expand(TokenStream::new(), input)),
    );
}

#[test]
fn call_with_a_keyword() {
    let input = quote!(ln(x.view(), mask = m.view()));
    check(
        expect_file!["../snapshots/call.expanded.rs"],
        pretty_expr(crate::call::call(input)),
    );
}

#[test]
fn vmap_of_a_method_call() {
    let input = quote!(ln(xs, mask = ms), in_axes = (1, mask = 1), out_axes = 1);
    check(
        expect_file!["../snapshots/vmap_call.expanded.rs"],
        pretty_expr(crate::call::vmap(input)),
    );
}

#[test]
fn vmap_of_a_stacked_module() {
    let input = quote!(ensemble(xs), in_axes = (0, self = 0));
    check(
        expect_file!["../snapshots/vmap_stacked.expanded.rs"],
        pretty_expr(crate::call::vmap(input)),
    );
}

#[test]
fn vmap_of_a_closure() {
    let input = quote!(
        |op: &LayerNorm, x: ArrayViewD<f32>| op(x, mask = None),
        in_axes = (None, 0)
    );
    check(
        expect_file!["../snapshots/vmap_closure.expanded.rs"],
        pretty_expr(crate::call::vmap(input)),
    );
}

#[test]
fn scan_over_a_stack() {
    let input = quote!(layers(x.view(), mask = m.view()));
    check(
        expect_file!["../snapshots/scan.expanded.rs"],
        pretty_expr(crate::scan::scan(input)),
    );
}
