//! `.pre-commit-hooks.yaml`: the hook pre-commit installs, and which files it checks.
//! `.ci/integrations.sh` runs pre-commit itself with this hook; this test pins down the
//! hook's definition and its `files` pattern (pre-commit matches it with Python's
//! `re.search`, which agrees with the `regex` crate on this pattern).

use std::path::Path;

use serde_json::Value;

fn hooks() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(path).expect("read .pre-commit-hooks.yaml");
    let node = notifier::schema::yaml::parse(&text).expect(".pre-commit-hooks.yaml is YAML");
    notifier::schema::located::to_json(node.as_ref()).value.as_array().cloned().expect("a list of hooks")
}

#[test]
fn the_hook_runs_notifier_check_built_with_cargo() {
    let hooks = hooks();
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(hook["id"], "notifier-check");
    assert_eq!(hook["language"], "rust");
    assert_eq!(hook["entry"], "notifier check");
    assert_eq!(hook["types"], serde_json::json!(["yaml"]));
    // `check` takes the file names pre-commit passes.
    assert!(hook.get("pass_filenames").is_none_or(|v| v == true));
}

#[test]
fn the_hook_checks_chaos_toolkit_settings_files_and_nothing_else() {
    let hooks = hooks();
    let pattern = hooks[0]["files"].as_str().expect("a files pattern");
    let re = regex::Regex::new(pattern).expect("a valid pattern");
    for name in [
        ".chaostoolkit/settings.yaml",
        ".chaostoolkit/settings.yml",
        "envs/prod/.chaostoolkit/settings.yaml",
        "chaostoolkit/settings.yaml",
        "chaostoolkit-settings.yaml",
        "ci/chaostoolkit_settings.yml",
        ".chaostoolkit-settings.yaml",
    ] {
        assert!(re.is_match(name), "`{name}` is a settings file the hook must check");
    }
    for name in [
        "settings.yaml",
        "other.yaml",
        ".github/workflows/ci.yml",
        "xchaostoolkit/settings.yaml",
        ".chaostoolkit/settings.yaml.bak",
        ".chaostoolkit/experiment.yaml",
        "chaostoolkit/settings.json",
    ] {
        assert!(!re.is_match(name), "`{name}` is not a settings file");
    }
}
