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
    assert!(err.contains("basic.yaml:14:5: plugin module `acme.recorder` (channel #3) is not mapped to Rust"), "{err}");
    let (code, _, err) = codegen(&["tests/ui/unknown_event.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown event `run-fail`"), "{err}");
    let (code, _, err) = codegen(&["tests/settings/basic.yaml", "--plugin", "acme.recorder=not a path"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = codegen(&["no/such/file.yaml"]);
    assert_eq!(code, 2);
}
