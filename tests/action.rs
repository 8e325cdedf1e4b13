//! The GitHub Action (`action.yml`): its scripts run here as the runner would run them,
//! with a stand-in GitHub environment (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`,
//! `GITHUB_PATH`, `RUNNER_*`), and `action.yml` checked against the scripts and the
//! README. What cannot run here is GitHub itself: `actions/cache` and the upload of the
//! SARIF file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const BAD: &str = "\
notifications:
  - type: http
    url: https://hooks.example.com/chaos
    verify_tls: \"false\"
    events: [run-fail]
";
const GOOD: &str = "notifications:\n  - type: http\n    url: https://hooks.example.com/chaos\n";
const WARNING: &str = "notifications:\n  - type: http\n    url: https://hooks.example.com/chaos\n    events: []\n";

struct Runner {
    workspace: tempfile::TempDir,
    github: tempfile::TempDir,
}

impl Runner {
    fn new(files: &[(&str, &str)]) -> Runner {
        let workspace = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = workspace.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        Runner { workspace, github: tempfile::tempdir().expect("temp dir") }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.github.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    /// Runs `bash action/SCRIPT args` in the workspace with the action's inputs in `env`.
    fn run(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(Path::new(ROOT).join("action").join(script))
            .args(args)
            .current_dir(self.workspace.path())
            .stdin(Stdio::null())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", self.workspace.path())
            .env("GITHUB_ACTION_PATH", ROOT)
            .env("GITHUB_OUTPUT", self.file("output"))
            .env("GITHUB_STEP_SUMMARY", self.file("summary"))
            .env("GITHUB_PATH", self.file("path"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE", self.file("toolcache"))
            .env("NOTIFIER", env!("CARGO_BIN_EXE_notifier"))
            .env("NO_COLOR", "1")
            .env_remove("NOTIFIER_PATHS")
            .env_remove("NOTIFIER_DENY_WARNINGS")
            .env_remove("NOTIFIER_SARIF_FILE")
            .env_remove("NOTIFIER_ROOT")
            .env_remove("CARGO");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run bash")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
fn assert_status(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(o), String::from_utf8_lossy(&o.stderr));
}

#[test]
fn check_annotates_fails_on_errors_and_writes_sarif_summary_and_outputs() {
    let runner = Runner::new(&[(".chaostoolkit/settings.yaml", BAD), ("ci/good.yaml", GOOD), ("ci/notes.txt", "")]);
    let o = runner.run(
        "check.sh",
        &[],
        &[("NOTIFIER_PATHS", "**/settings.yaml\n  ci/*.yaml"), ("NOTIFIER_SARIF_FILE", "reports/notifier.sarif")],
    );
    assert_status(&o, 1);
    let out = stdout(&o);
    assert!(out.starts_with(&format!("notifier {} (wire: ", env!("CARGO_PKG_VERSION"))), "version first: {out}");
    assert!(
        out.contains("::error file=.chaostoolkit/settings.yaml,line=4,col=17,title=notifier check (not-a-boolean)::"),
        "{out}"
    );
    assert!(out.contains("::error file=.chaostoolkit/settings.yaml,line=5,col=14,"), "{out}");
    assert!(!out.contains("file=ci/good.yaml"), "{out}");

    assert_eq!(runner.read("output"), "exit-code=1\nsarif-file=reports/notifier.sarif\n");
    let sarif: Value = serde_json::from_str(
        &std::fs::read_to_string(runner.workspace.path().join("reports/notifier.sarif")).expect("SARIF written"),
    )
    .expect("SARIF is JSON");
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(uris, [".chaostoolkit/settings.yaml", ".chaostoolkit/settings.yaml"]);
    let summary = runner.read("summary");
    assert!(summary.starts_with("### notifier check\n\n```text\n"), "{summary}");
    assert!(summary.contains("FAILED: 2 files checked, 2 errors, 0 warnings"), "{summary}");
    assert!(summary.contains("--> .chaostoolkit/settings.yaml:4:17"), "{summary}");
}

#[test]
fn check_passes_clean_files_and_fails_warnings_only_when_asked() {
    let runner = Runner::new(&[("a.yaml", GOOD), ("b.yaml", WARNING)]);
    let o = runner.run("check.sh", &[], &[("NOTIFIER_PATHS", "a.yaml b.yaml")]);
    assert_status(&o, 0);
    assert!(stdout(&o).contains("::warning file=b.yaml,line=4,"), "{}", stdout(&o));
    assert_eq!(runner.read("output"), "exit-code=0\nsarif-file=\n");

    let runner = Runner::new(&[("a.yaml", GOOD), ("b.yaml", WARNING)]);
    let o = runner.run("check.sh", &[], &[("NOTIFIER_PATHS", "a.yaml b.yaml"), ("NOTIFIER_DENY_WARNINGS", "true")]);
    assert_status(&o, 1);
    assert_eq!(runner.read("output"), "exit-code=1\nsarif-file=\n");
}

#[test]
fn check_reports_bad_inputs_instead_of_passing() {
    let runner = Runner::new(&[("a.yaml", GOOD)]);
    // The default path does not exist here: an error, not a silent pass.
    let o = runner.run("check.sh", &[], &[("NOTIFIER_PATHS", ".chaostoolkit/settings.yaml")]);
    assert_status(&o, 2);
    assert!(stdout(&o).contains("::error file=.chaostoolkit/settings.yaml"), "{}", stdout(&o));

    let o = runner.run("check.sh", &[], &[("NOTIFIER_PATHS", "missing/**/*.yaml")]);
    assert_status(&o, 2);
    let out = stdout(&o);
    assert!(out.contains("::warning title=notifier check::no file matches 'missing/**/*.yaml'"), "{out}");
    assert!(out.contains("::error title=notifier check::no settings file to check"), "{out}");

    let o = runner.run("check.sh", &[], &[("NOTIFIER_PATHS", "a.yaml"), ("NOTIFIER_DENY_WARNINGS", "yes")]);
    assert_status(&o, 2);
    assert!(stdout(&o).contains("deny-warnings must be true or false"), "{}", stdout(&o));
}

/// A stand-in cargo that records its arguments and installs a stand-in notifier.
fn fake_cargo(dir: &Path) -> PathBuf {
    let cargo = dir.join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" >> '{log}'\nroot=\"${{@: -1}}\"\nmkdir -p \"$root/bin\"\n\
             printf '#!/bin/sh\\necho notifier 9.9.9\\n' > \"$root/bin/notifier\"\nchmod +x \"$root/bin/notifier\"\n",
            log = dir.join("cargo.log").display()
        ),
    )
    .expect("write fake cargo");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    cargo
}

#[test]
fn install_builds_once_with_cargo_install_locked_and_puts_notifier_on_path() {
    let runner = Runner::new(&[]);
    let tools = tempfile::tempdir().expect("temp dir");
    let cargo = fake_cargo(tools.path());
    let cargo = cargo.to_str().expect("UTF-8 path");

    let o = runner.run("install.sh", &["--cache-key"], &[]);
    assert_status(&o, 0);
    let outputs = runner.read("output");
    let root = outputs.lines().find_map(|l| l.strip_prefix("root=")).expect("root output").to_owned();
    let key = outputs.lines().find_map(|l| l.strip_prefix("key=")).expect("key output").to_owned();
    assert!(key.starts_with("notifier-Linux-X64-") && key.len() == "notifier-Linux-X64-".len() + 16, "{key}");
    assert!(root.starts_with(runner.file("toolcache").to_str().unwrap()) && root.ends_with(&key[key.len() - 16..]));
    // The same source gives the same key.
    let again = runner.run("install.sh", &["--cache-key"], &[]);
    assert_status(&again, 0);
    assert_eq!(runner.read("output"), format!("{outputs}{outputs}"));

    let o = runner.run("install.sh", &[], &[("NOTIFIER_ROOT", &root), ("CARGO", cargo)]);
    assert_status(&o, 0);
    let args = std::fs::read_to_string(tools.path().join("cargo.log")).expect("cargo was run");
    assert_eq!(args.lines().collect::<Vec<_>>(), ["install", "--locked", "--path", ROOT, "--root", &root]);
    assert_eq!(runner.read("path"), format!("{root}/bin\n"));

    // A root restored from the cache is used as is: cargo is not run again.
    let o = runner.run("install.sh", &[], &[("NOTIFIER_ROOT", &root), ("CARGO", cargo)]);
    assert_status(&o, 0);
    assert!(stdout(&o).contains("restored from the cache"), "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(tools.path().join("cargo.log")).unwrap().lines().count(), 6);

    // No cargo at all: an error that says what to add.
    let empty = tempfile::tempdir().expect("temp dir");
    let o = runner.run(
        "install.sh",
        &[],
        &[("NOTIFIER_ROOT", empty.path().to_str().unwrap()), ("CARGO", "/nonexistent/cargo")],
    );
    assert_status(&o, 1);
    assert!(stdout(&o).contains("add a Rust toolchain step"), "{}", stdout(&o));
}

/// `action.yml` as JSON, read with the settings compiler's own YAML reader.
fn action() -> Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join("action.yml")).expect("read action.yml");
    let node = notifier::schema::yaml::parse(&text).expect("action.yml is YAML");
    notifier::schema::located::to_json(node.as_ref()).value
}

#[test]
fn action_yml_runs_the_tested_scripts_with_declared_inputs_and_the_readme_documents_them() {
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().expect("inputs");
    let steps = action["runs"]["steps"].as_array().expect("steps");
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(runs.iter().any(|r| r.contains("\"$GITHUB_ACTION_PATH/action/check.sh\"")), "{runs:?}");
    assert!(runs.iter().any(|r| r.trim() == "bash \"$GITHUB_ACTION_PATH/action/install.sh\""), "{runs:?}");

    // Every `inputs.NAME` used is declared, and every input is used.
    let text = std::fs::read_to_string(Path::new(ROOT).join("action.yml")).expect("read action.yml");
    let used: std::collections::BTreeSet<String> = text
        .match_indices("inputs.")
        .map(|(i, _)| text[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '-').collect())
        .collect();
    let declared: std::collections::BTreeSet<String> = inputs.keys().cloned().collect();
    assert_eq!(used, declared);

    // The check step passes exactly the variables check.sh reads.
    let check = steps.iter().find(|s| s["id"] == "check").expect("a step with id check");
    let passed: std::collections::BTreeSet<&str> =
        check["env"].as_object().expect("env").keys().map(String::as_str).collect();
    let script = std::fs::read_to_string(Path::new(ROOT).join("action/check.sh")).expect("read check.sh");
    for var in &passed {
        assert!(script.contains(&format!("${{{var}")), "check.sh does not read {var}");
    }
    assert_eq!(passed, ["NOTIFIER_DENY_WARNINGS", "NOTIFIER_PATHS", "NOTIFIER_SARIF_FILE"].into());
    for output in action["outputs"].as_object().expect("outputs").keys() {
        assert!(script.contains(&format!("echo \"{output}=")), "check.sh does not set the output {output}");
    }

    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("read README.md");
    for (name, input) in inputs {
        assert!(readme.contains(&format!("| `{name}` |")), "README.md does not document the input `{name}`");
        let default = input["default"].as_str().unwrap_or_default();
        assert!(
            default.is_empty() || readme.contains(&format!("`{default}`")),
            "README.md does not give the default of `{name}` ({default})"
        );
    }
}
