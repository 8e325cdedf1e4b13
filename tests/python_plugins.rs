//! Python notification plugins through the real binary: a plugin module with no Rust
//! function is called in the user's Python interpreter with exactly what chaostoolkit-lib
//! 1.45.1 passes it (compared with `conformance/python-plugin/recorded.json`, recorded from
//! the real `chaos` by `conformance/record_python_plugin.sh`), the http channel next to it
//! receives every event whether the module is installed or not, a plugin that hangs costs
//! its `timeout`, and commands that need no Python start no interpreter.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use notifier_test_support::{Sink, python3};
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn plugin_dir() -> PathBuf {
    Path::new(ROOT).join("conformance/python-plugin")
}

fn experiment(name: &str) -> String {
    format!("{ROOT}/examples/experiments/{name}")
}

/// Runs `notifier` in `dir` with the test interpreter and `PYTHONPATH`.
fn notifier(dir: &Path, python_path: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_notifier"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        // The outbox goes to $HOME/.local/state too, never the real one.
        .env_remove("XDG_STATE_HOME")
        .env("NO_COLOR", "1")
        .env("NOTIFIER_PYTHON", python3())
        .env_remove("VIRTUAL_ENV")
        .env_remove("RUST_LOG");
    match python_path {
        Some(p) => command.env("PYTHONPATH", p),
        None => command.env_remove("PYTHONPATH"),
    };
    command.output().expect("run notifier")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The calls the recording plugin wrote, with the record path put back to `<record>`.
fn calls(record: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(record).unwrap_or_default();
    text.lines()
        .map(|line| {
            let mut call: Value = serde_json::from_str(line).expect("a JSON line");
            call["channel"]["record_to"] = json!("<record>");
            call
        })
        .collect()
}

/// Journal keys are the same but for the version key, which names the implementation.
fn normalise(mut call: Value) -> Value {
    if let Some(keys) = call["event"]["payload"]["dict"].as_array_mut() {
        for key in keys.iter_mut() {
            if key == "notifier-version" {
                *key = json!("chaoslib-version");
            }
        }
    }
    call
}

#[test]
fn plugins_receive_what_chaostoolkit_passes_them() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record.jsonl");
    let template = std::fs::read_to_string(plugin_dir().join("settings.template.yaml")).unwrap();
    let settings = dir.path().join("settings.yaml");
    std::fs::write(&settings, template.replace("<record>", record.to_str().unwrap())).unwrap();
    let settings = settings.to_str().unwrap();
    let plugins = plugin_dir();

    let run = notifier(dir.path(), Some(&plugins), &["--settings", settings, "run", &experiment("local-health.json")]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let validate = notifier(
        dir.path(),
        Some(&plugins),
        &["--settings", settings, "validate", &experiment("invalid-no-description.json")],
    );
    assert_eq!(validate.status.code(), Some(1), "{}", text(&validate.stderr));

    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(plugins.join("recorded.json")).unwrap()).unwrap();
    let expected: Vec<Value> = recorded["calls"].as_array().unwrap().iter().cloned().map(normalise).collect();
    let ours: Vec<Value> = calls(&record).into_iter().map(normalise).collect();
    assert_eq!(ours.len(), expected.len(), "calls:\n{ours:#?}");
    for (i, (ours, theirs)) in ours.iter().zip(&expected).enumerate() {
        assert_eq!(ours, theirs, "call {i} differs from chaostoolkit's");
    }
    // The error reached the plugin as an exception object, as chaostoolkit-lib passes it.
    let error = &ours.iter().find(|c| c["event"]["name"] == "validate-failed").unwrap()["event"]["error"];
    assert_eq!(error["repr"], "InvalidExperiment('experiment requires a description')");
    assert_eq!(error["is_exception"], true);

    // The class in place of a function and the module that is not installed are skipped,
    // each alone, with chaostoolkit-lib's messages.
    let stderr = text(&run.stderr);
    assert!(stderr.contains("could not find Python plugin 'ctkrecplug_is_not_installed' for notification"), "{stderr}");
    assert!(stderr.contains("could not find function 'NotAFunction' in plugin 'ctkrecplug'"), "{stderr}");
}

