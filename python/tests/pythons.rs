//! The helper on every interpreter of this machine from 3.8 up (pyenv's), and its source
//! checked against Python 3.8's grammar and the size `-c` allows.

#![cfg(unix)]

mod common;

use std::process::Command;

use common::{Modules, all_pythons, map, python};
use notifier_python::{CallOptions, ControlCall, InterruptKind, PluginEvent, ProviderError, PythonProvider};
use serde_json::json;

const NOW: CallOptions = CallOptions::new();

#[test]
fn the_helper_source_is_python_3_8_and_small_enough_for_an_argument() {
    // MAX_ARG_STRLEN on Linux is 128 KiB per argument.
    assert!(notifier_python::HELPER_SOURCE.len() < 100 * 1024, "{}", notifier_python::HELPER_SOURCE.len());
    let check = "import ast, sys\nsrc = sys.stdin.read()\nast.parse(src, feature_version=(3, 8))\n";
    let mut child = Command::new(python())
        .args(["-c", check])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(notifier_python::HELPER_SOURCE.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn every_interpreter_from_3_8_runs_the_same_semantics() {
    let m = Modules::new();
    m.add(
        "acts",
        r#"
        import datetime
        class InterruptExecution(Exception):
            pass
        seen = []
        def out():
            return {"when": datetime.date(2024, 1, 2), "t": (1, 2), "s": {3}, 1: "k"}
        def boom():
            raise ValueError("boom")
        def stop():
            raise InterruptExecution("stop")
        def needs(a):
            return a
        def notify(channel, event):
            seen.append(repr(event["error"]))
        def before_activity_control(context, state=None):
            seen.append(context)
        def take():
            return seen
    "#,
    );
    let pythons = all_pythons();
    eprintln!("interpreters: {pythons:?}");
    for python in pythons {
        let b = m.builder_with(&python).build();
        let info = b.ping(NOW).unwrap_or_else(|e| panic!("{}: {e}", python.display()));
        let p = |func| PythonProvider::new(func, "probe", "acts", func);
        assert_eq!(
            b.run_provider(&p("out"), NOW).unwrap(),
            Ok(json!({"when": "2024-01-02", "t": [1, 2], "s": "{3}", "1": "k"})),
            "{}",
            info.version
        );
        match b.run_provider(&p("boom"), NOW).unwrap() {
            Err(ProviderError::Failed(f)) => {
                assert_eq!(f.message, "ValueError: boom");
                assert_eq!(f.exception.last().unwrap(), "chaoslib.exceptions.ActivityFailed: ValueError: boom\n");
                assert_eq!(f.exception[0], "Traceback (most recent call last):\n");
            }
            other => panic!("{}: {other:?}", info.version),
        }
        match b.run_provider(&p("stop"), NOW).unwrap() {
            Err(ProviderError::Interrupted(i)) => assert_eq!(i.kind, InterruptKind::InterruptExecution),
            other => panic!("{}: {other:?}", info.version),
        }
        assert_eq!(
            b.validate_provider(&p("needs"), NOW).unwrap().unwrap_err().to_string(),
            "required argument 'a' is missing from activity 'needs'"
        );
        let error = json!("An exception was raised: InvalidExperiment('no title')");
        let payload = json!(null);
        let event =
            PluginEvent { name: "validate-failed", phase: "validate", payload: &payload, ts: 1.0, error: Some(&error) };
        b.notify_plugin(&map(json!({"module": "acts"})), &event, NOW).unwrap().unwrap();
        let context = json!({"name": "a"});
        b.call_control(&ControlCall::new("acts", "before_activity_control").context(&context), NOW).unwrap().unwrap();
        assert_eq!(
            b.run_provider(&p("take"), NOW.background(true)).unwrap(),
            Ok(json!(["InvalidExperiment('no title')", {"name": "a"}])),
            "{}",
            info.version
        );
    }
}
