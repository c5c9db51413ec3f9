#[test]
fn macro_misuse_is_a_compile_error_at_its_span() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
