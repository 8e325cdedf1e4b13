//! Delivery through the real binary: `send` and `run` with `--background`, `--flush-cap`
//! and `--event-budget` against hung endpoints on 127.0.0.1 (the command returns within
//! its cap and prints the summary), and `check`/`schema`/the loader on the per-channel
//! `timeout` and `retries`.
//!
//! Time bounds have generous margins: they tell "bounded by the cap" from "waits for the
//! endpoint" (30 s here), never measure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use notifier_test_support::{Reply, Sink};
use serde_json::Value;

const MARGIN: Duration = Duration::from_secs(3);

/// A sink where `/hang` holds every request for 60 s (or until the sink is dropped).
fn sink() -> Sink {
    Sink::with(
        |r, _| if r.path.starts_with("/hang") { Reply::ok().delay(Duration::from_secs(60)) } else { Reply::ok() },
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `notifier ARGS` in `dir`; returns the output and the wall time.
fn notifier(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        // The outbox goes to $HOME/.local/state too, never the real one.
        .env_remove("XDG_STATE_HOME")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notifier");
    (out, started.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn send_background_with_a_hung_endpoint_returns_within_the_flush_cap() {
    let sink = sink();
    let dir = tempfile::tempdir().unwrap();
    let hang = sink.url("/hang");
    // `timeout: 30`: only the flush cap can end the wait (a second wait after the cap,
    // as dropping the notifier used to do, would take 2 × 4 s).
    let settings = write(
        dir.path(),
        "settings.yaml",
        &format!(
            "notifications:\n  - type: http\n    url: {hang}\n    timeout: 30\n  - type: http\n    url: {}\n",
            sink.url("/ok")
        ),
    );
    let settings = settings.to_str().unwrap();
    let (out, took) = notifier(
        dir.path(),
        &["--settings", settings, "--no-log-file", "send", "run-failed", "--background", "--flush-cap", "4"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(took < Duration::from_secs(4) + MARGIN, "took {took:?}\n{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("#2 http POST {}: delivered (200)", sink.url("/ok"))), "{stdout}");
    assert!(
        stdout.contains("#1 http POST")
            && stdout.contains("not delivered within --flush-cap 4 s (still queued or in flight)"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "1 of 2 notifications failed: run-failed → #1 http POST {hang}: not delivered before shutdown"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("1 notification(s) not delivered within the 4.0 s shutdown cap"), "{stderr}");
    let paths: Vec<String> = sink.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.contains(&"/hang".to_owned()) && paths.contains(&"/ok".to_owned()), "{paths:?}");
}

#[test]
fn send_sequential_is_bounded_by_the_channel_timeout_and_the_event_budget() {
    let sink = sink();
    let dir = tempfile::tempdir().unwrap();
    let channel =
        |path: &str, timeout: &str| format!("  - type: http\n    url: {}\n    timeout: {timeout}\n", sink.url(path));
    let one =
        write(dir.path(), "one.yaml", &format!("notifications:\n{}{}", channel("/hang", "1"), channel("/ok", "5")));
    let (out, took) =
        notifier(dir.path(), &["--settings", one.to_str().unwrap(), "--no-log-file", "send", "run-started"]);
    let stderr = text(&out.stderr);
    assert!(took < Duration::from_secs(1) + MARGIN, "took {took:?}\n{stderr}");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("1 of 2 notifications failed: run-started → #1") && stderr.contains("timed out"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("delivered (200)"));

    // Three hung channels of 20 s each, a 1 s budget for the event.
    let three = write(
        dir.path(),
        "three.yaml",
        &format!("notifications:\n{}{}{}", channel("/hang1", "20"), channel("/hang2", "20"), channel("/hang3", "20")),
    );
    let args = ["--settings", three.to_str().unwrap(), "--no-log-file", "send", "run-failed", "--event-budget", "1"];
    let (out, took) = notifier(dir.path(), &args);
    let stderr = text(&out.stderr);
    assert!(took < Duration::from_secs(1) + MARGIN, "took {took:?}\n{stderr}");
    assert!(stderr.contains("3 of 3 notifications failed"), "{stderr}");
    assert!(stderr.contains("event budget exhausted"), "{stderr}");
}

#[test]
fn run_background_reports_what_the_cap_abandoned() {
    let sink = sink();
    let dir = tempfile::tempdir().unwrap();
    let settings = write(
        dir.path(),
        "settings.yaml",
        &format!("notifications:\n  - type: http\n    url: {}\n    timeout: 30\n", sink.url("/hang")),
    );
    let experiment = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/experiments/local-health.json");
    let args = [
        "--settings",
        settings.to_str().unwrap(),
        "--no-log-file",
        "run",
        experiment.to_str().unwrap(),
        "--background",
        "--flush-cap",
        "1",
    ];
    let (out, took) = notifier(dir.path(), &args);
    let stderr = text(&out.stderr);
    // The experiment runs a few local processes; the notifications add the cap at most.
    assert!(took < Duration::from_secs(1) + MARGIN + Duration::from_secs(2), "took {took:?}\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "a channel never changes the run's outcome\n{stderr}");
    assert!(stderr.contains("2 of 2 notifications failed: run-started → #1"), "{stderr}");
    assert_eq!(stderr.matches("not delivered before shutdown").count(), 2, "{stderr}");
    assert!(dir.path().join("journal.json").exists());
}

#[test]
fn timeout_and_retries_are_checked_described_and_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.yaml",
        "notifications:
  - type: http
    url: https://hooks.example/a
    timeout: 0
    retries: 11
  - type: http
    url: https://hooks.example/b
    timeout: \"5\"
    retries: 1.5
  - type: plugin
    module: notifier.jsonl
    path: events.jsonl
    timeout: 301
",
    );
    let (out, _) = notifier(dir.path(), &["check", bad.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let found: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON diagnostics");
    let seen: Vec<(String, u64, String)> = found
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["pointer"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("invalid-timeout", 4, "/notifications/0/timeout"),
        ("invalid-retries", 5, "/notifications/0/retries"),
        ("invalid-timeout", 8, "/notifications/1/timeout"),
        ("invalid-retries", 9, "/notifications/1/retries"),
        ("invalid-timeout", 13, "/notifications/2/timeout"),
    ] {
        let expected = (expected.0.to_owned(), expected.1, expected.2.to_owned());
        assert!(seen.contains(&expected), "{expected:?} not in {seen:?}");
    }

    let good = write(
        dir.path(),
        "good.yaml",
        "notifications:\n  - type: http\n    url: https://hooks.example/a\n    timeout: 2.5\n    retries: 3\n",
    );
    let (out, _) = notifier(dir.path(), &["check", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let loaded = notifier::load_channels(&good, &notifier::PluginRegistry::new()).unwrap();
    assert_eq!((loaded.channels[0].timeout, loaded.channels[0].retries), (Duration::from_millis(2500), 3));

    let (out, _) = notifier(dir.path(), &["schema"]);
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let bounds = |key: &str| {
        let mut found = Vec::new();
        properties_named(&schema, key, &mut found);
        found.iter().map(|p| (p["minimum"].as_f64(), p["maximum"].as_f64())).collect::<Vec<_>>()
    };
    // http and plugin channels both have a timeout; only http channels retry.
    assert_eq!(bounds("timeout"), [(Some(0.001), Some(300.0)); 2]);
    assert_eq!(bounds("retries"), [(Some(0.0), Some(10.0))]);
}

/// Every `properties.<key>` schema anywhere in `schema`.
fn properties_named<'a>(schema: &'a Value, key: &str, found: &mut Vec<&'a Value>) {
    match schema {
        Value::Object(map) => {
            if let Some(p) = map.get("properties").and_then(|p| p.get(key)) {
                found.push(p);
            }
            map.values().for_each(|v| properties_named(v, key, found));
        }
        Value::Array(items) => items.iter().for_each(|v| properties_named(v, key, found)),
        _ => {}
    }
}

#[test]
fn payloads_larger_than_the_limit_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let settings = write(dir.path(), "settings.yaml", "notifications: []\n");
    let settings = settings.to_str().unwrap();
    // 16 MiB and one byte of valid JSON: only the size is wrong.
    let mut big = String::from("\"");
    big.push_str(&"x".repeat(16 * 1024 * 1024 - 1));
    big.push('"');
    write(dir.path(), "big.json", &big);
    let (out, _) = notifier(
        dir.path(),
        &["--settings", settings, "--no-log-file", "send", "run-started", "--payload", "@big.json"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("big.json: payload file is 16777217 bytes, more than the 16777216 byte limit"), "{stderr}");

    // The same through stdin, which has no size to check first: read up to the limit only.
    let mut child = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["--settings", settings, "--no-log-file", "send", "run-started", "--payload", "@-"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        // The outbox goes to $HOME/.local/state too, never the real one.
        .env_remove("XDG_STATE_HOME")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The notifier may stop reading (and close the pipe) as soon as it has seen too much.
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(big.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("<stdin>: payload file is 16777217 bytes"), "{stderr}");

    let (out, _) =
        notifier(dir.path(), &["--settings", settings, "--no-log-file", "send", "run-started", "--payload", "{nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--payload: not valid JSON: key must be a string"), "{}", text(&out.stderr));
}
