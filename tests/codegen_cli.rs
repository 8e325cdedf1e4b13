//! `notifier codegen`: the generated code, as snapshots (insta), and its errors.

use std::process::Command;

fn codegen(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_notifier")).arg("codegen").args(args).output().expect("run notifier");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn generated_code_for_the_equivalence_settings() {
    let (code, out, err) = codegen(&["tests/settings/basic.yaml", "--plugin", "acme.recorder=crate::recorder"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("t0ken"), "no secret value is generated");
    insta::assert_snapshot!("basic", out);
}

#[test]
fn generated_code_for_the_documented_example() {
    let (code, out, err) = codegen(&["examples/settings.yaml", "--module", "chaos"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("documented_example", out);
}

#[test]
fn unmapped_plugins_and_invalid_files_are_errors() {
    let (code, _, err) = codegen(&["tests/settings/basic.yaml"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "error[unmapped-plugin]: plugin module `acme.recorder` (function `notify`) is not mapped to Rust \
             (channel #3)\n  --> tests/settings/basic.yaml:14:5"
        ),
        "{err}"
    );
    let (code, _, err) = codegen(&["tests/ui/unknown_event.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown event `run-fail`"), "{err}");
    let (code, _, err) = codegen(&["tests/settings/basic.yaml", "--plugin", "acme.recorder=not a path"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = codegen(&["no/such/file.yaml"]);
    assert_eq!(code, 2);
}

/// A file with a warning the macro shows (`verify_tls: false`) and two it does not (an
/// unset variable, a plugin module that is not built in).
const WARNINGS: &str = "\
notifications:
  - type: http
    url: ${NOTIFIER_TEST_VARIABLE_THAT_IS_NEVER_SET_7F3A}/hook
    verify_tls: false
  - type: plugin
    module: acme.hooks
";

#[test]
fn warnings_are_shown_on_stderr_with_the_macros_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.yaml");
    std::fs::write(&path, WARNINGS).unwrap();
    let path = path.to_str().unwrap();
    let (code, out, err) = codegen(&[path, "--plugin", "acme.hooks=crate::hooks"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pub mod settings"), "{out}");
    assert!(err.contains("warning[tls-verification-off]: TLS certificate verification is disabled"), "{err}");
    assert!(err.contains(&format!("{path}:4:17")), "{err}");
    assert!(!err.contains("unset-variable") && !err.contains("unknown-plugin"), "{err}");
    // The same filter as the macro's, from the same function.
    let compiled = notifier::schema::compile_file(std::path::Path::new(path)).unwrap();
    let shown: Vec<_> =
        compiled.diagnostics.iter().filter(|d| notifier::schema::build::shown_when_building(d)).collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(err.matches("warning[").count(), 1, "{err}");
}

#[test]
fn an_unmapped_plugin_is_said_the_same_way_by_codegen_and_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.yaml");
    std::fs::write(&path, WARNINGS).unwrap();
    let (code, out, err) = codegen(&[path.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    let loaded = notifier::load_channels(&path, &notifier::PluginRegistry::new()).unwrap();
    let [unresolved] = loaded.unresolved.as_slice() else { panic!("{:?}", loaded.unresolved) };
    assert_eq!(
        unresolved.message(),
        "plugin module `acme.hooks` (function `notify`) is not mapped to Rust (channel #2)"
    );
    assert!(err.contains(&format!("error[unmapped-plugin]: {}", unresolved.message())), "{err}");
    assert!(err.contains(&format!("help: {}", unresolved.help())), "{err}");
    assert!(err.contains(&format!("{}:5:5", path.display())), "{err}");
}
