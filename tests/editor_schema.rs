//! Editor support: `notifier schema --output FILE` writes the schema that `notifier schema`
//! prints and the repository checks in, and the README tells editors where to find it
//! with the schema's own `$id`.

use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn notifier(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier")).args(args).current_dir(dir).output().expect("run notifier")
}

fn checked_in() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("schema/settings.schema.json")).expect("read the checked-in schema")
}

#[test]
fn schema_output_writes_what_schema_prints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let printed = notifier(dir.path(), &["schema"]);
    assert!(printed.status.success());
    assert_eq!(String::from_utf8(printed.stdout).expect("UTF-8"), checked_in());

    // Parent directories are created (`.vscode/` often does not exist yet).
    let written = notifier(dir.path(), &["schema", "--output", ".vscode/notifier/settings.schema.json"]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    assert!(written.stdout.is_empty(), "nothing on stdout with --output");
    let text = std::fs::read_to_string(dir.path().join(".vscode/notifier/settings.schema.json")).expect("written");
    assert_eq!(text, checked_in());

    // A path that cannot be written is an error naming it, exit 2.
    let failed = notifier(dir.path(), &["schema", "-o", ".vscode"]);
    assert_eq!(failed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&failed.stderr).contains(".vscode"), "{failed:?}");
}

#[test]
fn readme_shows_the_modeline_and_the_vscode_setting_with_the_schema_id() {
    let schema: serde_json::Value = serde_json::from_str(&checked_in()).expect("the schema is JSON");
    let id = schema["$id"].as_str().expect("the schema has an $id");
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("read README.md");
    let modeline = format!("# yaml-language-server: $schema={id}");
    assert!(readme.lines().any(|l| l.trim() == modeline), "README.md lacks the line `{modeline}`");
    assert!(
        readme.contains("\"yaml.schemas\"") && readme.contains(&format!("\"{id}\"")),
        "README.md lacks the VS Code `yaml.schemas` setting naming {id}"
    );
    assert!(readme.contains("notifier schema --output"), "README.md does not show `notifier schema --output`");
}
