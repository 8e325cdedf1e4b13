//! `notifier run` / `notifier validate` with Python, end to end: the real binary, the
//! interpreter of a chaostoolkit 1.21.4 / chaostoolkit-lib 1.45.1 virtualenv given with
//! `--python` (through a wrapper script that records each start), the fixture modules of
//! runner/tests/fixtures/python on PYTHONPATH, a settings file with an http channel to a
//! local sink (and, in one test, a global control).

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use notifier_test_support::{Sink, ctk_python};
use serde_json::{Value, json};

struct Run {
    dir: tempfile::TempDir,
    sink: Sink,
}

impl Run {
    fn new(settings_extra: &str) -> Run {
        let sink = Sink::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = format!("notifications:\n  - type: http\n    url: {}\n{settings_extra}", sink.url("/all"));
        std::fs::write(dir.path().join("settings.yaml"), settings).expect("write settings");
        // `--python` is a wrapper that leaves a mark each time it is started.
        let wrapper = dir.path().join("python");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho started >> '{}'\nexec '{}' \"$@\"\n",
                dir.path().join("starts").display(),
                ctk_python().display()
            ),
        )
        .expect("write wrapper");
        let mut perms = std::fs::metadata(&wrapper).expect("wrapper").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&wrapper, perms).expect("chmod");
        Run { dir, sink }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_notifier"));
        command
            .arg("--settings")
            .arg(self.dir.path().join("settings.yaml"))
            .arg("--python")
            .arg(self.dir.path().join("python"))
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            // The outbox goes to $HOME/.local/state too, never the real one.
            .env_remove("XDG_STATE_HOME")
            .env("PYTHONPATH", fixtures())
            .env("NOTIFIER_CONTROL_LOG", self.dir.path().join("controls.jsonl"))
            .env_remove("NOTIFIER_PYTHON")
            .env_remove("VIRTUAL_ENV");
        command
    }

    fn notifier(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run notifier")
    }

    /// How many times the interpreter was started.
    fn python_starts(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("starts")).map(|s| s.lines().count()).unwrap_or(0)
    }

    fn events(&self) -> Vec<String> {
        self.sink.requests().iter().map(|r| r.json()["name"].as_str().unwrap_or_default().to_owned()).collect()
    }

    fn journal(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join("journal.json")).expect("journal.json was written");
        serde_json::from_str(&text).expect("the journal is JSON")
    }

    fn experiment(&self, experiment: &Value) -> String {
        let path = self.dir.path().join("experiment.json");
        std::fs::write(&path, experiment.to_string()).expect("write experiment");
        path.display().to_string()
    }

    fn control_hooks(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("controls.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let e: Value = serde_json::from_str(l).expect("log line");
                format!("{} {}", e["hook"].as_str().unwrap_or_default(), e["label"].as_str().unwrap_or_default())
            })
            .collect()
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runner/tests/fixtures/python")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/experiments").join(name).display().to_string()
}

#[test]
fn python_starts_only_when_the_experiment_needs_it_and_then_once() {
    let run = Run::new("");
    let out = run.notifier(&["run", &example("local-health.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(run.python_starts(), 0, "no Python for an experiment without Python");
    let out = run.notifier(&["validate", &example("local-health.json")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(run.python_starts(), 0);

    let out = run.notifier(&["run", &example("python-provider.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(run.python_starts(), 1, "one interpreter for validation and every activity");
    let journal = run.journal();
    assert_eq!(journal["status"], "completed");
    assert_eq!(journal["run"][0]["output"], "Linux");
    assert_eq!(journal["run"][1]["output"], "journal.json");
    assert_eq!(journal["steady_states"]["before"]["probes"][0]["output"], true);
}

#[test]
fn global_controls_from_the_settings_wrap_the_whole_run() {
    let settings = "controls:\n  G:\n    provider:\n      type: python\n      module: ctkctl\n      arguments:\n        label: G\n";
    let run = Run::new(settings);
    let experiment = json!({"title": "t", "description": "d", "method": [
        {"type": "action", "name": "m1", "provider": {"type": "python", "module": "ctkacts", "func": "echo", "arguments": {"value": 1}}}
    ]});
    let out = run.notifier(&["run", &run.experiment(&experiment)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        run.control_hooks(),
        [
            "before_loading_experiment_control G",
            "after_loading_experiment_control G",
            "configure_control G",
            "before_experiment_control G",
            "before_method_control G",
            "before_activity_control G",
            "after_activity_control G",
            "after_method_control G",
            "before_rollback_control G",
            "after_rollback_control G",
            "after_experiment_control G",
            "cleanup_control ",
        ]
    );
    assert_eq!(run.events(), ["run-started", "run-completed"]);
    assert_eq!(run.python_starts(), 1);
}

#[test]
fn validate_reports_python_problems_with_the_reference_messages() {
    let run = Run::new("");
    let out = run.notifier(&["validate", &example("python/bad-arguments.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(run.events(), ["validate-started", "validate-failed"]);
    assert_eq!(
        run.sink.requests()[1].json()["error"],
        "An exception was raised: InvalidActivity('argument 'colour' is not part of the function signature in activity 'greet'')"
    );
}

#[test]
fn ctrl_c_interrupts_a_python_function_and_the_run_ends_with_its_journal() {
    let run = Run::new("");
    let dir = format!("dir={}", run.dir.path().display());
    let mut child = run
        .command(&["run", "--var", &dir, &example("python/sleep-interrupted.json")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start notifier");
    let started = Instant::now();
    let marker = run.dir.path().join("sleeping");
    while !marker.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    if !marker.exists() {
        let _ = child.kill();
        panic!("the python action never started");
    }
    std::thread::sleep(Duration::from_millis(100));
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on the pid of our own child; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(25) {
            let _ = child.kill();
            panic!("the interrupted run did not end (the 30 s sleep was not cut short)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(code, Some(1));
    let journal = run.journal();
    assert_eq!(journal["status"], "interrupted");
    assert_eq!(journal["interruption"]["name"], "SIGINT");
    assert!(journal["run"][0].get("status").is_none());
    assert_eq!(journal["run"].as_array().map(Vec::len), Some(1));
    assert_eq!(run.events(), ["run-started", "run-failed"]);
    let hooks = run.control_hooks();
    assert_eq!(hooks.last().map(String::as_str), Some("cleanup_control "), "{hooks:?}");
    assert!(hooks.contains(&"after_method_control T".to_string()), "{hooks:?}");
}
