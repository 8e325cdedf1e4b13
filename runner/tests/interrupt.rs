//! Real signals to a real process running the runner: this test binary starts itself
//! again as a child (the ignored test `signal_child`, which connects the process's
//! signals with `forward_signals` and runs an experiment with `run_interruptible`,
//! POSTing every event to this process's loopback server), waits until the experiment
//! has reached the activity to interrupt (it touches a file), sends the signal with
//! kill(2), and checks the exit code, the journal on disk, the events the server
//! received and that no process of the activity is left.
//!
//! The elapsed-time bounds are hang guards only (an uninterrupted activity sleeps 30 s).
#![cfg(target_os = "linux")]

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use common::{HttpChannel, Server, example, names};
use notifier_runner::RunArgs;
use serde_json::{Value, json};
use tempfile::TempDir;

const CHILD_SPEC: &str = "NOTIFIER_RUNNER_SIGNAL_CHILD";

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    Run(RunArgs),
}

/// The child: `{"argv": [...], "port": N, "journal": PATH}` in the environment.
#[test]
#[ignore = "the child process of the other tests of this file, which start it themselves"]
fn signal_child() {
    // Run by hand (or with --include-ignored) it has nothing to do.
    let Ok(spec) = std::env::var(CHILD_SPEC) else { return };
    let spec: Value = serde_json::from_str(&spec).expect("spec");
    let argv: Vec<String> = serde_json::from_value(spec["argv"].clone()).expect("argv");
    let Cli { command: Sub::Run(args) } = Cli::try_parse_from(&argv).expect("arguments");
    let port = u16::try_from(spec["port"].as_u64().expect("port")).expect("a port");
    let channel = HttpChannel::to_port(port, Path::new(spec["journal"].as_str().expect("journal")));
    let interrupt = notifier_runner::Interrupt::new();
    let _signals = notifier_runner::interrupt::forward_signals(&interrupt).expect("signal handling");
    let outcome = notifier_runner::run_interruptible(&args, &channel, &mut std::io::stdout(), &interrupt);
    std::process::exit(outcome.map_or(2, |o| o.exit_code));
}

struct Child_ {
    child: Child,
    started: Instant,
    tmp: TempDir,
    server: Server,
}

