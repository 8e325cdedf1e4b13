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

/// `cargo tree` of the `notifier` package with `features`, one crate name per line.
fn tree(features: &[&str], edges: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args =
        vec!["tree", "--offline", "-p", "notifier", "--no-default-features", "-e", edges, "--prefix", "none"];
    let joined = features.join(",");
    if !features.is_empty() {
        args.extend(["--features", joined.as_str()]);
    }
    let out = Command::new(cargo).args(&args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn crate_names(tree: &str) -> std::collections::BTreeSet<&str> {
    tree.lines().filter_map(|l| l.split_whitespace().next()).collect()
}

/// docs/EMBEDDING.md: the lean library (`default-features = false, features = ["macros"]`)
/// runs the compiled-in table, the dispatcher and the HTTP transport, and links nothing of
/// the command line, the runner, the code generator or the JSON Schema validator.
#[test]
fn the_lean_library_links_no_command_line_runner_or_codegen() {
    for features in [&[][..], &["macros"], &["macros", "python"]] {
        let run_time = tree(features, "normal,no-proc-macro");
        let names = crate_names(&run_time);
        assert!(names.contains("notifier-core") && names.contains("reqwest"), "{features:?}:\n{run_time}");
        for forbidden in [
            "clap",
            "tracing-subscriber",
            "annotate-snippets",
            "regex",
            "notifier-runner",
            "notifier-schema",
            "syn",
            "prettyplease",
            "jsonschema",
            "serde_json_path",
        ] {
            assert!(!names.contains(forbidden), "{features:?} links {forbidden}:\n{run_time}");
        }
    }
    // Building it (the proc-macro included) needs no JSON Schema validator either, and
    // stays within the crate budget of issue #17.
    let build = tree(&["macros"], "normal");
    let names = crate_names(&build);
    assert!(names.contains("notifier-macros") && !names.contains("jsonschema"), "{build}");
    assert!(!names.contains("prettyplease") && !names.contains("clap"), "{build}");
    assert!(names.len() <= 130, "{} crates in the lean build:\n{build}", names.len());
    // The loader brings the compiler (with its JSON Schema safety net), not the CLI.
    let loader =
        crate_names(&tree(&["loader"], "normal,no-proc-macro")).into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert!(loader.iter().any(|n| n == "notifier-schema") && loader.iter().any(|n| n == "jsonschema"));
    assert!(!loader.iter().any(|n| n == "clap" || n == "notifier-runner" || n == "syn"), "{loader:?}");
}
