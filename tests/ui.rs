//! Compile-fail tests: every refusal of #[derive(SharedLayout)] and the compile-time
//! guarantees of the runtime.

/// Errors the type checker reports (`cargo check`).
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

/// Errors reported only when code is generated (constant assertions of generic functions,
/// which `cargo check` does not evaluate): a `pass` case makes trybuild build.
#[test]
fn ui_build() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui-build/spawn_fn_item.rs");
    t.compile_fail("tests/ui-build/spawn_capturing_closure.rs");
}
