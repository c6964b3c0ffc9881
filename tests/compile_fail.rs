//! Misuse is a compile error at the offending token; each `.stderr` here was read and
//! judged worth showing a user.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
