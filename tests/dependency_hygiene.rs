//! The proc-macro must not pull the HTTP stack into every build that uses it: checked
//! with `cargo tree`, as docs/ARCHITECTURE.md promises ("The proc-macro never sees the HTTP stack").

use std::process::Command;

#[test]
fn the_macro_crate_has_no_http_stack() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-p", "notifier-macros", "-e", "normal,build", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(tree.contains("notifier-schema"), "unexpected tree:\n{tree}");
    for forbidden in ["reqwest ", "hyper ", "tokio ", "rustls "] {
        assert!(!tree.lines().any(|l| l.starts_with(forbidden)), "notifier-macros depends on {forbidden}:\n{tree}");
    }
}