/// An http channel next to a Python plugin, with the plugin module installed or not.
fn http_and_plugin(sink: &Sink, record: &Path) -> String {
    format!(
        "notifications:\n  - type: plugin\n    module: ctkrecplug\n    record_to: {}\n  - type: http\n    url: {}\n",
        record.display(),
        sink.url("/hook")
    )
}

#[test]
fn the_http_channel_next_to_a_python_plugin_gets_every_event_installed_or_not() {
    for installed in [true, false] {
        let sink = Sink::start();
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("record.jsonl");
        let settings = dir.path().join("settings.yaml");
        std::fs::write(&settings, http_and_plugin(&sink, &record)).unwrap();
        let plugins = plugin_dir();
        let python_path = installed.then_some(plugins.as_path());
        let out = notifier(
            dir.path(),
            python_path,
            &["--settings", settings.to_str().unwrap(), "run", &experiment("local-health.json")],
        );
        assert_eq!(out.status.code(), Some(0), "installed: {installed}\n{}", text(&out.stderr));
        let names: Vec<String> =
            sink.requests().iter().map(|r| r.json()["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, ["run-started", "run-completed"], "installed: {installed}");
        let plugin_calls: Vec<String> =
            calls(&record).iter().map(|c| c["event"]["name"].as_str().unwrap().to_owned()).collect();
        if installed {
            assert_eq!(plugin_calls, ["run-started", "run-completed"]);
        } else {
            assert!(plugin_calls.is_empty());
            let stderr = text(&out.stderr);
            assert!(stderr.contains("settings.yaml:2:5: notification channel #1"), "{stderr}");
            assert!(stderr.contains("could not find Python plugin 'ctkrecplug' for notification"), "{stderr}");
        }
    }
}

#[test]
fn a_hanging_python_plugin_costs_its_timeout_and_the_next_event_still_goes_out() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("modules");
    std::fs::create_dir(&modules).unwrap();
    std::fs::write(
        modules.join("hangplug.py"),
        "import time\n\ndef notify(channel, event):\n    if event['name'] == 'run-started':\n        time.sleep(60)\n",
    )
    .unwrap();
    let settings = dir.path().join("settings.yaml");
    std::fs::write(
        &settings,
        format!(
            "notifications:\n  - type: plugin\n    module: hangplug\n    timeout: 1\n  - type: http\n    url: {}\n",
            sink.url("/hook")
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = notifier(
        dir.path(),
        Some(&modules),
        &["--settings", settings.to_str().unwrap(), "--no-log-file", "run", &experiment("local-health.json")],
    );
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(took < Duration::from_secs(30), "hang guard: {took:?}");
    assert!(
        stderr.contains("1 of 4 notifications failed: run-started → #1 plugin hangplug.notify (Python): timed out"),
        "{stderr}"
    );
    assert_eq!(sink.requests().len(), 2, "the http channel got both events");
}

#[test]
fn commands_without_python_channels_start_no_interpreter() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    // An "interpreter" that leaves a mark when it is started at all.
    let mark = dir.path().join("python-was-started");
    let fake = dir.path().join("fake-python");
    std::fs::write(&fake, format!("#!/bin/sh\ntouch {}\nexit 1\n", mark.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let settings = dir.path().join("settings.yaml");
    std::fs::write(&settings, format!("notifications:\n  - type: http\n    url: {}\n", sink.url("/hook"))).unwrap();
    let settings = settings.to_str().unwrap();
    let fake = fake.to_str().unwrap();
    for args in [
        vec!["--python", fake, "--settings", settings, "send", "run-started"],
        vec!["--python", fake, "--settings", settings, "run", &experiment("local-health.json")],
        vec!["--python", fake, "--settings", settings, "validate", &experiment("local-health.json")],
        vec!["--python", fake, "check", settings],
    ] {
        let out = notifier(dir.path(), None, &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(!mark.exists(), "{args:?} started an interpreter");
    }
    // The same fake interpreter is started, and refused, as soon as a channel needs it.
    std::fs::write(dir.path().join("settings.yaml"), "notifications:\n  - type: plugin\n    module: anyplug\n")
        .unwrap();
    let out = notifier(dir.path(), None, &["--python", fake, "--settings", settings, "send", "run-started"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(mark.exists(), "a Python plugin channel starts the interpreter");
}
