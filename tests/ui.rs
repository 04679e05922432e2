//! Compile-fail tests: every refusal of #[derive(SharedLayout)] and the compile-time guarantees of the runtime.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
