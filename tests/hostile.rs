//! Header injection and invalid header names in settings files are refused when the
//! file is loaded, by every entry point: `notifier check` reports them, `notifier send`
//! and the run-time loader of the library skip the channels that have them, and a
//! variable whose value would inject a header skips its channel when the notifier is
//! built. Nothing is ever sent with such a header.
//!
//! The runtime side (values from variables, literal channel definitions, payloads and
//! responses) is in `notifier-core/tests/hostile.rs`.

use std::path::Path;
use std::process::{Command, Output};

use notifier::schema::Code;
use notifier::{FromSettings, LoadError, Notifier, PluginRegistry};
use notifier_test_support::Sink;

fn notifier(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        // The outbox goes to $HOME/.local/state too, never the real one.
        .env_remove("XDG_STATE_HOME")
        .env("NO_COLOR", "1")
        .envs(envs.iter().copied())
        .output()
        .expect("run the notifier binary")
}

fn hostile_settings(sink: &Sink) -> String {
    format!(
        "notifications:\n  - type: http\n    url: {url}/crlf\n    headers:\n      X-Tag: \"ok\\r\\nX-Injected: yes\"\n  \
         - type: http\n    url: {url}/lf-default\n    headers:\n      X-Tag: \"${{UNSET:-ok\\nX-Injected: yes}}\"\n  \
         - type: http\n    url: {url}/name\n    headers:\n      \"Bad Name\": v\n      \"X-A:B\": v\n",
        url = sink.url("")
    )
}

#[test]
fn check_send_and_the_loader_refuse_injected_headers() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.yaml");
    std::fs::write(&path, hostile_settings(&sink)).unwrap();
    let file = path.to_str().unwrap();

    let out = notifier(dir.path(), &[], &["check", "--format", "json", file]);
    assert_eq!(out.status.code(), Some(1));
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<(&str, &str)> =
        items.iter().map(|d| (d["code"].as_str().unwrap(), d["pointer"].as_str().unwrap())).collect();
    for expected in [
        ("header-injection", "/notifications/0/headers/X-Tag"),
        ("header-injection", "/notifications/1/headers/X-Tag"),
        ("invalid-header-name", "/notifications/2/headers/Bad Name"),
        ("invalid-header-name", "/notifications/2/headers/X-A:B"),
    ] {
        assert!(codes.contains(&expected), "{expected:?} missing from {codes:?}");
    }

    let out = notifier(dir.path(), &[], &["--settings", file, "--no-log-file", "send", "run-started"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stdout.matches(": skipped: ").count(), 3, "{stdout}");
    assert!(stderr.contains("line break") && stderr.contains("not a valid HTTP header name"), "{stderr}");

    let loaded = notifier::load_channels(&path, &PluginRegistry::new()).expect("the list of channels is usable");
    assert_eq!(loaded.skipped().count(), 3, "every channel has an injected or invalid header");
    assert!(loaded.diagnostics.iter().any(|d| d.code == Code::HeaderInjection), "{:?}", loaded.diagnostics);
    match loaded.into_strict() {
        Err(LoadError::Invalid { diagnostics, .. }) => {
            assert!(diagnostics.iter().any(|d| d.code == Code::HeaderInjection), "{diagnostics:?}")
        }
        other => panic!("strict loading refuses the file, got {other:?}"),
    }
    let n = Notifier::from_settings_file(&path);
    let report = n.notify(notifier::Event::RunStarted, serde_json::Value::Null, None);
    assert_eq!(report.failures().count(), 3, "the lenient loader skips each channel: {report:?}");
    assert!(sink.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_variable_that_would_inject_a_header_disables_its_channel() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.yaml");
    std::fs::write(
        &path,
        format!(
            "notifications:\n  - type: http\n    url: {}/var\n    headers:\n      X-Tag: \"${{TAG}}\"\n",
            sink.url("")
        ),
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let log = dir.path().join("n.log");
    let out = notifier(
        dir.path(),
        &[("TAG", "ok\r\nX-Injected: yes")],
        &["--settings", file, "--log-file", log.to_str().unwrap(), "send", "run-started"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("header `X-Tag` is not a valid HTTP header"), "{stdout}");
    assert!(stderr.contains("#1 http POST") && stderr.contains("skipped (1 event)"), "{stderr}");
    assert!(sink.requests().is_empty(), "nothing was sent");
    // `check` cannot know the value: the file itself is fine.
    let out = notifier(dir.path(), &[("TAG", "ok\r\nX-Injected: yes")], &["check", file]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}
