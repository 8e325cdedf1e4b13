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
            // The outbox goes to $HOME/.local/state too, never the real one.
            .env_remove("XDG_STATE_HOME")
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
        // The outbox goes to $HOME/.local/state too, never the real one.
        .env_remove("XDG_STATE_HOME")
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

/// The real binary interrupted by a real signal (kill(2)) once the experiment has
/// reached its long action: the file `ready` names appears in the run's directory.
#[cfg(target_os = "linux")]
mod signals {
    use super::*;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    /// Waits until `path` exists (and, for the pid file, has been written).
    fn wait_for(path: &Path) {
        let give_up = Instant::now() + Duration::from_secs(60);
        let pid_file = path.extension().is_some_and(|e| e == "pid");
        while !path.exists() || (pid_file && std::fs::read_to_string(path).map_or(true, |t| t.trim().is_empty())) {
            assert!(Instant::now() < give_up, "{} never appeared", path.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `notifier run ARGS`, sends `signal` once `ready` exists, and returns the
    /// exit code (the elapsed-time bound is a hang guard: the action sleeps 30 s).
    fn interrupted(run: &Run, args: &[&str], ready: &Path, signal: i32) -> Option<i32> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_notifier"))
            .arg("--settings")
            .arg(run.dir.path().join("settings.yaml"))
            .arg("run")
            .args(args)
            .current_dir(run.dir.path())
            .env("HOME", run.dir.path())
            // The outbox goes to $HOME/.local/state too, never the real one.
            .env_remove("XDG_STATE_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start notifier");
        let started = Instant::now();
        if let Err(panic) = std::panic::catch_unwind(|| wait_for(ready)) {
            let _ = child.kill();
            std::panic::resume_unwind(panic);
        }
        let pid = i32::try_from(child.id()).expect("pid");
        // SAFETY: kill(2) on the pid of our own child; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.code();
            }
            if started.elapsed() > Duration::from_secs(25) {
                let _ = child.kill();
                panic!("the interrupted run did not end");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether a process runs no more (gone, or a zombie nobody reaped yet).
    fn gone(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        }
    }

    fn log(run: &Run) -> String {
        std::fs::read_to_string(run.dir.path().join("chaostoolkit.log")).expect("log file")
    }

    #[test]
    fn ctrl_c_interrupts_the_run_and_leaves_no_process_behind() {
        let run = Run::new();
        let pid_file = run.dir.path().join("sleep.pid");
        // A shell string (shell=True in chaostoolkit, which leaves this sleep running).
        let experiment = serde_json::json!({
            "title": "Interrupted", "description": "A shell whose child sleeps 30 s.",
            "steady-state-hypothesis": {"title": "ok", "probes": [
                {"type": "probe", "name": "true", "tolerance": 0, "provider": {"type": "process", "path": "true"}}]},
            "method": [
                {"type": "action", "name": "shell-sleep", "provider": {"type": "process", "path": "sleep",
                 "arguments": format!("30 & echo $! > {}; wait", pid_file.display())}},
                {"type": "action", "name": "never-reached", "provider": {"type": "process", "path": "true"}}],
            "rollbacks": [{"type": "action", "name": "rb", "provider": {"type": "process", "path": "true"}}]
        });
        let path = run.dir.path().join("shell.json");
        std::fs::write(&path, experiment.to_string()).expect("write");

        let code = interrupted(&run, &[path.to_str().expect("utf-8")], &pid_file, libc::SIGINT);
        assert_eq!(code, Some(1));
        let journal = run.journal();
        assert_eq!(journal["status"], "interrupted");
        assert_eq!(
            journal["interruption"],
            serde_json::json!({"kind": "signal", "name": "SIGINT", "reason": "received SIGINT"})
        );
        assert_eq!(journal["run"].as_array().map(Vec::len), Some(1), "the second action never ran");
        assert_eq!(journal["run"][0].get("status"), None, "the interrupted record has no status");
        assert_eq!(journal["run"][0]["output"], serde_json::Value::Null);
        assert!(journal["run"][0]["duration"].is_number());
        assert_eq!(journal["steady_states"]["after"], serde_json::Value::Null);
        assert_eq!(journal["rollbacks"], serde_json::json!([]));
        assert_eq!(
            run.events(),
            pairs(&[("/all", "run-started"), ("/all", "run-failed"), ("/failures", "run-failed")])
        );
        assert_eq!(run.sink.requests()[1].json()["payload"], journal, "run-failed carries the journal");
        assert!(log(&run).contains("Received a termination signal (Ctrl-C)..."), "{}", log(&run));

        let pid = std::fs::read_to_string(&pid_file).expect("pid");
        let pid = pid.trim();
        let give_up = Instant::now() + Duration::from_secs(10);
        while !gone(pid) && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(pid), "sleep {pid} outlived the interrupted run");
    }

    #[test]
    fn sigterm_interrupts_the_run_with_the_reference_log_lines() {
        let run = Run::new();
        let dir = format!("dir={}", run.dir.path().display());
        let code = interrupted(
            &run,
            &["--var", &dir, "--rollback-strategy", "always", &experiment("long-action.json")],
            &run.dir.path().join("method-started"),
            libc::SIGTERM,
        );
        assert_eq!(code, Some(1));
        let journal = run.journal();
        assert_eq!(journal["status"], "interrupted");
        assert_eq!(journal["interruption"]["name"], "SIGTERM");
        assert_eq!(journal["rollbacks"][0]["status"], "succeeded", "always plays the rollbacks after a signal");
        assert_eq!(
            run.events(),
            pairs(&[("/all", "run-started"), ("/all", "run-failed"), ("/failures", "run-failed")])
        );
        let log = log(&run);
        assert!(
            log.contains("WARN] [notifier_runner::execute] Caught SIGTERM signal, interrupting experiment now"),
            "{log}"
        );
        assert!(log.contains("ERROR] [notifier_runner::execute] SIGTERM signal received"), "{log}");
    }
}
