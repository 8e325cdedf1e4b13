//! `settings!` compile errors, as users see them (trybuild). The `.stderr` files show
//! each problem's YAML `file:line:col`; regenerate with `TRYBUILD=overwrite` after a
//! deliberate change of wording (and review the diff).

#[test]
fn settings_macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
