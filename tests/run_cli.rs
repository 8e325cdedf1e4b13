//! `notifier run` and `notifier validate` end to end: the real binary, real experiments
//! (real processes), a settings file whose http channel points at a local server. Each
//! test asserts the exit code, the journal and the exact sequence of events received.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use notifier_test_support::{Recorded, Reply, Sink};

struct Run {
    dir: tempfile::TempDir,
    sink: Sink,
}

impl Run {
    fn new() -> Run {
        Run::with_sink(Sink::start())
    }

    fn with_sink(sink: Sink) -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = format!(
            "notifications:\n  - type: http\n    url: {}\n  - type: http\n    url: {}\n    events: [run-failed, run-deviated, validate-failed]\n",
            sink.url("/all"),
            sink.url("/failures")
        );
        std::fs::write(dir.path().join("settings.yaml"), settings).expect("write settings");
        Run { dir, sink }
    }

    fn notifier(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_notifier"))
            .arg("--settings")
            .arg(self.dir.path().join("settings.yaml"))
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .output()
            .expect("run notifier")
    }

    fn events(&self) -> Vec<(String, String)> {
        self.sink.requests().iter().map(|r| (r.path.clone(), name(r))).collect()
    }

    fn journal(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.path().join("journal.json")).expect("journal.json was written");
        serde_json::from_str(&text).expect("the journal is JSON")
    }
}

fn name(r: &Recorded) -> String {
    r.json()["name"].as_str().unwrap_or_default().to_owned()
}

fn experiment(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/experiments").join(name).display().to_string()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(p, n)| (p.to_string(), n.to_string())).collect()
}

#[test]
fn a_healthy_run_sends_started_then_completed() {
    let run = Run::new();
    let out = run.notifier(&["run", &experiment("local-health.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(run.events(), pairs(&[("/all", "run-started"), ("/all", "run-completed")]));
    let journal = run.journal();
    assert_eq!(journal["status"], "completed");
    assert_eq!(journal["deviated"], false);
    // run-started carries the experiment as loaded; run-completed the journal.
    let reqs = run.sink.requests();
    assert_eq!(reqs[0].json()["payload"]["title"], journal["experiment"]["title"]);
    assert_eq!(reqs[1].json()["payload"]["status"], "completed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("notifications: 2 of 2 delivered"), "{stderr}");
}

#[test]
fn a_deviated_run_sends_completed_then_deviated_and_exits_1() {
    let run = Run::new();
    let out = run.notifier(&["run", &experiment("deviated.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        run.events(),
        pairs(&[
            ("/all", "run-started"),
            ("/all", "run-completed"),
            ("/all", "run-deviated"),
            ("/failures", "run-deviated"),
        ])
    );
    assert_eq!(run.journal()["deviated"], true);
}

#[test]
fn a_failing_probe_sends_run_failed() {
    let run = Run::new();
    let out = run.notifier(&["run", &experiment("failing-probe.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(run.events(), pairs(&[("/all", "run-started"), ("/all", "run-failed"), ("/failures", "run-failed")]));
    assert_eq!(run.journal()["status"], "failed");
}

#[test]
fn an_invalid_experiment_ends_with_run_failed_and_its_error() {
    let run = Run::new();
    let out = run.notifier(&["run", &experiment("invalid-no-description.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(run.events(), pairs(&[("/all", "run-started"), ("/all", "run-failed"), ("/failures", "run-failed")]));
    let failed = &run.sink.requests()[1].json();
    assert_eq!(failed["error"], "An exception was raised: InvalidExperiment('experiment requires a description')");
}

#[test]
fn validate_sends_started_then_completed_or_failed() {
    let run = Run::new();
    let ok = run.notifier(&["validate", &experiment("local-health.yaml")]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let bad = run.notifier(&["validate", &experiment("invalid-no-description.json")]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        run.events(),
        pairs(&[
            ("/all", "validate-started"),
            ("/all", "validate-completed"),
            ("/all", "validate-started"),
            ("/all", "validate-failed"),
            ("/failures", "validate-failed"),
        ])
    );
}

#[test]
fn failing_channels_never_change_the_outcome() {
    let run = Run::with_sink(Sink::with(|r, _| if r.path == "/all" { Reply::status(500) } else { Reply::ok() }));
    let out = run.notifier(&["run", &experiment("local-health.json")]);
    assert_eq!(out.status.code(), Some(0), "the run's exit code is the run's");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 of 2 notifications failed"), "{stderr}");
    let log = std::fs::read_to_string(run.dir.path().join("chaostoolkit.log")).expect("log file");
    assert!(log.contains("failed with: 500 Server Error: Internal Server Error"), "{log}");
}

#[test]
fn without_settings_the_embedded_default_announces_events_on_stderr_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["run", &experiment("local-health.json")])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .expect("run notifier");
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Standard output is the run's report only, as with `chaos run`: no envelope.
    assert!(!stdout.lines().any(|l| l.starts_with('{') || l.contains("[notifier]")), "{stdout}");
    assert!(stdout.contains("Result: completed"), "{stdout}");
    let notices: Vec<&str> = stderr.lines().filter(|l| l.starts_with("[notifier] ")).collect();
    assert_eq!(
        notices,
        [
            "[notifier] run-started: This machine can run its tools",
            "[notifier] run-completed: This machine can run its tools (status completed)"
        ],
        "{stderr}"
    );
    let journal: PathBuf = dir.path().join("journal.json");
    assert!(journal.exists());
}
