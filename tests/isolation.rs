//! No channel is muted by another: a channel that cannot be used (a malformed entry, an
//! unknown plugin, an unset `${VAR}`) is skipped alone at run time, with a warning naming
//! its position, and every other channel still delivers, through the real binary (`send`,
//! `run`, `validate`) and the library loader, against a real loopback sink.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use notifier::{Event, FromSettings, LoadError, Notifier, Outcome, PluginRegistry};
use notifier_test_support::Sink;
use serde_json::json;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Two good http channels around four broken ones, each broken in a way users write:
/// a third-party Python plugin copied from its README, the placeholder module of
/// chaostoolkit-lib's docstring, `headers` written as a list, and an unset variable.
fn settings(sink: &Sink) -> String {
    format!(
        "\
notifications:
  - type: http
    url: {a}
  - type: plugin
    module: chaoshumio.notification
    humio_url: https://cloud.humio.com/
    token: ${{HUMIO_TOKEN_FOR_TESTS}}
  - type: http
    url: {bad}
    headers:
      - Authorization: Bearer x
  - type: plugin
    module: somepackage.somemodule
  - type: http
    url: {unset}
  - type: http
    url: {b}
    events: [run-started, run-completed, validate-started, validate-completed]
controls:
  my-control:
    provider:
      type: python
      module: not.checked.here
",
        a = sink.url("/a"),
        bad = sink.url("/bad"),
        unset = sink.url("/${NOTIFIER_TEST_SURELY_UNSET}"),
        b = sink.url("/b"),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn notifier(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        // The outbox goes to $HOME/.local/state too, never the real one.
        .env_remove("XDG_STATE_HOME")
        .env("NO_COLOR", "1")
        .env("HUMIO_TOKEN_FOR_TESTS", "t0ken-for-tests")
        .env_remove("NOTIFIER_TEST_SURELY_UNSET")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notifier")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The events the sink received on `path`, in order.
fn received(sink: &Sink, path: &str) -> Vec<String> {
    sink.requests().iter().filter(|r| r.path == path).map(|r| r.json()["name"].as_str().unwrap().to_owned()).collect()
}

/// The skipped channels are named with their position on stderr (numbers are 1-based).
#[track_caller]
fn assert_skip_warnings(stderr: &str, settings: &str) {
    for (channel, line) in [(2, 4), (3, 8), (4, 12), (5, 14)] {
        let warning = format!("warning: {settings}:{line}:5: notification channel #{channel} (");
        assert!(stderr.contains(&warning), "no warning `{warning}…`:\n{stderr}");
    }
    assert!(!stderr.contains("t0ken-for-tests"), "a secret reached stderr:\n{stderr}");
}

#[test]
fn send_delivers_to_every_usable_channel_and_names_the_skipped_ones() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "settings.yaml", &settings(&sink));
    let path = path.to_str().unwrap();
    let out = notifier(dir.path(), &["--settings", path, "--no-log-file", "send", "run-started"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    // A skipped channel is a notification that did not arrive: `send` says so.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(received(&sink, "/a"), ["run-started"]);
    assert_eq!(received(&sink, "/b"), ["run-started"]);
    assert_eq!(sink.requests().len(), 2, "nothing reached the broken channels' URLs");
    assert!(stdout.contains("#1 http POST") && stdout.contains("/a: delivered (200)"), "{stdout}");
    assert!(stdout.contains("#6 http POST") && stdout.contains("/b: delivered (200)"), "{stdout}");
    // No Python module of that name where the notifier runs: chaostoolkit-lib's message.
    assert!(
        stdout.contains(&format!(
            "#2 plugin chaoshumio.notification.notify (Python): skipped: {path}:4:5: could not find Python plugin \
             'chaoshumio.notification' for notification"
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("#3 http POST {}: skipped: ", sink.url("/bad"))), "{stdout}");
    assert!(stdout.contains("headers"), "the reason names the problem: {stdout}");
    assert!(stdout.contains("#5 http POST") && stdout.contains("`NOTIFIER_TEST_SURELY_UNSET` is not set"), "{stdout}");
    assert_skip_warnings(&stderr, path);
    assert!(
        stderr.contains(
            "4 of 6 notifications not delivered: #2 plugin chaoshumio.notification.notify (Python): skipped (1 event)"
        ),
        "{stderr}"
    );
}

#[test]
fn run_and_validate_deliver_every_event_to_the_usable_channels() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "settings.yaml", &settings(&sink));
    let path = path.to_str().unwrap();
    let experiment = format!("{ROOT}/examples/experiments/local-health.json");
    let out = notifier(dir.path(), &["--settings", path, "--no-log-file", "run", &experiment]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "a skipped channel never changes the flow's outcome\n{stderr}");
    assert_eq!(received(&sink, "/a"), ["run-started", "run-completed"]);
    assert_eq!(received(&sink, "/b"), ["run-started", "run-completed"]);
    assert_skip_warnings(&stderr, path);
    // Four skipped channels × two events, each channel named once.
    assert!(stderr.contains("8 of 12 notifications not delivered: #2 plugin"), "{stderr}");
    assert!(stderr.contains("skipped (2 events)"), "{stderr}");

    let out = notifier(dir.path(), &["--settings", path, "--no-log-file", "validate", &experiment]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(received(&sink, "/a"), ["run-started", "run-completed", "validate-started", "validate-completed"]);
    assert_eq!(received(&sink, "/b"), ["run-started", "run-completed", "validate-started", "validate-completed"]);
}

#[test]
fn background_mode_skips_without_queueing() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "settings.yaml", &settings(&sink));
    let path = path.to_str().unwrap();
    let out = notifier(dir.path(), &["--settings", path, "--no-log-file", "send", "run-started", "--background"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(sink.wait_for(2, Duration::from_secs(10)).len(), 2);
    assert_eq!(stdout.matches(": skipped: ").count(), 4, "{stdout}");
    assert_eq!(stdout.matches(": delivered (200)").count(), 2, "{stdout}");
}

#[test]
fn the_library_loader_skips_alone_and_the_strict_one_refuses() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "settings.yaml", &settings(&sink));
    let n = Notifier::from_settings_file_with(&path, &PluginRegistry::new(), |b| {
        b.env(|name| (name == "HUMIO_TOKEN_FOR_TESTS").then(|| "t0ken-for-tests".to_owned()))
    });
    assert_eq!(n.len(), 6, "every channel keeps its place and number");
    let report = n.notify(Event::RunFailed, json!({"title": "t"}), None);
    let kinds: Vec<&str> = report
        .channels
        .iter()
        .map(|c| match &c.outcome {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Filtered => "filtered",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["delivered", "skipped", "skipped", "skipped", "skipped", "filtered"]);
    assert_eq!(received(&sink, "/a"), ["run-failed"]);
    let stats = n.stats();
    assert_eq!((stats.delivered, stats.skipped, stats.filtered), (1, 4, 1));
    assert_eq!(stats.lost(), 4, "a skipped notification counts as lost");
    assert_eq!(report.failures().count(), 4);

    match Notifier::try_from_settings_file(&path, &PluginRegistry::new()) {
        Err(LoadError::Invalid { diagnostics, .. }) => {
            assert!(diagnostics.iter().any(|d| d.is_error() && d.pointer.starts_with("/notifications/2/headers")))
        }
        other => panic!("strict loading refuses a file with errors: {other:?}"),
    }
}

#[test]
fn only_a_file_that_gives_no_list_of_channels_gives_no_channels() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("mapping.yaml", "notifications:\n  webhook:\n    type: http\n    url: http://127.0.0.1:9/x\n"),
        ("not-yaml.yaml", "notifications: [\n  - type: http\n"),
    ] {
        let path = write(dir.path(), name, body);
        let n = Notifier::from_settings_file(&path);
        assert!(n.is_empty(), "{name}");
        let out = notifier(dir.path(), &["--settings", path.to_str().unwrap(), "--no-log-file", "send", "run-started"]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(&format!("{}:", path.display())), "{}", text(&out.stderr));
    }
}

#[test]
fn check_says_which_channels_run_time_skips() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "settings.yaml", &settings(&sink));
    let out = notifier(dir.path(), &["check", "settings.yaml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "note: settings.yaml: at run time channel #3 is skipped, and channels #2, #4 and #5 are skipped \
             unless their warnings are fixed where it runs; the other 2 channels still deliver"
        ),
        "{stdout}"
    );
    let out = notifier(dir.path(), &["check", "--format", "json", "settings.yaml"]);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let headers = items.iter().find(|d| d["pointer"] == "/notifications/2/headers").expect("the headers error");
    assert_eq!(headers["run_time"], json!({"effect": "channel-skipped", "channel": 3}));
    for (pointer, channel) in
        [("/notifications/1/module", 2), ("/notifications/3/module", 4), ("/notifications/4/url", 5)]
    {
        let d = items.iter().find(|d| d["pointer"] == pointer).unwrap_or_else(|| panic!("a warning at {pointer}"));
        assert_eq!(d["severity"], "warning");
        assert_eq!(d["run_time"], json!({"effect": "channel-may-be-skipped", "channel": channel}), "{d}");
    }
}