/// Starts the child on `experiment` with `extra` arguments (`<tmp>` stands for its
/// temporary directory).
fn start(experiment: &Path, extra: &[&str]) -> Child_ {
    let tmp = TempDir::new().expect("tmp");
    let server = Server::start();
    let journal = tmp.path().join("journal.json");
    let mut argv: Vec<String> =
        vec!["notifier".into(), "run".into(), "--journal-path".into(), journal.to_string_lossy().into_owned()];
    argv.extend(extra.iter().map(|a| a.replace("<tmp>", &tmp.path().to_string_lossy())));
    argv.push(experiment.to_string_lossy().into_owned());
    let spec = json!({"argv": argv, "port": server.port, "journal": journal});
    let child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["signal_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_SPEC, spec.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    Child_ { child, started: Instant::now(), tmp, server }
}

impl Child_ {
    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Waits for the file the experiment touches, then sends `signal` to the child.
    fn signal_after(&self, file: &str, signal: i32) {
        let file = self.path(file);
        let give_up = Instant::now() + Duration::from_secs(60);
        while !file.exists() {
            assert!(Instant::now() < give_up, "{} never appeared", file.display());
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill");
    }

    /// Waits for the child (60 s at most, a hang guard) and returns its exit code,
    /// journal and the events the server received.
    fn finish(mut self) -> Finished {
        let give_up = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > give_up {
                let _ = self.child.kill();
                panic!("the interrupted run did not end");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        let journal_path = self.path("journal.json");
        let output = self.child.wait_with_output().expect("output");
        let journal =
            std::fs::read(journal_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
        Finished {
            exit_code: status.code(),
            elapsed,
            journal,
            events: self.server.events(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            tmp: self.tmp,
        }
    }
}

struct Finished {
    exit_code: Option<i32>,
    elapsed: Duration,
    journal: Value,
    events: Vec<Value>,
    stdout: String,
    tmp: TempDir,
}

impl Finished {
    fn assert_interrupted(&self, interruption: Option<&str>) {
        assert_eq!(self.exit_code, Some(1), "{}", self.stdout);
        assert!(self.elapsed < Duration::from_secs(25), "hang guard: {:?}", self.elapsed);
        assert_eq!(self.journal["status"], "interrupted", "{}", self.stdout);
        assert_eq!(self.journal["deviated"], false);
        assert_eq!(self.journal["steady_states"]["after"], Value::Null, "no hypothesis after an interruption");
        let expected =
            interruption.map(|name| json!({"kind": "signal", "name": name, "reason": format!("received {name}")}));
        assert_eq!(self.journal.get("interruption"), expected.as_ref());
        if expected.is_some() {
            let keys: Vec<&String> = self.journal.as_object().map(|m| m.keys().collect()).unwrap_or_default();
            assert_eq!(keys.last().map(|k| k.as_str()), Some("interruption"), "the reference's key order");
        }
        assert_eq!(names(&self.events), ["run-started", "run-failed"]);
        assert_eq!(self.events[1]["payload"], self.journal, "run-failed carries the journal");
    }
}

/// The record of an activity a signal stopped: no status, no output, times set.
fn assert_stopped(record: &Value, name: &str) {
    assert_eq!(record["activity"]["name"], name);
    let keys: Vec<&str> = record.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys, ["activity", "output", "start", "end", "duration"], "{record}");
    assert_eq!(record["output"], Value::Null);
}

/// Whether a process runs no more (gone, or a zombie nobody reaped yet).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn write(tmp: &TempDir, name: &str, experiment: &Value) -> PathBuf {
    let path = tmp.path().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(experiment).expect("json")).expect("write");
    path
}

/// A shell-string action whose `sleep 30` is a child of the shell (the reference
/// leaves it running when interrupted).
fn shell_sleep_experiment(dir: &Path) -> Value {
    json!({
        "title": "A shell whose child sleeps",
        "description": "The sleep is the shell's child, not the shell itself.",
        "steady-state-hypothesis": {"title": "ok", "probes": [
            {"type": "probe", "name": "true", "tolerance": 0, "provider": {"type": "process", "path": "true"}}]},
        "method": [
            {"type": "action", "name": "shell-sleep", "provider": {"type": "process", "path": "sleep",
             "arguments": format!("30 & echo $! > {}/sleep.pid; wait", dir.display())}},
            {"type": "action", "name": "never-reached", "provider": {"type": "process", "path": "true"}}
        ],
        "rollbacks": [{"type": "action", "name": "rb", "provider": {"type": "process", "path": "true"}}]
    })
}

#[test]
fn sigint_ends_the_shell_action_and_its_children_and_skips_the_rest() {
    let dir = TempDir::new().expect("tmp");
    let experiment = write(&dir, "shell.json", &shell_sleep_experiment(dir.path()));
    let child = start(&experiment, &[]);
    let pid_file = dir.path().join("sleep.pid");
    let give_up = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&pid_file).map_or(true, |p| p.trim().is_empty()) {
        assert!(Instant::now() < give_up, "the action never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(i32::try_from(child.child.id()).expect("pid"), libc::SIGINT) }, 0);
    let done = child.finish();
    done.assert_interrupted(Some("SIGINT"));
    let run = done.journal["run"].as_array().cloned().unwrap_or_default();
    assert_eq!(run.len(), 1, "the second action never ran: {run:?}");
    assert_stopped(&run[0], "shell-sleep");
    assert_eq!(done.journal["steady_states"]["before"]["steady_state_met"], true);
    assert_eq!(done.journal["rollbacks"], json!([]), "the default strategy plays no rollback after a signal");
    assert!(done.stdout.contains("interrupted by SIGINT"), "{}", done.stdout);

    let pid = std::fs::read_to_string(&pid_file).expect("pid");
    let pid = pid.trim();
    let give_up = Instant::now() + Duration::from_secs(10);
    while !gone(pid) && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone(pid), "sleep {pid}, the shell's child, outlived the interrupted run");
}

#[test]
fn sigterm_with_rollbacks_always_plays_them_and_a_second_sigterm_stops_them() {
    let child = start(
        &example("long-action.json"),
        &["--var", "dir=<tmp>", "--var", "rollback_seconds=30", "--rollback-strategy", "always"],
    );
    child.signal_after("method-started", libc::SIGTERM);
    child.signal_after("rollback-started", libc::SIGTERM);
    let done = child.finish();
    done.assert_interrupted(Some("SIGTERM"));
    assert_stopped(&done.journal["run"][0], "sleep-30-seconds");
    let rollbacks = done.journal["rollbacks"].as_array().cloned().unwrap_or_default();
    assert_eq!(rollbacks.len(), 1);
    assert_stopped(&rollbacks[0], "slow-rollback");
    assert!(done.stdout.contains("rollbacks stopped: SIGTERM received"), "{}", done.stdout);
}

#[test]
fn sigint_with_rollbacks_always_plays_them_to_the_end() {
    let child = start(&example("long-action.json"), &["--var", "dir=<tmp>", "--rollback-strategy", "always"]);
    child.signal_after("method-started", libc::SIGINT);
    let done = child.finish();
    done.assert_interrupted(Some("SIGINT"));
    assert_eq!(done.journal["rollbacks"][0]["status"], "succeeded");
    assert!(done.tmp.path().join("rollback-started").exists());
}

#[test]
fn sigusr1_follows_the_rollback_strategy_and_sigusr2_never_rolls_back() {
    for (signal, rollbacks) in [(libc::SIGUSR1, 1), (libc::SIGUSR2, 0)] {
        let child = start(&example("long-action.json"), &["--var", "dir=<tmp>", "--rollback-strategy", "always"]);
        child.signal_after("method-started", signal);
        let done = child.finish();
        done.assert_interrupted(None);
        assert_eq!(done.journal["rollbacks"].as_array().map(Vec::len), Some(rollbacks), "signal {signal}");
    }
}

#[test]
fn a_signal_before_the_run_starts_interrupts_it_before_its_first_activity() {
    // chaostoolkit loads the dynamic configuration before it handles signals (a signal
    // there kills it, without journal or final event). Here the probe is killed and the
    // run ends interrupted at once, with its journal and run-failed.
    let dir = TempDir::new().expect("tmp");
    let experiment = json!({
        "title": "Slow dynamic configuration",
        "description": "A configuration probe that takes 30 s.",
        "configuration": {"slow": {"type": "probe", "provider": {"type": "process", "path": "sh",
            "arguments": ["-c", format!("touch {}/configuring && exec sleep 30", dir.path().display())]}}},
        "steady-state-hypothesis": {"title": "ok", "probes": [
            {"type": "probe", "name": "true", "tolerance": 0, "provider": {"type": "process", "path": "true"}}]},
        "method": [{"type": "action", "name": "a", "provider": {"type": "process", "path": "true"}}]
    });
    let path = write(&dir, "slow-config.json", &experiment);
    let child = start(&path, &[]);
    let marker = dir.path().join("configuring");
    let give_up = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(Instant::now() < give_up, "the configuration probe never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(i32::try_from(child.child.id()).expect("pid"), libc::SIGINT) }, 0);
    let done = child.finish();
    done.assert_interrupted(Some("SIGINT"));
    assert_eq!(done.journal["run"], json!([]));
    assert_eq!(done.journal["steady_states"]["before"], Value::Null);
}

#[test]
fn a_signal_releases_a_hung_http_action() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = TempDir::new().expect("tmp");
    let experiment = json!({
        "title": "A hung endpoint",
        "description": "The endpoint accepts the connection and never answers; the action has no timeout.",
        "method": [
            {"type": "action", "name": "hung-call", "provider": {"type": "http", "url": format!("http://127.0.0.1:{port}/hang")}},
            {"type": "action", "name": "never-reached", "provider": {"type": "process", "path": "true"}}
        ]
    });
    let path = write(&dir, "hung.json", &experiment);
    let child = start(&path, &[]);
    let (connection, _) = listener.accept().expect("the action connects");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(i32::try_from(child.child.id()).expect("pid"), libc::SIGTERM) }, 0);
    let done = child.finish();
    drop(connection);
    done.assert_interrupted(Some("SIGTERM"));
    let run = done.journal["run"].as_array().cloned().unwrap_or_default();
    assert_eq!(run.len(), 1);
    assert_stopped(&run[0], "hung-call");
}
