//! Compile errors of the `select!` family say what is wrong (a missing comma between
//! arms, a future arm outside `select_async!`), instead of pointing into macro internals.

#[test]
fn select_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/select_*.rs");
}
