//! Code the macros must refuse, each with one clear error at the right
//! token. The expected compiler output is in `tests/compile_fail/*.stderr`;
//! regenerate with `TRYBUILD=overwrite cargo test --test compile_fail` and
//! read the diff.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
